//! Netfilter rules through iptables (the nft backend on Debian 12), in chains of Berth's
//! own, three per bridge network (`<id12>` is the network ID's first 12 characters):
//!
//! - `filter BERTH-F-<id12>` (from FORWARD): replies, published ports, traffic inside
//!   the bridge and out of it (refused both ways for an internal network);
//! - `nat BERTH-D-<id12>` (from PREROUTING and OUTPUT, for local destinations): DNAT of
//!   published ports to the container;
//! - `nat BERTH-P-<id12>` (from POSTROUTING): masquerade of the subnet's outbound traffic,
//!   of 127.0.0.1 sources that DNAT sent onto the bridge (the bridge has `route_localnet`,
//!   docker's userland-proxy=false way), and of hairpin traffic.
//!
//! A chain's content is always written whole with `iptables-restore --noflush` (declaring a
//! chain flushes it), in one process and atomically; the jumps from the built-in chains are
//! added only when `iptables-save` does not show them. So an engine that restarts, or
//! writes the same network twice, never duplicates a rule.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use super::ports::Proto;

/// A published port as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    pub proto: Proto,
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
}

/// What one network's chains are made from.
#[derive(Debug, Clone)]
pub struct NetRules<'a> {
    pub id: &'a str,
    pub bridge: &'a str,
    /// `172.18.0.0/16`.
    pub subnet: &'a str,
    pub internal: bool,
    pub ports: &'a [PortRule],
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

pub fn chain_names(id: &str) -> [String; 3] {
    let s = short(id);
    [
        format!("BERTH-F-{s}"),
        format!("BERTH-D-{s}"),
        format!("BERTH-P-{s}"),
    ]
}

/// The jumps into the network's chains: (table, built-in chain, rule after `-A CHAIN`).
fn jumps(id: &str) -> Vec<(&'static str, &'static str, String)> {
    let [f, d, p] = chain_names(id);
    vec![
        ("filter", "FORWARD", format!("-j {f}")),
        (
            "nat",
            "PREROUTING",
            format!("-m addrtype --dst-type LOCAL -j {d}"),
        ),
        (
            "nat",
            "OUTPUT",
            format!("-m addrtype --dst-type LOCAL -j {d}"),
        ),
        ("nat", "POSTROUTING", format!("-j {p}")),
    ]
}

/// The restore script that (re)writes the network's three chains.
fn chains_script(net: &NetRules, missing_jumps: &[(&str, &str, String)]) -> String {
    let [f, d, p] = chain_names(net.id);
    let br = net.bridge;
    let mut filter = format!("*filter\n:{f} - [0:0]\n");
    let mut nat = format!("*nat\n:{d} - [0:0]\n:{p} - [0:0]\n");
    for (table, chain, rule) in missing_jumps {
        // FORWARD: first, so a DROP policy or another engine's chain cannot shadow ours.
        let line = match *chain {
            "FORWARD" => format!("-I {chain} 1 {rule}\n"),
            _ => format!("-A {chain} {rule}\n"),
        };
        match *table {
            "filter" => filter.push_str(&line),
            _ => nat.push_str(&line),
        }
    }
    filter.push_str(&format!(
        "-A {f} -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
    ));
    for port in net.ports {
        let proto = port.proto.as_str();
        filter.push_str(&format!(
            "-A {f} -d {}/32 ! -i {br} -o {br} -p {proto} -m {proto} --dport {} -j ACCEPT\n",
            port.container_ip, port.container_port
        ));
        let dest = match port.host_ip.is_unspecified() {
            true => String::new(),
            false => format!("-d {}/32 ", port.host_ip),
        };
        nat.push_str(&format!(
            "-A {d} {dest}-p {proto} -m {proto} --dport {} -j DNAT --to-destination {}:{}\n",
            port.host_port, port.container_ip, port.container_port
        ));
        nat.push_str(&format!(
            "-A {p} -s {ip}/32 -d {ip}/32 -p {proto} -m {proto} --dport {} -j MASQUERADE\n",
            port.container_port,
            ip = port.container_ip
        ));
    }
    filter.push_str(&format!("-A {f} -i {br} -o {br} -j ACCEPT\n"));
    if net.internal {
        filter.push_str(&format!("-A {f} -i {br} ! -o {br} -j DROP\n"));
        filter.push_str(&format!("-A {f} ! -i {br} -o {br} -j DROP\n"));
    } else {
        filter.push_str(&format!("-A {f} -i {br} ! -o {br} -j ACCEPT\n"));
        nat.push_str(&format!(
            "-A {p} -s {} ! -o {br} -j MASQUERADE\n",
            net.subnet
        ));
    }
    nat.push_str(&format!(
        "-A {p} -o {br} -m addrtype --src-type LOCAL -j MASQUERADE\n"
    ));
    format!("{filter}COMMIT\n{nat}COMMIT\n")
}

