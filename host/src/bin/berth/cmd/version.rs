//! `berth version`: this CLI's version, and the daemon's, agent's and kernel's when running.

use berth_host::state::StateDirs;

use super::{client, print_json};

pub async fn version(dirs: &StateDirs, json: bool) -> anyhow::Result<i32> {
    let cli = env!("CARGO_PKG_VERSION");
    let report = client(dirs).status().await.ok();
    let agent = report.as_ref().and_then(|r| r.agent.clone());
    if json {
        print_json(&serde_json::json!({
            "cli": cli,
            "protocol": berth_protocol::PROTOCOL_VERSION,
            "daemon": report.as_ref().map(|r| r.daemon_version.clone()),
            "agent": agent.as_ref().map(|a| a.version.clone()),
            "kernel": agent.as_ref().map(|a| a.kernel.clone()),
        }))?;
        return Ok(0);
    }
    println!(
        "berth {cli} (protocol {})",
        berth_protocol::PROTOCOL_VERSION
    );
    match (&report, &agent) {
        (Some(r), Some(a)) => {
            println!("daemon {}", r.daemon_version);
            println!("berth-agent {} (protocol {})", a.version, a.protocol);
            println!("kernel {}", a.kernel);
        }
        (Some(r), None) => println!(
            "daemon {} (the VM is {})",
            r.daemon_version,
            r.phase.describe()
        ),
        (None, _) => println!("(Berth is not running: the agent's version shows once it is)"),
    }
    Ok(0)
}
