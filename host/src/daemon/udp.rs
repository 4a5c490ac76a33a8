//! Published UDP ports: one host socket per port, and per client address (a flow, see
//! [`super::udp_flows`]) one vsock connection to the agent (`forward` of UDP), whose frames
//! carry the client's datagrams in and the replies out (berth_protocol::datagram).
//!
//! The receive loop never waits on a flow: a new flow's connection is opened by its own
//! task while its first datagrams wait in a short queue, and a datagram that finds the
//! queue full is dropped, as a busy network drops it. Closing the port (dropping the
//! listener's task) ends every flow with it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_protocol::datagram;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::shared::Shared;
use super::udp_flows::{Activity, FlowTable, IDLE, MAX_FLOWS};
use crate::vm::Vm;

/// Datagrams a flow may hold while its connection opens or its writer is busy.
const QUEUE: usize = 256;
/// The largest UDP payload over IPv6 (65,527) fits; nothing arriving is ever cut short.
const RECV_BUF: usize = 65_536;

/// One flow's task; dropping it ends the flow.
#[derive(Debug)]
struct Flow {
    datagrams: mpsc::Sender<Vec<u8>>,
    task: AbortHandle,
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the host socket of published UDP `port` until the task is dropped.
pub async fn serve(socket: UdpSocket, shared: Shared, port: u16) {
    let socket = Arc::new(socket);
    let mut flows: FlowTable<Flow> = FlowTable::new(MAX_FLOWS);
    let (ended_tx, mut ended) = mpsc::unbounded_channel::<(SocketAddr, u64)>();
    let mut next_id = 0u64;
    let mut buf = vec![0u8; RECV_BUF];
    loop {
        let (n, peer) = tokio::select! {
            Some((peer, id)) = ended.recv() => {
                drop(flows.ended(&peer, id));
                continue;
            }
            received = socket.recv_from(&mut buf) => match received {
                Ok(got) => got,
                Err(e) => {
                    // Nothing a client sends can make this fail for long; never spin.
                    tracing::debug!("UDP port {port}: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let mut payload = buf[..n].to_vec();
        if let Some(flow) = flows.get(&peer) {
            match flow.datagrams.try_send(payload) {
                Ok(()) => {
                    if let Some(activity) = flows.activity(&peer) {
                        activity.touch();
                    }
                    continue;
                }
                Err(mpsc::error::TrySendError::Full(_)) => continue,
                // The flow ended and its report is on the way: start the next one now.
                Err(mpsc::error::TrySendError::Closed(back)) => {
                    drop(flows.remove(&peer));
                    payload = back;
                }
            }
        }
        next_id += 1;
        let (flow, activity) = start(&shared.vm(), &socket, port, peer, next_id, &ended_tx);
        let _ = flow.datagrams.try_send(payload);
        drop(flows.insert(peer, next_id, flow, activity));
    }
}

/// Spawns the task of a new flow from `peer`.
fn start(
    vm: &Vm,
    socket: &Arc<UdpSocket>,
    port: u16,
    peer: SocketAddr,
    id: u64,
    ended: &mpsc::UnboundedSender<(SocketAddr, u64)>,
) -> (Flow, Activity) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let activity = Activity::new(Instant::now());
    let (vm, socket, ended, flow_activity) =
        (vm.clone(), socket.clone(), ended.clone(), activity.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = relay(vm, socket, port, peer, rx, flow_activity).await {
            tracing::debug!("UDP port {port}, client {peer}: {e}");
        }
        let _ = ended.send((peer, id));
    });
    let flow = Flow {
        datagrams: tx,
        task: task.abort_handle(),
    };
    (flow, activity)
}

/// One flow: the client's datagrams to the agent, the agent's back to the client, until the
/// flow has been idle for [`IDLE`] or the connection ends.
async fn relay(
    vm: Vm,
    socket: Arc<UdpSocket>,
    port: u16,
    peer: SocketAddr,
    mut datagrams: mpsc::Receiver<Vec<u8>>,
    activity: Activity,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let stream = vm.agent()?.forward_udp(port).await?;
    let (mut from_guest, mut to_guest) = tokio::io::split(stream);
    let outbound = async {
        loop {
            let idle = activity.idle_at(Instant::now());
            if idle >= IDLE {
                return Ok(());
            }
            // Replies count as activity too: on a timeout, look again before giving up.
            match tokio::time::timeout(IDLE - idle, datagrams.recv()).await {
                Ok(Some(payload)) => datagram::write(&mut to_guest, &payload).await?,
                Ok(None) => return Ok::<(), std::io::Error>(()),
                Err(_) => {}
            }
        }
    };
    let inbound = async {
        let mut buf = Vec::with_capacity(2048);
        while datagram::read(&mut from_guest, &mut buf).await? {
            activity.touch();
            socket.send_to(&buf, peer).await?;
        }
        Ok::<(), std::io::Error>(())
    };
    tokio::select! {
        result = outbound => result?,
        result = inbound => result?,
    }
    Ok(())
}
