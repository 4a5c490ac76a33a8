//! Host-wide network state shared by every engine on the machine (tests run several at
//! once, each with its own root): a lock around choosing subnets and creating bridges, and
//! `/run/berth/bridges.json`, which records the bridges each engine root owns. An engine
//! whose root has been deleted (a test's temporary root) can no longer clean up after
//! itself, so the next engine to open removes its bridges and rules.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::firewall;
use super::netlink::Netlink;
use super::store::{NetworkRecord, Subnet};
use super::{NetworkError, Result};
use crate::container::record::{read_json, write_json_atomic};

const HOST_DIR: &str = "/run/berth";

fn owners_path() -> PathBuf {
    Path::new(HOST_DIR).join("bridges.json")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Owned {
    root: PathBuf,
    id: String,
    bridge: String,
    subnet: String,
}

/// The host-wide lock, held while the guard lives.
#[derive(Debug)]
pub struct HostLock {
    _lock: nix::fcntl::Flock<File>,
}

pub fn lock() -> Result<HostLock> {
    let err = |e: std::io::Error| NetworkError::Host {
        action: format!("lock {HOST_DIR}/network.lock"),
        source: e,
    };
    std::fs::create_dir_all(HOST_DIR).map_err(err)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(Path::new(HOST_DIR).join("network.lock"))
        .map_err(err)?;
    let lock = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, errno)| err(errno.into()))?;
    Ok(HostLock { _lock: lock })
}

fn load() -> Vec<Owned> {
    read_json(&owners_path()).unwrap_or_default()
}

fn save(owned: &[Owned]) {
    if let Err(e) = write_json_atomic(&owners_path(), &owned) {
        tracing::warn!("cannot save {}: {e}", owners_path().display());
    }
}

/// Records that `root` owns `net`'s bridge (the host lock is held).
pub fn register_bridge(root: &Path, net: &NetworkRecord) {
    let mut owned = load();
    owned.retain(|o| o.bridge != net.bridge);
    owned.push(Owned {
        root: root.to_path_buf(),
        id: net.id.clone(),
        bridge: net.bridge.clone(),
        subnet: net.subnet.clone(),
    });
    save(&owned);
}

/// The subnets of every engine's bridges, so two engines never pick the same one.
pub fn registered_subnets() -> Vec<Subnet> {
    load()
        .iter()
        .filter_map(|o| o.subnet.parse().ok())
        .collect()
}

/// Deletes a bridge and the network's rules, and forgets it.
pub fn remove_bridge(id: &str, bridge: &str) {
    if let Ok(mut nl) = Netlink::open() {
        match nl.delete_link(bridge) {
            Err(e) if e.raw_os_error() != Some(libc::ENODEV) => {
                tracing::warn!("cannot remove the bridge {bridge}: {e}")
            }
            _ => {}
        }
    }
    if let Err(e) = firewall::uninstall(id) {
        tracing::warn!("cannot remove the rules of {bridge}: {e}");
    }
    if let Ok(_lock) = lock() {
        let mut owned = load();
        owned.retain(|o| o.bridge != bridge);
        save(&owned);
    }
}

/// Removes the bridges and rules of engine roots that no longer exist.
pub fn sweep_stale_roots() {
    let stale: Vec<Owned> = load()
        .into_iter()
        .filter(|o| !o.root.join("networks").exists())
        .collect();
    for o in stale {
        tracing::info!(
            "removing {} of the deleted engine root {}",
            o.bridge,
            o.root.display()
        );
        remove_bridge(&o.id, &o.bridge);
    }
}

pub fn sysctl(key: &str, value: &str) -> Result<()> {
    let path = Path::new("/proc/sys").join(key);
    if std::fs::read_to_string(&path).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(&path, value).map_err(|e| NetworkError::Host {
        action: format!("set {}", path.display()),
        source: e,
    })
}

/// Routing between the bridges and the host's interfaces (docker enables it too).
pub fn enable_forwarding() -> Result<()> {
    sysctl("net/ipv4/ip_forward", "1")
}
