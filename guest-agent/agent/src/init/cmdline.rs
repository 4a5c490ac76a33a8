//! The `berth.*` options of the kernel command line: what the host's VM backend can
//! change without rebuilding the image.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::engine_config;
use super::shares::{self, ShareSpec};

/// The guest's settings; defaults are QEMU user networking's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmdline {
    /// `berth.disk=`: the data disk; `none` runs on tmpfs.
    pub disk: Option<PathBuf>,
    /// `berth.ip=ADDR[/PREFIX]`.
    pub ip: Ipv4Addr,
    pub prefix: u8,
    /// `berth.gw=`: the default gateway, which is also the host's loopback.
    pub gateway: Ipv4Addr,
    /// `berth.dns=`.
    pub dns: Ipv4Addr,
    /// `berth.shares=TAG:PATH[:ro],...` (percent-encoded): the host folders to mount.
    pub shares: Vec<ShareSpec>,
    /// `berth.insecure=HOST[:PORT],...`: registries the engine reaches without TLS
    /// verification (the host's `insecure_registries`).
    pub insecure_registries: Vec<String>,
    /// `berth.mirrors=URL,...`: the engine's registry mirrors.
    pub registry_mirrors: Vec<String>,
    /// Options that were present but unusable, to be logged (never fatal: a typo must not
    /// stop the VM from booting).
    pub ignored: Vec<String>,
}

impl Default for Cmdline {
    fn default() -> Cmdline {
        Cmdline {
            disk: Some(PathBuf::from("/dev/vda")),
            ip: Ipv4Addr::new(10, 0, 2, 15),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 0, 2, 2),
            dns: Ipv4Addr::new(10, 0, 2, 3),
            shares: Vec::new(),
            insecure_registries: Vec::new(),
            registry_mirrors: Vec::new(),
            ignored: Vec::new(),
        }
    }
}

/// Reads /proc/cmdline (defaults when it cannot be read).
pub fn read() -> Cmdline {
    parse(&std::fs::read_to_string("/proc/cmdline").unwrap_or_default())
}

pub fn parse(text: &str) -> Cmdline {
    let mut c = Cmdline::default();
    for word in text.split_whitespace() {
        let Some((key, value)) = word.split_once('=') else {
            continue;
        };
        let ok = match key {
            "berth.disk" if value == "none" => {
                c.disk = None;
                true
            }
            "berth.disk" if value.starts_with('/') => {
                c.disk = Some(PathBuf::from(value));
                true
            }
            "berth.ip" => parse_cidr(value)
                .map(|(ip, p)| (c.ip, c.prefix) = (ip, p))
                .is_some(),
            "berth.gw" => value.parse().map(|ip| c.gateway = ip).is_ok(),
            "berth.dns" => value.parse().map(|ip| c.dns = ip).is_ok(),
            "berth.shares" => shares::parse(value).map(|s| c.shares = s).is_some(),
            "berth.insecure" => engine_config::parse_list(value)
                .map(|l| c.insecure_registries = l)
                .is_some(),
            "berth.mirrors" => engine_config::parse_list(value)
                .map(|l| c.registry_mirrors = l)
                .is_some(),
            _ if key.starts_with("berth.") => false,
            _ => true,
        };
        if !ok {
            c.ignored.push(word.to_string());
        }
    }
    c
}

/// `10.0.2.15/24`, or a bare address with a /24.
fn parse_cidr(value: &str) -> Option<(Ipv4Addr, u8)> {
    let (ip, prefix) = value.split_once('/').unwrap_or((value, "24"));
    let prefix: u8 = prefix.parse().ok().filter(|p| (1..=32).contains(p))?;
    Some((ip.parse().ok()?, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_qemu_user_networking() {
        let c = parse("console=ttyS0 quiet panic=-1");
        assert_eq!(c, Cmdline::default());
        assert_eq!(c.disk.as_deref(), Some(std::path::Path::new("/dev/vda")));
    }

    #[test]
    fn overrides_and_mistakes() {
        type Check = fn(&Cmdline) -> bool;
        let cases: &[(&str, Check)] = &[
            ("berth.disk=/dev/vdb", |c| c.disk == Some("/dev/vdb".into())),
            ("berth.disk=none", |c| c.disk.is_none()),
            ("berth.ip=192.168.5.15/16", |c| {
                c.ip == Ipv4Addr::new(192, 168, 5, 15) && c.prefix == 16
            }),
            ("berth.ip=192.168.5.15", |c| c.prefix == 24),
            ("berth.gw=192.168.5.2", |c| {
                c.gateway == Ipv4Addr::new(192, 168, 5, 2)
            }),
            ("berth.dns=1.1.1.1", |c| c.dns == Ipv4Addr::new(1, 1, 1, 1)),
            ("berth.insecure=10.0.2.2:5000,reg.lan", |c| {
                c.insecure_registries == ["10.0.2.2:5000", "reg.lan"]
            }),
            ("berth.mirrors=http://10.0.2.2:5001", |c| {
                c.registry_mirrors == ["http://10.0.2.2:5001"]
            }),
            ("berth.insecure=a%22b", |c| {
                c.insecure_registries.is_empty() && c.ignored.len() == 1
            }),
            ("berth.ip=10.0.2.300", |c| {
                c.ip == Ipv4Addr::new(10, 0, 2, 15) && c.ignored == ["berth.ip=10.0.2.300"]
            }),
            ("berth.ip=10.0.2.9/40", |c| {
                c.ignored.len() == 1 && c.prefix == 24
            }),
            ("berth.disk=vda", |c| {
                c.disk == Some("/dev/vda".into()) && c.ignored.len() == 1
            }),
            ("berth.colour=blue", |c| c.ignored == ["berth.colour=blue"]),
            ("berth.shares=home:/home/me%20too:ro", |c| {
                c.shares.len() == 1 && c.shares[0].path == std::path::Path::new("/home/me too")
            }),
            ("berth.shares=home:relative", |c| {
                c.shares.is_empty() && c.ignored.len() == 1
            }),
        ];
        for (text, check) in cases {
            let c = parse(&format!("console=ttyS0 {text} rw"));
            assert!(check(&c), "{text}: {c:?}");
        }
    }
}