/// The jumps of `id` `iptables-save` does not show.
fn missing_jumps(id: &str) -> std::io::Result<Vec<(&'static str, &'static str, String)>> {
    let saved = run_output(Command::new("iptables-save"))?;
    Ok(jumps(id)
        .into_iter()
        .filter(|(_, chain, rule)| !saved.lines().any(|l| l == format!("-A {chain} {rule}")))
        .collect())
}

/// Creates the network's chains and jumps (where missing) and writes its rules.
pub fn install(net: &NetRules) -> std::io::Result<()> {
    let missing = missing_jumps(net.id)?;
    restore(&chains_script(net, &missing))
}

/// Rewrites the network's chains (published ports changed).
pub fn update(net: &NetRules) -> std::io::Result<()> {
    restore(&chains_script(net, &[]))
}

/// Removes the network's jumps and chains; a network that has none is fine.
pub fn uninstall(id: &str) -> std::io::Result<()> {
    let saved = run_output(Command::new("iptables-save"))?;
    let names = chain_names(id);
    let mut filter = String::from("*filter\n");
    let mut nat = String::from("*nat\n");
    for (table, chain, rule) in jumps(id) {
        let line = format!("-A {chain} {rule}");
        let count = saved.lines().filter(|l| *l == line).count();
        let out = if table == "filter" {
            &mut filter
        } else {
            &mut nat
        };
        for _ in 0..count {
            out.push_str(&format!("-D {chain} {rule}\n"));
        }
    }
    for (i, name) in names.iter().enumerate() {
        if saved.lines().any(|l| l.starts_with(&format!(":{name} "))) {
            let out = if i == 0 { &mut filter } else { &mut nat };
            out.push_str(&format!(":{name} - [0:0]\n-X {name}\n"));
        }
    }
    restore(&format!("{filter}COMMIT\n{nat}COMMIT\n"))
}

fn restore(script: &str) -> std::io::Result<()> {
    let mut child = Command::new("iptables-restore")
        .args(["-w", "--noflush"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| std::io::Error::new(e.kind(), format!("Cannot run iptables-restore: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "iptables-restore failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

fn run_output(mut command: Command) -> std::io::Result<String> {
    let out = command
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| std::io::Error::new(e.kind(), format!("Cannot run {command:?}: {e}")))?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_has_dnat_masquerade_and_no_duplicate_jumps() {
        let ports = [PortRule {
            proto: Proto::Tcp,
            host_ip: Ipv4Addr::LOCALHOST,
            host_port: 8080,
            container_ip: Ipv4Addr::new(172, 18, 0, 2),
            container_port: 80,
        }];
        let net = NetRules {
            id: "0123456789abcdef",
            bridge: "br-0123456789ab",
            subnet: "172.18.0.0/16",
            internal: false,
            ports: &ports,
        };
        let script = chains_script(&net, &[]);
        assert!(script.contains(
            "-A BERTH-D-0123456789ab -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80\n"
        ));
        assert!(script.contains("-s 172.18.0.0/16 ! -o br-0123456789ab -j MASQUERADE"));
        assert!(!script.contains("-A FORWARD"));
        let with_jumps = chains_script(&net, &jumps(net.id));
        assert_eq!(with_jumps.matches("-I FORWARD 1 -j BERTH-F-").count(), 1);
    }
}
