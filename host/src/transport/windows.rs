//! vsock to a Hyper-V guest: Hyper-V sockets (`AF_HYPERV`). The guest listens on AF_VSOCK
//! port `p`; the host reaches it at the VM's runtime GUID with the service GUID
//! `pppppppp-FACB-11E6-BD58-64006A7986D3` (the documented vsock template, port in the first
//! field).
//!
//! Why threads: tokio's Windows reactor (mio) polls sockets through AFD as if they were TCP/UDP
//! sockets, and `TcpStream::from_raw_socket` would hand an AF_HYPERV socket to code that
//! assumes inet addresses. Instead each connection is a blocking socket driven by two small
//! threads (guest->host, host->guest) bridged to the caller through a `tokio::io::duplex`
//! pipe. Half-close passes through: EOF from the caller becomes `shutdown(SD_SEND)`, EOF from
//! the guest becomes a shutdown of the duplex's write side.

use std::io;
use std::mem::size_of;
use std::sync::{Arc, Once};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Handle;
use windows::core::GUID;
use windows::Win32::Networking::WinSock::*;
use windows::Win32::System::Hypervisor::{HVSOCKET_CONNECT_TIMEOUT, HV_PROTOCOL_RAW, SOCKADDR_HV};

use super::{BoxStream, ConnectFuture, Transport};

/// How long `connect` waits for the guest to accept (the hvsock default is 90 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The duplex pipe's buffer, and each thread's copy buffer.
const BUFFER: usize = 64 * 1024;

/// The service GUID of vsock port `port` (the Linux-guest mapping of Hyper-V sockets).
pub fn service_id(port: u32) -> GUID {
    GUID::from_values(
        port,
        0xFACB,
        0x11E6,
        [0xBD, 0x58, 0x64, 0x00, 0x6A, 0x79, 0x86, 0xD3],
    )
}

/// Connections to one Hyper-V VM.
#[derive(Debug)]
pub struct HvSocketTransport {
    vm_id: GUID,
}

impl HvSocketTransport {
    pub fn new(vm_id: GUID) -> Self {
        HvSocketTransport { vm_id }
    }
}

/// An AF_HYPERV socket, closed when dropped.
#[derive(Debug)]
struct HvSocket(SOCKET);

impl Drop for HvSocket {
    fn drop(&mut self) {
        // SAFETY: a socket we created, closed exactly once.
        unsafe { closesocket(self.0) };
    }
}

fn last_error() -> io::Error {
    // SAFETY: reads the calling thread's last Winsock error; no preconditions.
    io::Error::from_raw_os_error(unsafe { WSAGetLastError() }.0)
}

fn winsock_startup() -> io::Result<()> {
    static START: Once = Once::new();
    let mut code = 0;
    START.call_once(|| {
        let mut data = WSADATA::default();
        // SAFETY: `data` is a valid out-pointer; Winsock 2.2 is requested once per process
        // (std does the same lazily; the calls are reference-counted).
        code = unsafe { WSAStartup(0x0202, &mut data) };
    });
    match code {
        0 => Ok(()),
        code => Err(io::Error::from_raw_os_error(code)),
    }
}

/// Opens a blocking AF_HYPERV stream to `port` of VM `vm_id`.
fn connect_blocking(vm_id: GUID, port: u32) -> io::Result<HvSocket> {
    winsock_startup()?;
    // SAFETY: plain socket creation; the result is checked.
    let socket = unsafe { socket(AF_HYPERV.into(), SOCK_STREAM, HV_PROTOCOL_RAW as i32) }
        .map_err(|e| io::Error::other(format!("creating an AF_HYPERV socket: {e}")))?;
    let socket = HvSocket(socket);
    let timeout_ms = CONNECT_TIMEOUT.as_millis() as u32;
    // SAFETY: a live socket and a 4-byte option value, as HVSOCKET_CONNECT_TIMEOUT expects.
    let set = unsafe {
        setsockopt(
            socket.0,
            HV_PROTOCOL_RAW as i32,
            HVSOCKET_CONNECT_TIMEOUT as i32,
            Some(&timeout_ms.to_ne_bytes()),
        )
    };
    if set != 0 {
        return Err(last_error());
    }
    let address = SOCKADDR_HV {
        Family: ADDRESS_FAMILY(AF_HYPERV),
        Reserved: 0,
        VmId: vm_id,
        ServiceId: service_id(port),
    };
    // SAFETY: `address` is a SOCKADDR_HV of the length passed; it outlives the call.
    let connected = unsafe {
        connect(
            socket.0,
            (&address as *const SOCKADDR_HV).cast::<SOCKADDR>(),
            size_of::<SOCKADDR_HV>() as i32,
        )
    };
    if connected != 0 {
        let error = last_error();
        return Err(io::Error::new(
            error.kind(),
            format!("hvsock port {port}: {error}"),
        ));
    }
    Ok(socket)
}

