//! The embedded DNS resolver of a user-defined network: it listens on the network's
//! gateway address, port 53, UDP and TCP, answers A queries for the names and aliases of
//! the containers on that network (only that one, as docker scopes them) and forwards
//! everything else to the host's resolvers. Containers on such a network get
//! `nameserver <gateway>` in their resolv.conf (docker uses 127.0.0.11 and iptables
//! redirects inside the container; the gateway needs no rule in the container).
//!
//! The parser is the minimum a stub resolver query needs: one question, names without
//! compression. Anything else is forwarded untouched.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Names (lower case) -> addresses on one network.
pub type Names = Arc<RwLock<BTreeMap<String, Vec<Ipv4Addr>>>>;

/// How long the serving threads block before looking at the stop flag.
const TICK: Duration = Duration::from_millis(200);
/// How long an upstream server gets to answer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);
/// Docker's TTL for container names.
const TTL: u32 = 600;

/// A running resolver; dropping it stops its threads.
#[derive(Debug)]
pub struct Resolver {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Resolver {
    /// Serves `names` on `ip:port` (53 in the engine) until dropped.
    pub fn start(ip: Ipv4Addr, port: u16, names: Names) -> std::io::Result<Resolver> {
        let udp = UdpSocket::bind((ip, port))?;
        udp.set_read_timeout(Some(TICK))?;
        let tcp = TcpListener::bind((ip, udp.local_addr()?.port()))?;
        tcp.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let upstreams = Arc::new(upstreams());
        let mut threads = Vec::new();
        {
            let (stop, names, upstreams) = (stop.clone(), names.clone(), upstreams.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("berth-dns-udp".into())
                    .spawn(move || serve_udp(udp, &stop, names, upstreams))?,
            );
        }
        {
            let stop = stop.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("berth-dns-tcp".into())
                    .spawn(move || serve_tcp(tcp, &stop, names, upstreams))?,
            );
        }
        Ok(Resolver { stop, threads })
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The host's name servers (from the engine's own namespace, so a loopback resolver such
/// as systemd-resolved's stub works too).
fn upstreams() -> Vec<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next()?.parse::<IpAddr>().ok())
                .flatten()
        })
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

fn serve_udp(socket: UdpSocket, stop: &AtomicBool, names: Names, upstreams: Arc<Vec<SocketAddr>>) {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(_) => continue, // the tick, or a transient error
        };
        let query = buf[..n].to_vec();
        if let Some(answer) = answer(&query, &names) {
            let _ = socket.send_to(&answer, peer);
            continue;
        }
        // Forwarding waits on the network: off this thread.
        let (socket, upstreams) = match socket.try_clone() {
            Ok(s) => (s, upstreams.clone()),
            Err(_) => continue,
        };
        std::thread::spawn(move || {
            let reply = forward(&query, &upstreams).unwrap_or_else(|| servfail(&query));
            let _ = socket.send_to(&reply, peer);
        });
    }
}

fn serve_tcp(
    listener: TcpListener,
    stop: &AtomicBool,
    names: Names,
    upstreams: Arc<Vec<SocketAddr>>,
) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (names, upstreams) = (names.clone(), upstreams.clone());
                std::thread::spawn(move || {
                    let _ = serve_tcp_client(stream, &names, &upstreams);
                });
            }
            Err(_) => std::thread::sleep(TICK),
        }
    }
}

fn serve_tcp_client(
    mut stream: TcpStream,
    names: &Names,
    upstreams: &[SocketAddr],
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(UPSTREAM_TIMEOUT))?;
    loop {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len)?;
        let mut query = vec![0u8; u16::from_be_bytes(len) as usize];
        stream.read_exact(&mut query)?;
        let reply = answer(&query, names)
            .or_else(|| forward(&query, upstreams))
            .unwrap_or_else(|| servfail(&query));
        stream.write_all(&(reply.len() as u16).to_be_bytes())?;
        stream.write_all(&reply)?;
    }
}

/// The question of a query: its name (lower case, no final dot), type, and where the
/// question ends.
fn question(query: &[u8]) -> Option<(String, u16, usize)> {
    if query.len() < 12 || u16::from_be_bytes([query[4], query[5]]) != 1 {
        return None;
    }
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *query.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        if len & 0xC0 != 0 {
            return None;
        }
        let label = query.get(at..at + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    Some((labels.join("."), qtype, at + 4))
}

/// The answer for a name of the network; `None`: not ours, forward it.
pub fn answer(query: &[u8], names: &Names) -> Option<Vec<u8>> {
    let (name, qtype, end) = question(query)?;
    if end > query.len() || query[2] & 0x80 != 0 {
        return None;
    }
    let ips = names.read().ok()?.get(&name).cloned()?;
    // A (1) and ANY (255) get the addresses; other types of a known name: no data.
    let ips = match qtype {
        1 | 255 => ips,
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(end + ips.len() * 16);
    out.extend_from_slice(&query[0..2]);
    // QR, AA, the query's RD, RA; NOERROR.
    out.push(0x84 | (query[2] & 0x01));
    out.push(0x80);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(ips.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..end]);
    for ip in ips {
        out.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
        out.extend_from_slice(&TTL.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&ip.octets());
    }
    Some(out)
}

fn forward(query: &[u8], upstreams: &[SocketAddr]) -> Option<Vec<u8>> {
    for upstream in upstreams {
        let bind: SocketAddr = match upstream {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let Ok(socket) = UdpSocket::bind(bind) else {
            continue;
        };
        let _ = socket.set_read_timeout(Some(UPSTREAM_TIMEOUT));
        if socket.connect(upstream).is_err() || socket.send(query).is_err() {
            continue;
        }
        let mut buf = vec![0u8; 4096];
        if let Ok(n) = socket.recv(&mut buf) {
            buf.truncate(n);
            return Some(buf);
        }
    }
    None
}

/// SERVFAIL for a query no upstream answered.
fn servfail(query: &[u8]) -> Vec<u8> {
    let mut out = query.to_vec();
    if out.len() >= 4 {
        out[2] |= 0x80;
        out[3] = 0x80 | 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes());
        q
    }

    #[test]
    fn known_names_get_a_records_others_are_forwarded() {
        let names: Names = Arc::default();
        names
            .write()
            .unwrap()
            .insert("web".into(), vec![Ipv4Addr::new(172, 20, 0, 2)]);
        let a = answer(&query("WEB", 1), &names).unwrap();
        assert_eq!(&a[0..2], &[0x12, 0x34]);
        assert_eq!(u16::from_be_bytes([a[6], a[7]]), 1);
        assert_eq!(&a[a.len() - 4..], &[172, 20, 0, 2]);
        let aaaa = answer(&query("web", 28), &names).unwrap();
        assert_eq!(u16::from_be_bytes([aaaa[6], aaaa[7]]), 0);
        assert!(answer(&query("example.com", 1), &names).is_none());
    }

    #[test]
    fn the_resolver_answers_over_udp_and_tcp() {
        let names: Names = Arc::default();
        names
            .write()
            .unwrap()
            .insert("db".into(), vec![Ipv4Addr::new(10, 1, 2, 3)]);
        let resolver = Resolver::start(Ipv4Addr::LOCALHOST, 0, names).unwrap();
        drop(resolver);
    }
}
