//! `berth status`: what the daemon knows, plus the agent asked live.

use berth_host::daemon::proto::{Phase, StatusReport, NO_DATA_DISK};
use berth_host::daemon::ClientError;
use berth_host::state::StateDirs;

use super::{client, human_bytes, human_duration, print_json};

pub async fn status(dirs: &StateDirs, json: bool) -> anyhow::Result<i32> {
    let report = match client(dirs).status().await {
        Ok(report) => report,
        Err(ClientError::NotRunning) => {
            if json {
                print_json(&serde_json::json!({ "phase": "not-running" }))?;
            } else {
                println!("Berth is not running: run `berth start`");
            }
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    if json {
        print_json(&report)?;
    } else {
        print(&report);
    }
    Ok(if report.phase == Phase::Running { 0 } else { 1 })
}

fn print(r: &StatusReport) {
    match r.phase {
        Phase::Failed => println!("Berth failed"),
        phase => println!("Berth is {}", phase.describe()),
    }
    let reattached = if r.reattached { ", reattached" } else { "" };
    println!(
        "  VM:          {}, {} CPUs, {} MiB{reattached}",
        r.backend, r.cpus, r.memory_mib
    );
    if let Some(a) = &r.agent {
        println!(
            "  Agent:       berth-agent {} (protocol {}), up {}",
            a.version,
            a.protocol,
            human_duration(a.uptime_ms)
        );
        println!("  Kernel:      {}", a.kernel);
        println!(
            "  Engine:      {} ({} restarts)",
            a.engine, a.engine_restarts
        );
        println!("  Disk:        {}", disk(a.data_disk.as_ref()));
    }
    println!("  Docker:      unix://{}", r.docker_socket.display());
    let shares: Vec<String> = r.shares.iter().map(|s| s.display().to_string()).collect();
    println!(
        "  Shares:      {}",
        if shares.is_empty() {
            "none".into()
        } else {
            shares.join(", ")
        }
    );
    if r.ports.is_empty() {
        println!("  Ports:       none");
    } else {
        println!("  Ports:");
        for p in &r.ports {
            println!(
                "    {}:{} -> {}/{} (container {})",
                p.host_ip,
                p.host_port,
                p.container_port,
                proto(p.proto),
                &p.container_id[..p.container_id.len().min(12)]
            );
        }
    }
    if !r.port_errors.is_empty() {
        println!("  Port errors:");
        for e in &r.port_errors {
            println!("    {}/{}: {}", e.host_port, proto(e.proto), e.message);
        }
    }
    if let Some(error) = &r.last_error {
        println!("  Last error:  {error}");
    }
    println!(
        "  Daemon:      pid {}, version {}",
        r.daemon_pid, r.daemon_version
    );
}

/// The data disk's use, or a warning that there is none: then nothing outlives the VM.
fn disk(disk: Option<&berth_protocol::Disk>) -> String {
    match disk {
        Some(d) => format!(
            "{}, {} used of {}",
            d.device,
            human_bytes(d.total_bytes.saturating_sub(d.free_bytes)),
            human_bytes(d.total_bytes)
        ),
        None => format!("NONE. {NO_DATA_DISK}; `berth logs` shows the console"),
    }
}

fn proto(p: berth_protocol::Proto) -> &'static str {
    match p {
        berth_protocol::Proto::Tcp => "tcp",
        berth_protocol::Proto::Udp => "udp",
    }
}
