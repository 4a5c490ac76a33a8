//! The VM's own network: lo, the first NIC with the static address QEMU user networking
//! expects, a default route to the host, DNS, /etc/hosts and the hostname. Uses the
//! engine's rtnetlink client rather than a second one.

use std::io;
use std::path::Path;

use berth_engine::network::netlink::Netlink;

use super::cmdline::Cmdline;

pub const HOSTNAME: &str = "berth";

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("No network interface besides lo")]
    NoInterface,
    #[error("Cannot {0}")]
    Netlink(String, #[source] io::Error),
    #[error("Cannot write {0}")]
    File(&'static str, #[source] io::Error),
}

/// Configures everything; returns the NIC's name.
pub fn configure(c: &Cmdline) -> Result<String, NetworkError> {
    let nl_err = |what: String| move |e| NetworkError::Netlink(what, e);
    let mut nl = Netlink::open().map_err(nl_err("open a netlink socket".into()))?;
    let lo = nl.link_index("lo").map_err(nl_err("find lo".into()))?;
    nl.set_up(lo).map_err(nl_err("bring lo up".into()))?;
    let nic = first_nic(Path::new("/sys/class/net")).ok_or(NetworkError::NoInterface)?;
    let index = nl.link_index(&nic).map_err(nl_err(format!("find {nic}")))?;
    nl.set_up(index)
        .map_err(nl_err(format!("bring {nic} up")))?;
    nl.add_address(index, c.ip, c.prefix)
        .map_err(nl_err(format!("add {}/{} to {nic}", c.ip, c.prefix)))?;
    match nl.add_default_route(index, c.gateway) {
        Err(e) if e.raw_os_error() != Some(libc::EEXIST) => {
            return Err(NetworkError::Netlink(format!("route via {}", c.gateway), e))
        }
        _ => {}
    }
    write_files(c)?;
    Ok(nic)
}

fn write_files(c: &Cmdline) -> Result<(), NetworkError> {
    std::fs::create_dir_all("/etc").map_err(|e| NetworkError::File("/etc", e))?;
    let write = |path: &'static str, text: String| {
        std::fs::write(path, text).map_err(|e| NetworkError::File(path, e))
    };
    write("/etc/resolv.conf", format!("nameserver {}\n", c.dns))?;
    write("/etc/hosts", hosts(c))?;
    write("/etc/hostname", format!("{HOSTNAME}\n"))?;
    nix::unistd::sethostname(HOSTNAME)
        .map_err(|e| NetworkError::File("the hostname", io::Error::from(e)))
}

/// The gateway is the host's loopback under QEMU user networking, so the names Docker
/// Desktop users already write for "my machine" point there.
fn hosts(c: &Cmdline) -> String {
    format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         {}\t{HOSTNAME}\n{}\thost.berth.internal host.docker.internal\n",
        c.ip, c.gateway
    )
}

/// The first interface backed by a device (virtio-net), else the first that is not lo;
/// sorted by name so eth0 wins over eth1.
fn first_nic(class: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(class)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lo")
        .collect();
    names.sort();
    names
        .iter()
        .find(|n| class.join(n).join("device").exists())
        .or(names.first())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_names_the_host() {
        let text = hosts(&Cmdline::default());
        assert!(text.contains("10.0.2.2\thost.berth.internal host.docker.internal\n"));
        assert!(text.contains("10.0.2.15\tberth\n"));
    }

    #[test]
    fn the_nic_with_a_device_wins() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["lo", "dummy0", "eth0"] {
            std::fs::create_dir(dir.path().join(n)).unwrap();
        }
        std::fs::create_dir(dir.path().join("eth0/device")).unwrap();
        assert_eq!(first_nic(dir.path()).as_deref(), Some("eth0"));
        std::fs::remove_dir(dir.path().join("eth0/device")).unwrap();
        assert_eq!(first_nic(dir.path()).as_deref(), Some("dummy0"));
    }
}
