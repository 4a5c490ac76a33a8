//! `hello`: who this agent is and what it serves.

use berth_protocol::{Hello, PROTOCOL_VERSION};

use super::Context;

pub fn hello(ctx: &Context) -> Hello {
    let mut capabilities = vec!["exec", "port-events", "forward-tcp", "forward-udp", "echo"];
    if ctx.vm.is_some() {
        capabilities.extend(["time-sync", "shutdown", "docker-api"]);
    }
    Hello {
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: PROTOCOL_VERSION,
        capabilities: capabilities.into_iter().map(String::from).collect(),
        kernel: kernel(),
        uptime_ms: uptime_ms(),
    }
}

/// `uname -srm`.
pub fn kernel() -> String {
    match nix::sys::utsname::uname() {
        Ok(u) => format!(
            "{} {} {}",
            u.sysname().to_string_lossy(),
            u.release().to_string_lossy(),
            u.machine().to_string_lossy()
        ),
        Err(_) => "unknown".into(),
    }
}

/// Milliseconds since the kernel booted (CLOCK_BOOTTIME counts suspended time too).
pub fn uptime_ms() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
        .map(|t| t.tv_sec() as u64 * 1000 + t.tv_nsec() as u64 / 1_000_000)
        .unwrap_or(0)
}
