//! `port-events`: the published ports as a snapshot, then each change as the engine
//! publishes it (DESIGN.md: ports are pushed, not polled).
//!
//! The events stream is opened BEFORE the snapshot is read, so a port published in
//! between is never missed (it may be reported twice: the host treats `added` as
//! idempotent). When the engine goes away the stream ends; the host reconnects and gets
//! a fresh snapshot to reconcile against.

use berth_protocol::{PortAction, PortEvent, Proto, Response};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{docker, reply, Conn, Context, Stream};

/// `/events?filters={"type":["port"]}`.
const EVENTS: &str = "/events?filters=%7B%22type%22%3A%5B%22port%22%5D%7D";

pub async fn stream<S: Stream>(mut conn: Conn<S>, ctx: &Context) -> std::io::Result<()> {
    let socket = &ctx.docker_socket;
    let opened = async {
        let events = docker::send(socket, Method::GET, EVENTS, Empty::<Bytes>::new()).await?;
        if !events.status().is_success() {
            let status = events.status().as_u16();
            let message = "the events stream was refused".into();
            return Err(docker::DockerError::Status { status, message });
        }
        let containers = docker::get_json(socket, "/containers/json").await?;
        Ok::<_, docker::DockerError>((events, containers))
    };
    let (events, containers) = match opened.await {
        Ok(opened) => opened,
        Err(e) => {
            let message = format!("Cannot follow the published ports: {}", super::chain(&e));
            return reply(&mut conn, &Response::Error { message }).await;
        }
    };
    reply(&mut conn, &Response::Ok).await?;
    let (mut input, mut output) = tokio::io::split(conn);
    for event in snapshot(&containers) {
        output.write_all(&berth_protocol::to_line(&event)).await?;
    }
    output.flush().await?;
    let mut body = events.into_body();
    let mut pending = Vec::new();
    let mut scratch = [0u8; 64];
    loop {
        tokio::select! {
            frame = body.frame() => {
                let Some(Ok(frame)) = frame else { break };
                let Ok(data) = frame.into_data() else { continue };
                pending.extend_from_slice(&data);
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    if let Some(event) = serde_json::from_slice(&line).ok().and_then(|v| from_event(&v)) {
                        output.write_all(&berth_protocol::to_line(&event)).await?;
                    }
                }
                output.flush().await?;
            }
            // The host sends nothing after its request: EOF (or an error) means it left.
            read = input.read(&mut scratch) => if !matches!(read, Ok(n) if n > 0) { break },
        }
    }
    output.shutdown().await
}

/// One `added` event per published port of `GET /containers/json`.
fn snapshot(containers: &Value) -> Vec<PortEvent> {
    let mut events = Vec::new();
    for container in containers.as_array().into_iter().flatten() {
        let id = container["Id"].as_str().unwrap_or_default();
        for port in container["Ports"].as_array().into_iter().flatten() {
            let (Some(host_port), Some(container_port), Some(proto)) = (
                port["PublicPort"].as_u64(),
                port["PrivatePort"].as_u64(),
                proto(port["Type"].as_str()),
            ) else {
                continue;
            };
            events.push(PortEvent {
                action: PortAction::Added,
                snapshot: true,
                container_id: id.to_string(),
                proto,
                host_ip: port["IP"].as_str().unwrap_or("0.0.0.0").to_string(),
                host_port: host_port as u16,
                container_port: container_port as u16,
            });
        }
    }
    events
}

/// A `port` event of the engine (`add`/`remove`, attributes proto, host_ip, host_port,
/// container_port) as the protocol's.
fn from_event(event: &Value) -> Option<PortEvent> {
    if event["Type"] != "port" {
        return None;
    }
    let action = match event["Action"].as_str()? {
        "add" => PortAction::Added,
        "remove" => PortAction::Removed,
        _ => return None,
    };
    let attrs = &event["Actor"]["Attributes"];
    let number = |key: &str| attrs[key].as_str()?.parse::<u16>().ok();
    Some(PortEvent {
        action,
        snapshot: false,
        container_id: event["Actor"]["ID"].as_str()?.to_string(),
        proto: proto(attrs["proto"].as_str())?,
        host_ip: attrs["host_ip"].as_str().unwrap_or("0.0.0.0").to_string(),
        host_port: number("host_port")?,
        container_port: number("container_port")?,
    })
}

fn proto(name: Option<&str>) -> Option<Proto> {
    match name? {
        "tcp" => Some(Proto::Tcp),
        "udp" => Some(Proto::Udp),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_events_map_to_port_events() {
        let event = serde_json::json!({
            "Type": "port", "Action": "remove",
            "Actor": {"ID": "abc", "Attributes": {
                "proto": "tcp", "host_ip": "127.0.0.1", "host_port": "8080",
                "container_port": "80", "container_ip": "172.17.0.2"}}
        });
        let got = from_event(&event).unwrap();
        assert_eq!(got.action, PortAction::Removed);
        assert_eq!((got.host_port, got.container_port), (8080, 80));
        assert_eq!(got.host_ip, "127.0.0.1");
        assert!(!got.snapshot);
        assert!(from_event(&serde_json::json!({"Type": "container", "Action": "start"})).is_none());
    }

    #[test]
    fn the_snapshot_keeps_only_published_ports() {
        let containers = serde_json::json!([{
            "Id": "abc",
            "Ports": [
                {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"PrivatePort": 443, "Type": "tcp"}
            ]
        }]);
        let got = snapshot(&containers);
        assert_eq!(got.len(), 1);
        assert!(got[0].snapshot && got[0].host_port == 8080);
    }
}
