//! Published ports: parsing and checking `-p [ip:]host:container[/proto]` as the API
//! carries it (`"80/tcp" -> [{HostIp, HostPort}]`), `-P`, and reserving host ports.
//!
//! A host port is reserved by binding a socket to it (never listening: traffic reaches the
//! container through DNAT, before any socket lookup) for as long as the container runs, so
//! a port another program holds is refused before the container starts, and nothing else
//! can take the port while it is published.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;

use crate::container::config::{ConfigError, ContainerConfig, PortBinding};

/// Where a port is published when the request names no address. Docker uses 0.0.0.0,
/// which exposes every published port to the LAN; Berth publishes on loopback unless the
/// user asks for `0.0.0.0` (docs/networking.md).
pub const DEFAULT_HOST_IP: Ipv4Addr = Ipv4Addr::LOCALHOST;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One container port to publish, from a binding or from `-P`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    pub container_port: u16,
    pub proto: Proto,
    pub host_ip: Ipv4Addr,
    /// Inclusive; `(0, 0)`: any free port.
    pub host_ports: (u16, u16),
}

fn err(reason: String) -> ConfigError {
    ConfigError::Limit {
        name: "port binding",
        reason,
    }
}

/// `80`, `80/tcp`, `8000-8010/udp` -> (first, last, proto).
pub fn parse_port_key(key: &str) -> Result<(u16, u16, Proto), ConfigError> {
    let (ports, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = match proto.to_ascii_lowercase().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "sctp" => return Err(err(format!("{key:?}: sctp is not supported"))),
        other => return Err(err(format!("{key:?}: invalid protocol {other:?}"))),
    };
    let (first, last) = parse_range(ports, false).map_err(|r| err(format!("{key:?}: {r}")))?;
    Ok((first, last, proto))
}

/// `8080`, `8000-8010`; empty is `(0, 0)` when `empty_ok`.
fn parse_range(text: &str, empty_ok: bool) -> Result<(u16, u16), String> {
    if text.is_empty() && empty_ok {
        return Ok((0, 0));
    }
    let port = |s: &str| -> Result<u16, String> {
        match s.parse::<u32>() {
            Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
            Ok(p) => Err(format!("port {p} is out of range (1-65535)")),
            Err(_) => Err(format!("invalid port {s:?}")),
        }
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if a > b {
                return Err(format!("invalid port range {text:?}"));
            }
            Ok((a, b))
        }
        None => {
            let p = port(text)?;
            Ok((p, p))
        }
    }
}

fn parse_host_ip(text: &str) -> Result<Ipv4Addr, ConfigError> {
    if text.is_empty() {
        return Ok(DEFAULT_HOST_IP);
    }
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => Ok(ip),
        Ok(IpAddr::V6(_)) => Err(err(format!(
            "host address {text}: IPv6 publishing is not supported yet"
        ))),
        Err(_) => Err(err(format!("invalid host address {text:?}"))),
    }
}

