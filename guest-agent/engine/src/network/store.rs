//! What the engine remembers about networks, under `<root>/networks/`:
//! `networks.json` (every network: the defaults `bridge`, `host`, `none` and the user's)
//! and `ipam.json` (the addresses leased to running containers, per network). Both are
//! written whole, atomically (temp file + rename), after every change.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::container::record::{read_json, write_json_atomic};

/// One network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// RFC 3339.
    pub created: String,
    pub internal: bool,
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// `172.18.0.0/16`; empty for `host` and `none`.
    pub subnet: String,
    pub gateway: String,
    /// The bridge interface; empty for `host` and `none`.
    pub bridge: String,
    /// The default networks cannot be removed; `bridge` has no name resolution.
    pub predefined: bool,
}

impl Default for NetworkRecord {
    fn default() -> Self {
        NetworkRecord {
            id: String::new(),
            name: String::new(),
            driver: "bridge".into(),
            created: String::new(),
            internal: false,
            attachable: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            subnet: String::new(),
            gateway: String::new(),
            bridge: String::new(),
            predefined: false,
        }
    }
}

impl NetworkRecord {
    pub fn is_bridge(&self) -> bool {
        self.driver == "bridge"
    }

    /// Containers on user-defined bridges resolve each other by name (docker's rule).
    pub fn has_dns(&self) -> bool {
        self.is_bridge() && !self.predefined
    }

    pub fn subnet(&self) -> Option<Subnet> {
        self.subnet.parse().ok()
    }

    pub fn gateway_ip(&self) -> Option<Ipv4Addr> {
        self.gateway.parse().ok()
    }
}

/// An IPv4 subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    pub fn mask(self) -> u32 {
        match self.prefix {
            0 => 0,
            p => u32::MAX << (32 - p),
        }
    }

    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.base)
    }

    pub fn overlaps(self, other: Subnet) -> bool {
        let mask = self.mask() & other.mask();
        u32::from(self.base) & mask == u32::from(other.base) & mask
    }

    /// The first usable address (docker's default gateway).
    pub fn first_host(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + 1)
    }

    /// The broadcast address.
    pub fn last(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) | !self.mask())
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

impl std::str::FromStr for Subnet {
    type Err = String;

    fn from_str(text: &str) -> Result<Subnet, String> {
        let bad = || format!("invalid subnet {text:?}: expected an IPv4 CIDR like 172.20.0.0/16");
        let (ip, prefix) = text.split_once('/').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(format!(
                "invalid subnet {text:?}: the prefix must be between /8 and /30"
            ));
        }
        let subnet = Subnet { base: ip, prefix };
        let base = Ipv4Addr::from(u32::from(ip) & subnet.mask());
        Ok(Subnet { base, prefix })
    }
}

/// The leases of one network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Leases {
    /// Address -> the container holding it.
    pub leased: BTreeMap<Ipv4Addr, String>,
    /// The last address handed out: the next search starts after it, so a released
    /// address is not reused at once (stale ARP entries elsewhere).
    pub last: Option<Ipv4Addr>,
}

impl Leases {
    /// The next free address of `subnet` (not the network, gateway or broadcast address).
    pub fn allocate(&mut self, subnet: Subnet, gateway: Ipv4Addr, owner: &str) -> Option<Ipv4Addr> {
        let first = u32::from(subnet.base) + 1;
        let last = u32::from(subnet.last()) - 1;
        let size = last.checked_sub(first)? + 1;
        let start = match self.last.map(u32::from) {
            Some(l) if (first..=last).contains(&l) => l + 1,
            _ => first,
        };
        for i in 0..size {
            let candidate = first + (start - first + i) % size;
            let ip = Ipv4Addr::from(candidate);
            if ip != gateway && !self.leased.contains_key(&ip) {
                self.leased.insert(ip, owner.to_string());
                self.last = Some(ip);
                return Some(ip);
            }
        }
        None
    }

