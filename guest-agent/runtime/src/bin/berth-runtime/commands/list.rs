use std::path::Path;

use berth_runtime::{Container, RuntimeError};

use crate::cli::{ListArgs, OutputFormat};

pub fn run(root: &Path, args: ListArgs) -> anyhow::Result<u8> {
    let mut containers = Vec::new();
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries.flatten().collect::<Vec<_>>(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let id = entry.file_name().to_string_lossy().into_owned();
        match Container::load(root, &id) {
            Ok(mut c) => {
                c.state.status = c.status();
                containers.push(c.state);
            }
            // Half-written or foreign entries are skipped, as runc does.
            Err(RuntimeError::NotFound(_) | RuntimeError::InvalidId(_)) => {}
            Err(e) => tracing::warn!("{e}"),
        }
    }
    containers.sort_by(|a, b| a.created.cmp(&b.created));
    if args.quiet {
        containers.iter().for_each(|c| println!("{}", c.id));
    } else if args.format == OutputFormat::Json {
        let list: Vec<_> = containers.iter().map(|c| c.to_oci_json()).collect();
        println!("{}", serde_json::to_string(&list)?);
    } else {
        println!(
            "{:<24} {:<8} {:<10} {:<40} {:<32} OWNER",
            "ID", "PID", "STATUS", "BUNDLE", "CREATED"
        );
        for c in &containers {
            let pid = if c.status == berth_runtime::Status::Stopped {
                0
            } else {
                c.pid
            };
            println!(
                "{:<24} {:<8} {:<10} {:<40} {:<32} {}",
                c.id,
                pid,
                c.status,
                c.bundle.display(),
                c.created,
                c.owner
            );
        }
    }
    Ok(0)
}