/// Every port the container asks to publish. `exposed` are the image's and request's
/// exposed ports, used by `-P` (`publish_all_ports`) for ports without a binding.
pub fn requests(
    config: &ContainerConfig,
    exposed: &BTreeSet<String>,
) -> Result<Vec<PortRequest>, ConfigError> {
    let mut out = Vec::new();
    let mut bound = BTreeSet::new();
    for (key, bindings) in &config.port_bindings {
        let (first, last, proto) = parse_port_key(key)?;
        let default = [PortBinding::default()];
        let bindings = if bindings.is_empty() {
            &default[..]
        } else {
            bindings
        };
        for binding in bindings {
            let host_ip = parse_host_ip(&binding.host_ip)?;
            let (hfirst, hlast) = parse_range(&binding.host_port, true)
                .map_err(|r| err(format!("{key:?}: host {r}")))?;
            let count = last - first;
            for (i, container_port) in (first..=last).enumerate() {
                let host_ports = if hfirst == 0 {
                    (0, 0)
                } else if hlast - hfirst == count {
                    (hfirst + i as u16, hfirst + i as u16)
                } else if count == 0 {
                    // docker: one container port and a host range: any free port of it.
                    (hfirst, hlast)
                } else {
                    return Err(err(format!(
                        "invalid ranges specified for container and host ports: {key} and {}",
                        binding.host_port
                    )));
                };
                bound.insert((container_port, proto));
                out.push(PortRequest {
                    container_port,
                    proto,
                    host_ip,
                    host_ports,
                });
            }
        }
    }
    for key in &config.exposed_ports {
        parse_port_key(key)?;
    }
    if config.publish_all_ports {
        for key in exposed.iter().chain(&config.exposed_ports) {
            let (first, last, proto) = parse_port_key(key)?;
            for container_port in first..=last {
                if bound.insert((container_port, proto)) {
                    out.push(PortRequest {
                        container_port,
                        proto,
                        host_ip: DEFAULT_HOST_IP,
                        host_ports: (0, 0),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// What `ContainerConfig::validate` checks: every binding and exposed port parses.
pub fn validate(config: &ContainerConfig) -> Result<(), ConfigError> {
    requests(config, &BTreeSet::new()).map(drop)
}

/// socket + bind (no listen), and the port bound.
fn bind_port(typ: libc::c_int, addr: SocketAddrV4) -> std::io::Result<(u16, Reservation)> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: plain socket(2); the result is checked before it is owned.
    let fd = unsafe { libc::socket(libc::AF_INET, typ | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: an all-zero sockaddr_in is valid; the fields are set below.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    sa.sin_addr.s_addr = u32::from(*addr.ip()).to_be();
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: `sa` is a valid sockaddr_in of length `len`.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            len,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut bound_len = len;
    // SAFETY: getsockname writes at most `bound_len` bytes into `sa`.
    let rc = unsafe {
        libc::getsockname(
            socket.as_raw_fd(),
            &mut sa as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut bound_len,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((u16::from_be(sa.sin_port), Reservation { _socket: socket }))
}

/// A bound socket holding a host port.
#[derive(Debug)]
pub struct Reservation {
    _socket: OwnedFd,
}

/// Binds a socket on `ip` to a port of `ports` (any free one for `(0, 0)`): the port and
/// the reservation, or docker's "port is already allocated".
pub fn reserve(
    ip: Ipv4Addr,
    ports: (u16, u16),
    proto: Proto,
) -> Result<(u16, Reservation), String> {
    let typ = match proto {
        Proto::Tcp => libc::SOCK_STREAM,
        Proto::Udp => libc::SOCK_DGRAM,
    };
    let candidates: Vec<u16> = if ports == (0, 0) {
        vec![0]
    } else {
        (ports.0..=ports.1).collect()
    };
    let mut last = String::new();
    for port in candidates {
        match bind_port(typ, SocketAddrV4::new(ip, port)) {
            Ok(got) => return Ok(got),
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => {
                last = format!("Bind for {ip}:{port} failed: port is already allocated");
            }
            Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {
                return Err(format!(
                    "Bind for {ip}:{port} failed: {ip} is not an address of this host"
                ));
            }
            Err(e) => last = format!("Bind for {ip}:{port} failed: {e}"),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(bindings: &[(&str, &str, &str)], all: bool, exposed: &[&str]) -> ContainerConfig {
        let mut c = ContainerConfig {
            image: "x".into(),
            publish_all_ports: all,
            exposed_ports: exposed.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        for (key, ip, port) in bindings {
            c.port_bindings
                .entry(key.to_string())
                .or_default()
                .push(PortBinding {
                    host_ip: ip.to_string(),
                    host_port: port.to_string(),
                });
        }
        c
    }

    #[test]
    fn bindings_parse_and_bad_ones_are_refused() {
        let ok = requests(
            &config(
                &[("80/tcp", "", "8080"), ("53/udp", "0.0.0.0", "")],
                false,
                &[],
            ),
            &BTreeSet::new(),
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].proto, Proto::Udp);
        assert_eq!(ok[0].host_ip, Ipv4Addr::UNSPECIFIED);
        assert_eq!(ok[1].host_ip, DEFAULT_HOST_IP);
        assert_eq!(ok[1].host_ports, (8080, 8080));

        let range = requests(
            &config(&[("8000-8001/tcp", "", "9000-9001")], false, &[]),
            &BTreeSet::new(),
        )
        .unwrap();
        assert_eq!(range[1].container_port, 8001);
        assert_eq!(range[1].host_ports, (9001, 9001));
        let pick = requests(
            &config(&[("80/tcp", "", "8000-8001")], false, &[]),
            &BTreeSet::new(),
        )
        .unwrap();
        assert_eq!(pick[0].host_ports, (8000, 8001));

        for (key, port, want) in [
            ("80/foo", "1", "invalid protocol"),
            ("0/tcp", "1", "out of range"),
            ("70000", "1", "out of range"),
            ("80/tcp", "0", "out of range"),
            ("80/tcp", "65536", "out of range"),
            ("80/tcp", "x", "invalid port"),
            ("80-81/tcp", "8000-8002", "invalid ranges"),
            ("81-80/tcp", "", "invalid port range"),
        ] {
            let e = validate(&config(&[(key, "", port)], false, &[])).unwrap_err();
            assert!(e.to_string().contains(want), "{key} {port}: {e}");
        }
        let e = validate(&config(&[("80", "::1", "")], false, &[])).unwrap_err();
        assert!(e.to_string().contains("IPv6"), "{e}");
        let e = validate(&config(&[], false, &["80/foo"])).unwrap_err();
        assert!(e.to_string().contains("invalid protocol"), "{e}");
    }

    #[test]
    fn publish_all_adds_every_exposed_port_once() {
        let image: BTreeSet<String> = ["80/tcp".to_string(), "53/udp".to_string()].into();
        let got = requests(&config(&[("80/tcp", "", "8080")], true, &[]), &image).unwrap();
        assert_eq!(got.len(), 2);
        assert!(got
            .iter()
            .any(|r| r.container_port == 53 && r.host_ports == (0, 0)));
    }

    #[test]
    fn a_taken_port_is_a_clear_error() {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        let e = reserve(Ipv4Addr::LOCALHOST, (port, port), Proto::Tcp).unwrap_err();
        assert_eq!(
            e,
            format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
        );
        let (any, _held) = reserve(Ipv4Addr::LOCALHOST, (0, 0), Proto::Tcp).unwrap();
        assert_ne!(any, 0);
    }
}
