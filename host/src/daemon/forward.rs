//! Published ports: the daemon follows the agent's port events and opens a host listener
//! per published port. Each accepted TCP connection gets its own vsock connection
//! (DESIGN.md: one connection per stream) and `copy_bidirectional`, which passes each
//! direction's end on (the [`HalfClose`] frames carry it over vsock). UDP ports: one vsock
//! connection per client address ([`super::udp`]).
//!
//! [`HalfClose`]: berth_protocol::halfclose::HalfClose

use berth_protocol::halfclose::COPY_BUF;
use std::net::IpAddr;
use std::time::Duration;

use berth_protocol::{PortAction, PortEvent, Proto};
use futures_util::StreamExt;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

use super::ports::PortKey;
use super::proto::{EventKind, Phase};
use super::shared::Shared;
use crate::agent::PortEvents;

/// How long the snapshot may keep coming before it counts as complete (the agent writes
/// it all at once; a quiet stream after connecting means the snapshot is done).
const SNAPSHOT_SETTLE: Duration = Duration::from_millis(500);

/// An open host listener; dropping it closes the listener (open connections go on).
#[derive(Debug)]
pub struct Listener(JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Follows the agent's port events while the VM runs: opens and closes host listeners,
/// reconnecting (and reconciling against the fresh snapshot) when the stream ends.
pub async fn watch_ports(shared: Shared) {
    let mut phase = shared.watch_phase();
    loop {
        // Ports exist only while the engine serves; a stopped VM closes them all.
        while *phase.borrow_and_update() != Phase::Running {
            drop(shared.lock().ports.clear());
            if phase.changed().await.is_err() {
                return;
            }
        }
        match shared.vm().agent() {
            Ok(agent) => match agent.port_events().await {
                Ok(events) => {
                    tokio::select! {
                        _ = follow(&shared, events) => {}
                        _ = phase.changed() => {}
                    }
                }
                Err(e) => tracing::debug!("port events: {e}"),
            },
            Err(e) => tracing::debug!("port events: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn follow(shared: &Shared, mut events: PortEvents) {
    shared.lock().ports.begin_resync();
    let mut synced = false;
    loop {
        let next = if synced {
            events.next().await
        } else {
            match tokio::time::timeout(SNAPSHOT_SETTLE, events.next()).await {
                Ok(next) => next,
                Err(_) => {
                    end_resync(shared);
                    synced = true;
                    continue;
                }
            }
        };
        match next {
            Some(Ok(event)) => {
                if !event.snapshot && !synced {
                    end_resync(shared);
                    synced = true;
                }
                apply(shared, event).await;
            }
            Some(Err(e)) => {
                tracing::debug!("port events: {e}");
                return;
            }
            None => return,
        }
    }
}

fn end_resync(shared: &Shared) {
    let stale = shared.lock().ports.end_resync();
    if !stale.is_empty() {
        shared.event(
            EventKind::PortRemoved,
            format!("{} stale port listener(s) closed", stale.len()),
        );
    }
}

async fn apply(shared: &Shared, event: PortEvent) {
    let key = PortKey::of(&event);
    let what = format!(
        "{}:{} -> container {} port {}",
        event.host_ip,
        event.host_port,
        short(&event.container_id),
        event.container_port
    );
    if event.action == PortAction::Removed {
        drop(shared.lock().ports.removed(&event));
        shared.event(EventKind::PortRemoved, format!("closed {what}"));
        return;
    }
    if !shared.lock().ports.added(&event) {
        return;
    }
    let bind_address = shared.lock().settings.bind_address;
    let ip = host_ip(&event.host_ip, bind_address);
    let port = event.host_port;
    let bound = match event.proto {
        Proto::Tcp => TcpListener::bind((ip, port))
            .await
            .map(|listener| tokio::spawn(serve_tcp(listener, shared.clone(), port))),
        Proto::Udp => UdpSocket::bind((ip, port))
            .await
            .map(|socket| tokio::spawn(super::udp::serve(socket, shared.clone(), port))),
    };
    let proto = match event.proto {
        Proto::Tcp => "",
        Proto::Udp => "/udp",
    };
    match bound {
        Ok(task) => {
            drop(
                shared
                    .lock()
                    .ports
                    .opened(&key, Listener(task), ip.to_string()),
            );
            shared.event(
                EventKind::PortAdded,
                format!("forwarding {ip}:{port}{proto} ({what})"),
            );
        }
        Err(e) => {
            let message = format!(
                "Cannot listen on {ip}:{port}{proto} for container {}: {e}",
                short(&event.container_id)
            );
            shared.lock().ports.failed(&key, message.clone());
            shared.event(EventKind::PortError, message);
        }
    }
}

/// Each connection to the host port becomes a `forward` to the same published port.
async fn serve_tcp(listener: TcpListener, shared: Shared, port: u16) {
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let vm = shared.vm();
        tokio::spawn(async move {
            let guest = match vm.agent() {
                Ok(agent) => agent
                    .forward(Proto::Tcp, port)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match guest {
                Ok(mut guest) => {
                    let _ = tokio::io::copy_bidirectional_with_sizes(
                        &mut client,
                        &mut guest,
                        COPY_BUF,
                        COPY_BUF,
                    )
                    .await;
                }
                Err(e) => tracing::debug!("port {port}: {e}"),
            }
        });
    }
}

/// Where the host listens: the container's default (loopback) follows the `bind_address`
/// setting; an address the user gave explicitly is kept.
fn host_ip(asked: &str, bind_address: IpAddr) -> IpAddr {
    match asked.parse::<IpAddr>() {
        Ok(ip) if !ip.is_loopback() => ip,
        _ => bind_address,
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_follows_the_setting_and_explicit_addresses_stay() {
        let lan: IpAddr = "0.0.0.0".parse().unwrap();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(host_ip("127.0.0.1", lan), lan);
        assert_eq!(host_ip("", lo), lo);
        assert_eq!(host_ip("0.0.0.0", lo), lan);
        assert_eq!(host_ip("192.168.1.5", lo).to_string(), "192.168.1.5");
    }
}
