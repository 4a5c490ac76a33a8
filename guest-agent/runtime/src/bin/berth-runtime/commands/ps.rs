use std::path::Path;
use std::process::Command;

use anyhow::Context;
use berth_runtime::Container;

use crate::cli::{OutputFormat, PsArgs};

pub fn run(root: &Path, args: PsArgs) -> anyhow::Result<u8> {
    let pids = Container::load(root, &args.id)?.pids()?;
    if args.format == OutputFormat::Json {
        println!("{}", serde_json::to_string(&pids)?);
        return Ok(0);
    }
    let ps_args = if args.ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        args.ps_args
    };
    let output = Command::new("ps")
        .args(&ps_args)
        .output()
        .context("Cannot run ps")?;
    anyhow::ensure!(
        output.status.success(),
        "ps {} failed: {}",
        ps_args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let pid_column = header
        .split_whitespace()
        .position(|h| h == "PID")
        .context("ps output has no PID column")?;
    println!("{header}");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(pid_column)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            println!("{line}");
        }
    }
    Ok(0)
}
