//! The few rtnetlink requests container networking needs, written by hand: a bridge, a veth
//! pair with one end moved into a namespace, addresses, a default route, links up and
//! down. One `ip` process costs ~4 ms here; a netlink request costs microseconds, and a
//! container start needs about eight of them.
//!
//! A socket opened while a thread is inside a network namespace keeps talking to that
//! namespace after the thread has left, so [`Netlink::open_in`] configures a container's
//! namespace without running anything in it.

use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const IFF_UP: u32 = 1;
const NLA_F_NESTED: u16 = 0x8000;

/// A NETLINK_ROUTE socket, bound to the namespace it was opened in.
#[derive(Debug)]
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

/// One request being built: header, fixed part, attributes (nested ones via `nest`).
struct Msg {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl Msg {
    fn new(typ: u16, flags: u16) -> Msg {
        let mut buf = vec![0u8; 16];
        buf[4..6].copy_from_slice(&typ.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        Msg {
            buf,
            nests: Vec::new(),
        }
    }

    /// An `ifinfomsg`.
    fn ifinfo(mut self, index: i32, flags: u32, change: u32) -> Msg {
        self.buf
            .extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&change.to_ne_bytes());
        self
    }

    fn raw(mut self, bytes: &[u8]) -> Msg {
        self.buf.extend_from_slice(bytes);
        self
    }

    fn attr(mut self, typ: u16, data: &[u8]) -> Msg {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&typ.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
        self
    }

    fn str_attr(self, typ: u16, text: &str) -> Msg {
        let mut data = text.as_bytes().to_vec();
        data.push(0);
        self.attr(typ, &data)
    }

