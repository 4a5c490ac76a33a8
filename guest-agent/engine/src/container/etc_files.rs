//! The /etc files a container gets from the engine instead of its image: `hostname`,
//! `hosts` and `resolv.conf`. They are written into the container's directory before it
//! starts and bind mounted over the image's copies by the spec, so the image layers are
//! never touched and `docker cp`/`commit` see what docker users expect.
//!
//! resolv.conf comes from the host's, minus loopback name servers (127.0.0.0/8, ::1: a
//! resolver on the host's loopback is unreachable from the container's network
//! namespace). When none remain, [`FALLBACK_NAMESERVERS`] are used, as docker does.
//! Name servers, search domains and options given in the request replace the host's.

use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

/// Docker's fallback when the host has only loopback resolvers (Google public DNS).
pub const FALLBACK_NAMESERVERS: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)),
    IpAddr::V4(Ipv4Addr::new(8, 8, 4, 4)),
];

/// A host's resolv.conf is a few lines; anything larger is not read whole.
const MAX_RESOLV_CONF: u64 = 64 * 1024;

/// Why the /etc files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EtcError {
    #[error("Cannot read {0}")]
    Read(PathBuf, #[source] std::io::Error),
    #[error("Cannot write {0}")]
    Write(PathBuf, #[source] std::io::Error),
    #[error("{0} is larger than 64 KiB")]
    TooLarge(PathBuf),
    #[error("Extra host {0} asks for host-gateway, but no gateway address is known")]
    NoHostGateway(String),
}

/// The address of an extra /etc/hosts entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAddress {
    Ip(IpAddr),
    /// `host-gateway`: the address at which the container reaches the host.
    HostGateway,
}

/// One `--add-host NAME:IP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraHost {
    pub name: String,
    pub address: HostAddress,
}

/// Parses `NAME:IP`, `NAME=IP`, `NAME:[IPv6]` or `NAME:host-gateway`. `None` when
/// malformed, including names that could smuggle extra lines or fields into /etc/hosts.
pub fn parse_extra_host(text: &str) -> Option<ExtraHost> {
    let (name, addr) = text.split_once(['=', ':'])?;
    let name_ok = !name.is_empty()
        && name.len() <= 255
        && !name.contains(|c: char| c.is_whitespace() || c.is_control() || c == '#');
    if !name_ok {
        return None;
    }
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let address = if addr == "host-gateway" {
        HostAddress::HostGateway
    } else {
        HostAddress::Ip(addr.parse().ok()?)
    };
    Some(ExtraHost {
        name: name.to_string(),
        address,
    })
}

/// What goes into the three files.
#[derive(Debug, Clone)]
pub struct EtcConfig<'a> {
    pub hostname: &'a str,
    pub domainname: Option<&'a str>,
    /// The container's own addresses on its network(s); none for `--network none`.
    pub addresses: &'a [IpAddr],
    pub extra_hosts: &'a [ExtraHost],
    /// What `host-gateway` resolves to.
    pub host_gateway: Option<IpAddr>,
    /// Replace the host's name servers when not empty.
    pub dns: &'a [IpAddr],
    pub dns_search: &'a [String],
    pub dns_options: &'a [String],
    /// The host's resolv.conf (see [`host_resolv_conf`]); a missing file reads as empty.
    pub host_resolv_conf: &'a Path,
}

/// Where the files live in the container directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcPaths {
    pub hostname: PathBuf,
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
}

impl EtcPaths {
    pub fn in_dir(dir: &Path) -> Self {
        EtcPaths {
            hostname: dir.join("hostname"),
            hosts: dir.join("hosts"),
            resolv_conf: dir.join("resolv.conf"),
        }
    }
}

