//! `health`: the engine, memory, and the data disk.

use berth_protocol::{Disk, EngineState, Health};

use super::Context;

pub fn health(ctx: &Context) -> Health {
    let (engine, engine_restarts) = match &ctx.vm {
        Some(vm) => vm.supervisor.status(),
        // Natively someone else runs the engine: whoever answers on its socket.
        None => match super::docker::server_pid(&ctx.docker_socket) {
            Some(pid) => (EngineState::Running { pid }, 0),
            None => (EngineState::Starting, 0),
        },
    };
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Health {
        engine,
        engine_restarts,
        uptime_ms: super::hello::uptime_ms(),
        memory_total_kib: kib(&meminfo, "MemTotal:"),
        memory_available_kib: kib(&meminfo, "MemAvailable:"),
        agent_rss_kib: kib(&status, "VmRSS:"),
        data_disk: ctx
            .vm
            .as_ref()
            .and_then(|vm| vm.disk.get()?.as_ref())
            .map(disk),
    }
}

fn disk(d: &crate::init::disk::DataDisk) -> Disk {
    let (total_bytes, free_bytes) = nix::sys::statvfs::statvfs(crate::init::disk::DATA_DIR)
        .map(|s| {
            let unit = s.fragment_size();
            (s.blocks() * unit, s.blocks_available() * unit)
        })
        .unwrap_or((0, 0));
    Disk {
        device: d.device.display().to_string(),
        total_bytes,
        free_bytes,
        formatted_this_boot: d.formatted_this_boot,
    }
}

/// The number after `key` in a /proc file of `Key:   123 kB` lines.
fn kib(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn proc_fields() {
        let text = "MemTotal:        2014520 kB\nMemAvailable:    1830000 kB\n";
        assert_eq!(super::kib(text, "MemTotal:"), 2014520);
        assert_eq!(super::kib(text, "MemAvailable:"), 1830000);
        assert_eq!(super::kib(text, "VmRSS:"), 0);
    }
}