    fn nest(mut self, typ: u16) -> Msg {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0]);
        self.buf
            .extend_from_slice(&(typ | NLA_F_NESTED).to_ne_bytes());
        self
    }

    fn end(mut self) -> Msg {
        let start = self.nests.pop().expect("nest before end");
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Netlink> {
        // SAFETY: plain socket(2); the result is checked before it is owned.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: an all-zero sockaddr_nl is valid (pid 0: the kernel picks one).
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: `addr` is a valid sockaddr_nl of the size given.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Netlink { fd, seq: 1 })
    }

    /// A socket in the network namespace `netns` (a bind-mounted nsfs file), opened from a
    /// short-lived thread so the caller's own namespace never changes.
    pub fn open_in(netns: &Path) -> io::Result<Netlink> {
        let ns = File::open(netns)?;
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: setns on a thread of our own that does nothing else afterwards.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
                    return Err(io::Error::last_os_error());
                }
                Netlink::open()
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("netns thread panicked")))
        })
    }

    fn request(&mut self, msg: Msg) -> io::Result<Vec<u8>> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let bytes = msg.finish(seq);
        // SAFETY: sending an initialised buffer of the given length.
        let sent =
            unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut reply = Vec::new();
        loop {
            let mut buf = vec![0u8; 16384];
            // SAFETY: receiving into a buffer of the given length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let mut at = 0usize;
            let n = n as usize;
            while at + 16 <= n {
                let len = u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap()) as usize;
                let typ = u16::from_ne_bytes(buf[at + 4..at + 6].try_into().unwrap());
                let rseq = u32::from_ne_bytes(buf[at + 8..at + 12].try_into().unwrap());
                if len < 16 || at + len > n {
                    return Err(io::Error::other("malformed netlink reply"));
                }
                if rseq == seq {
                    if typ == NLMSG_ERROR {
                        let code = i32::from_ne_bytes(buf[at + 16..at + 20].try_into().unwrap());
                        return match code {
                            0 => Ok(reply),
                            e => Err(io::Error::from_raw_os_error(-e)),
                        };
                    }
                    reply = buf[at..at + len].to_vec();
                }
                at += (len + 3) & !3;
            }
        }
    }

    /// The index of the link called `name` in this socket's namespace.
    pub fn link_index(&mut self, name: &str) -> io::Result<i32> {
        let msg = Msg::new(RTM_GETLINK, 0)
            .ifinfo(0, 0, 0)
            .str_attr(IFLA_IFNAME, name);
        let reply = self.request(msg)?;
        if reply.len() < 24 {
            return Err(io::Error::other(format!("no link {name}")));
        }
        Ok(i32::from_ne_bytes(reply[20..24].try_into().unwrap()))
    }

    /// A bridge called `name`, down.
    pub fn add_bridge(&mut self, name: &str) -> io::Result<()> {
        let msg = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)
            .ifinfo(0, 0, 0)
            .str_attr(IFLA_IFNAME, name)
            .nest(IFLA_LINKINFO)
            .str_attr(IFLA_INFO_KIND, "bridge")
            .end();
        self.request(msg).map(drop)
    }

    /// A veth pair: `host` here, up and enslaved to `master`; `peer` (with `mac`) in the
    /// namespace `netns` refers to.
    pub fn add_veth(
        &mut self,
        host: &str,
        master: i32,
        peer: &str,
        mac: [u8; 6],
        netns: &File,
    ) -> io::Result<()> {
        let peer_info = Msg {
            buf: Vec::new(),
            nests: Vec::new(),
        }
        .ifinfo(0, 0, 0)
        .str_attr(IFLA_IFNAME, peer)
        .attr(IFLA_ADDRESS, &mac)
        .attr(IFLA_NET_NS_FD, &(netns.as_raw_fd() as u32).to_ne_bytes())
        .buf;
        let msg = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)
            .ifinfo(0, IFF_UP, IFF_UP)
            .str_attr(IFLA_IFNAME, host)
            .attr(IFLA_MASTER, &(master as u32).to_ne_bytes())
            .nest(IFLA_LINKINFO)
            .str_attr(IFLA_INFO_KIND, "veth")
            .nest(IFLA_INFO_DATA)
            .attr(VETH_INFO_PEER, &peer_info)
            .end()
            .end();
        self.request(msg).map(drop)
    }

    pub fn set_up(&mut self, index: i32) -> io::Result<()> {
        let msg = Msg::new(RTM_NEWLINK, 0).ifinfo(index, IFF_UP, IFF_UP);
        self.request(msg).map(drop)
    }

    pub fn delete_link(&mut self, name: &str) -> io::Result<()> {
        let msg = Msg::new(RTM_DELLINK, 0)
            .ifinfo(0, 0, 0)
            .str_attr(IFLA_IFNAME, name);
        self.request(msg).map(drop)
    }

    /// `ip/prefix` on link `index`, with the subnet's broadcast address.
    pub fn add_address(&mut self, index: i32, ip: Ipv4Addr, prefix: u8) -> io::Result<()> {
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        let broadcast = Ipv4Addr::from(u32::from(ip) | !mask);
        let mut fixed = vec![libc::AF_INET as u8, prefix, 0, 0];
        fixed.extend_from_slice(&(index as u32).to_ne_bytes());
        let msg = Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL)
            .raw(&fixed)
            .attr(IFA_LOCAL, &ip.octets())
            .attr(IFA_ADDRESS, &ip.octets())
            .attr(IFA_BROADCAST, &broadcast.octets());
        match self.request(msg) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            other => other.map(drop),
        }
    }

    /// The default route via `gateway` out of link `index`.
    pub fn add_default_route(&mut self, index: i32, gateway: Ipv4Addr) -> io::Result<()> {
        // rtmsg: inet, dst_len 0, src_len 0, tos 0, main table, boot protocol, universe
        // scope, unicast; no flags.
        let fixed = [libc::AF_INET as u8, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
        let msg = Msg::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL)
            .raw(&fixed)
            .attr(RTA_GATEWAY, &gateway.octets())
            .attr(RTA_OIF, &(index as u32).to_ne_bytes());
        self.request(msg).map(drop)
    }
}