/// Guest -> caller: blocking recv into the duplex until either side ends.
fn pump_from_guest(
    socket: Arc<HvSocket>,
    mut sink: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    rt: Handle,
) {
    let mut buffer = vec![0u8; BUFFER];
    loop {
        // SAFETY: a live socket (kept by the Arc) and a valid buffer.
        let n = unsafe { recv(socket.0, &mut buffer, SEND_RECV_FLAGS(0)) };
        if n <= 0 {
            // Guest EOF (0) or error (<0): the caller reads EOF.
            let _ = rt.block_on(sink.shutdown());
            return;
        }
        if rt.block_on(sink.write_all(&buffer[..n as usize])).is_err() {
            // The caller dropped the stream: stop both directions.
            // SAFETY: a live socket; shutting down an already shut direction is harmless.
            unsafe { shutdown(socket.0, SD_BOTH) };
            return;
        }
    }
}

/// Caller -> guest: reads the duplex and sends until the caller's EOF, then half-closes.
fn pump_to_guest(
    socket: Arc<HvSocket>,
    mut source: tokio::io::ReadHalf<tokio::io::DuplexStream>,
    rt: Handle,
) {
    let mut buffer = vec![0u8; BUFFER];
    loop {
        let n = match rt.block_on(source.read(&mut buffer)) {
            Ok(0) | Err(_) => {
                // SAFETY: a live socket: the guest sees EOF, its replies still flow back.
                unsafe { shutdown(socket.0, SD_SEND) };
                return;
            }
            Ok(n) => n,
        };
        let mut sent = 0;
        while sent < n {
            // SAFETY: a live socket and a valid slice of `buffer`.
            let m = unsafe { send(socket.0, &buffer[sent..n], SEND_RECV_FLAGS(0)) };
            if m <= 0 {
                return;
            }
            sent += m as usize;
        }
    }
}

impl Transport for HvSocketTransport {
    fn connect(&self, port: u32) -> ConnectFuture<'_> {
        let vm_id = self.vm_id;
        Box::pin(async move {
            let socket = tokio::task::spawn_blocking(move || connect_blocking(vm_id, port))
                .await
                .map_err(io::Error::other)??;
            let socket = Arc::new(socket);
            let (caller, bridge) = tokio::io::duplex(BUFFER);
            let (from_caller, to_caller) = tokio::io::split(bridge);
            let rt = Handle::current();
            for (name, job) in [
                ("berth-hvsock-rx", {
                    let (socket, rt) = (socket.clone(), rt.clone());
                    Box::new(move || pump_from_guest(socket, to_caller, rt))
                        as Box<dyn FnOnce() + Send>
                }),
                ("berth-hvsock-tx", {
                    let socket = socket.clone();
                    Box::new(move || pump_to_guest(socket, from_caller, rt))
                }),
            ] {
                std::thread::Builder::new().name(name.into()).spawn(job)?;
            }
            let stream: BoxStream = Box::new(caller);
            Ok(stream)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vsock_port_maps_into_the_first_guid_field() {
        assert_eq!(
            format!("{:?}", service_id(1024)),
            "00000400-FACB-11E6-BD58-64006A7986D3"
        );
    }
}