/// The host's resolv.conf. systemd-resolved's stub (127.0.0.53) is useless inside a
/// container, so its list of real upstream servers is preferred when it exists.
pub fn host_resolv_conf() -> PathBuf {
    let upstream = Path::new("/run/systemd/resolve/resolv.conf");
    if upstream.is_file() {
        upstream.to_path_buf()
    } else {
        PathBuf::from("/etc/resolv.conf")
    }
}

/// Writes the three files into `dir` (each atomically) and returns their paths.
pub fn write(dir: &Path, cfg: &EtcConfig) -> Result<EtcPaths, EtcError> {
    let paths = EtcPaths::in_dir(dir);
    // Everything that can fail on its input comes first, so a refused config leaves
    // no new file behind.
    let host_resolv = read_capped(cfg.host_resolv_conf)?;
    let hosts = hosts(cfg)?;
    write_atomic(&paths.hostname, format!("{}\n", cfg.hostname).as_bytes())?;
    write_atomic(&paths.hosts, hosts.as_bytes())?;
    write_atomic(
        &paths.resolv_conf,
        resolv_conf(&host_resolv, cfg).as_bytes(),
    )?;
    Ok(paths)
}

/// /etc/hosts: loopback names, the extra hosts, then the container's own name.
pub fn hosts(cfg: &EtcConfig) -> Result<String, EtcError> {
    let mut out = String::from(
        "127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         ff00::0\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    for host in cfg.extra_hosts {
        let ip = match host.address {
            HostAddress::Ip(ip) => ip,
            HostAddress::HostGateway => cfg
                .host_gateway
                .ok_or_else(|| EtcError::NoHostGateway(host.name.clone()))?,
        };
        out.push_str(&format!("{ip}\t{}\n", host.name));
    }
    let names = match cfg.domainname.filter(|d| !d.is_empty()) {
        Some(domain) => format!("{}.{domain} {}", cfg.hostname, cfg.hostname),
        None => cfg.hostname.to_string(),
    };
    for ip in cfg.addresses {
        out.push_str(&format!("{ip}\t{names}\n"));
    }
    Ok(out)
}

/// resolv.conf from the host's text and the request's overrides.
pub fn resolv_conf(host: &str, cfg: &EtcConfig) -> String {
    let mut nameservers: Vec<IpAddr> = cfg.dns.to_vec();
    let mut out = String::new();
    for line in host.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                // A host name server that is not an address is dropped with the rest.
                let server = words.next().and_then(|w| w.parse::<IpAddr>().ok());
                if let Some(ip) = server.filter(|ip| cfg.dns.is_empty() && !ip.is_loopback()) {
                    nameservers.push(ip);
                }
            }
            Some("search" | "domain") if !cfg.dns_search.is_empty() => {}
            Some("options") if !cfg.dns_options.is_empty() => {}
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if nameservers.is_empty() {
        nameservers.extend(FALLBACK_NAMESERVERS);
    }
    for ip in nameservers {
        out.push_str(&format!("nameserver {ip}\n"));
    }
    if !cfg.dns_search.is_empty() {
        out.push_str(&format!("search {}\n", cfg.dns_search.join(" ")));
    }
    if !cfg.dns_options.is_empty() {
        out.push_str(&format!("options {}\n", cfg.dns_options.join(" ")));
    }
    out
}