    /// Takes a fixed address (`--ip`); false when someone holds it.
    pub fn claim(&mut self, ip: Ipv4Addr, owner: &str) -> bool {
        match self.leased.get(&ip) {
            Some(holder) => holder == owner,
            None => {
                self.leased.insert(ip, owner.to_string());
                true
            }
        }
    }

    pub fn release_owner(&mut self, owner: &str) {
        self.leased.retain(|_, holder| holder != owner);
    }
}

/// The two files.
#[derive(Debug)]
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub fn new(root: &Path) -> Files {
        Files {
            dir: root.join("networks"),
        }
    }

    fn networks_path(&self) -> PathBuf {
        self.dir.join("networks.json")
    }

    fn ipam_path(&self) -> PathBuf {
        self.dir.join("ipam.json")
    }

    pub fn load_networks(&self) -> std::io::Result<Vec<NetworkRecord>> {
        match read_json(&self.networks_path()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            other => other,
        }
    }

    pub fn save_networks(&self, networks: &[NetworkRecord]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        write_json_atomic(&self.networks_path(), &networks)
    }

    pub fn load_ipam(&self) -> std::io::Result<BTreeMap<String, Leases>> {
        match read_json(&self.ipam_path()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            other => other,
        }
    }

    pub fn save_ipam(&self, ipam: &BTreeMap<String, Leases>) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        write_json_atomic(&self.ipam_path(), ipam)
    }
}

/// The IPv4 routes of the host (from /proc/net/route, no process): what a new subnet must
/// not overlap. Each with the interface it goes out of.
pub fn host_routes() -> Vec<(String, Subnet)> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            if mask == 0 {
                return None; // the default route overlaps everything; it is not a subnet
            }
            let base = Ipv4Addr::from(u32::from_be(dest));
            let prefix = u32::from_be(mask).count_ones() as u8;
            Some((f[0].to_string(), Subnet { base, prefix }))
        })
        .collect()
}

/// Where new networks' subnets come from, docker's default pools: 172.17-31.0.0/16, then
/// 192.168.0-240.0/20.
pub fn pool() -> impl Iterator<Item = Subnet> {
    let b = (17..=31u8).map(|n| Subnet {
        base: Ipv4Addr::new(172, n, 0, 0),
        prefix: 16,
    });
    let c = (0..16u8).map(|n| Subnet {
        base: Ipv4Addr::new(192, 168, n * 16, 0),
        prefix: 20,
    });
    b.chain(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_parse_and_overlap() {
        let a: Subnet = "172.18.3.4/16".parse().unwrap();
        assert_eq!(a.to_string(), "172.18.0.0/16");
        assert!(a.contains(Ipv4Addr::new(172, 18, 9, 9)));
        assert!(a.overlaps("172.18.5.0/24".parse().unwrap()));
        assert!(!a.overlaps("172.19.0.0/16".parse().unwrap()));
        assert!("10.0.0.0".parse::<Subnet>().is_err());
        assert!("10.0.0.0/31".parse::<Subnet>().is_err());
    }

    #[test]
    fn leases_skip_gateway_and_do_not_reuse_at_once() {
        let subnet: Subnet = "10.9.0.0/29".parse().unwrap();
        let gw = subnet.first_host();
        let mut l = Leases::default();
        let a = l.allocate(subnet, gw, "a").unwrap();
        assert_eq!(a, Ipv4Addr::new(10, 9, 0, 2));
        let b = l.allocate(subnet, gw, "b").unwrap();
        l.release_owner("a");
        let c = l.allocate(subnet, gw, "c").unwrap();
        assert_eq!(
            (b, c),
            (Ipv4Addr::new(10, 9, 0, 3), Ipv4Addr::new(10, 9, 0, 4))
        );
        for owner in ["d", "e", "f"] {
            l.allocate(subnet, gw, owner).unwrap();
        }
        // .2 .. .6 are taken now (a's .2 came back round); the /29 is full.
        assert!(l.allocate(subnet, gw, "g").is_none());
        assert!(!l.claim(Ipv4Addr::new(10, 9, 0, 3), "x"));
    }
}