fn read_capped(path: &Path) -> Result<String, EtcError> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(EtcError::Read(path.to_path_buf(), e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_RESOLV_CONF + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| EtcError::Read(path.to_path_buf(), e))?;
    if bytes.len() as u64 > MAX_RESOLV_CONF {
        return Err(EtcError::TooLarge(path.to_path_buf()));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Temp file + rename: an engine killed midway leaves the old file or the new one.
fn write_atomic(path: &Path, data: &[u8]) -> Result<(), EtcError> {
    let err = |e| EtcError::Write(path.to_path_buf(), e);
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(data).map_err(err)?;
    // Readable by the container's non-root users, like the image's own /etc files.
    tmp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg<'a>(dns: &'a [IpAddr], search: &'a [String]) -> EtcConfig<'a> {
        EtcConfig {
            hostname: "web",
            domainname: None,
            addresses: &[],
            extra_hosts: &[],
            host_gateway: None,
            dns,
            dns_search: search,
            dns_options: &[],
            host_resolv_conf: Path::new("/nonexistent"),
        }
    }

    #[test]
    fn extra_hosts_parse_and_hostile_names_are_refused() {
        let ip = |s: &str| HostAddress::Ip(s.parse().unwrap());
        let cases: &[(&str, Option<(&str, HostAddress)>)] = &[
            ("db:10.0.0.2", Some(("db", ip("10.0.0.2")))),
            ("db=10.0.0.2", Some(("db", ip("10.0.0.2")))),
            ("v6:::1", Some(("v6", ip("::1")))),
            ("v6:[fe80::1]", Some(("v6", ip("fe80::1")))),
            ("gw:host-gateway", Some(("gw", HostAddress::HostGateway))),
            ("db", None),
            (":10.0.0.2", None),
            ("db:nope", None),
            ("a b:10.0.0.2", None),
            ("a\nevil:10.0.0.2", None),
            ("a#c:10.0.0.2", None),
        ];
        for (text, want) in cases {
            let got = parse_extra_host(text).map(|h| (h.name, h.address));
            let want = want.map(|(n, a)| (n.to_string(), a));
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn hosts_lists_loopback_extras_and_own_address() {
        let extra = [parse_extra_host("gw:host-gateway").unwrap()];
        let addrs = ["172.17.0.2".parse().unwrap()];
        let mut c = cfg(&[], &[]);
        c.extra_hosts = &extra;
        c.addresses = &addrs;
        c.domainname = Some("example.org");
        assert!(matches!(hosts(&c), Err(EtcError::NoHostGateway(_))));
        c.host_gateway = Some("192.168.65.254".parse().unwrap());
        let text = hosts(&c).unwrap();
        assert!(text.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost"));
        assert!(text.contains("192.168.65.254\tgw\n"));
        assert!(
            text.ends_with("172.17.0.2\tweb.example.org web\n"),
            "{text}"
        );
    }

    #[test]
    fn resolv_conf_drops_loopback_servers_and_honours_overrides() {
        let host =
            "# generated\nnameserver 127.0.0.53\nnameserver ::1\nsearch lan\noptions edns0\n";
        let text = resolv_conf(host, &cfg(&[], &[]));
        assert_eq!(
            text,
            "# generated\nsearch lan\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );

        let host = "nameserver 10.0.0.1\nnameserver 127.0.0.1\nsearch lan\n";
        assert_eq!(
            resolv_conf(host, &cfg(&[], &[])),
            "search lan\nnameserver 10.0.0.1\n"
        );

        let dns = ["1.1.1.1".parse().unwrap()];
        let search = ["corp.example".to_string()];
        assert_eq!(
            resolv_conf(host, &cfg(&dns, &search)),
            "nameserver 1.1.1.1\nsearch corp.example\n"
        );
    }

    #[test]
    fn write_puts_three_files_in_the_container_dir() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("host-resolv.conf");
        fs::write(&host, "nameserver 10.1.2.3\n").unwrap();
        let mut c = cfg(&[], &[]);
        c.host_resolv_conf = &host;
        let paths = write(dir.path(), &c).unwrap();
        assert_eq!(fs::read_to_string(&paths.hostname).unwrap(), "web\n");
        assert_eq!(
            fs::read_to_string(&paths.resolv_conf).unwrap(),
            "nameserver 10.1.2.3\n"
        );
        assert!(fs::read_to_string(&paths.hosts)
            .unwrap()
            .contains("localhost"));

        fs::write(&host, vec![b'#'; 70 * 1024]).unwrap();
        assert!(matches!(write(dir.path(), &c), Err(EtcError::TooLarge(_))));
    }
}
