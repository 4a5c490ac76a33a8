//! Looking at containers (`top`, `stats`) and removing images (`rmi`, refused while a
//! container uses the image; `image prune`).

use berth_engine::engine::{Engine, ImageDeleted};

pub fn top(engine: &Engine, container: &str) -> anyhow::Result<u8> {
    let top = engine.top(container)?;
    let rows = std::iter::once(&top.titles).chain(&top.processes);
    let widths: Vec<usize> = (0..top.titles.len())
        .map(|i| {
            rows.clone()
                .filter_map(|r| r.get(i))
                .map(String::len)
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            match i + 1 == row.len() {
                true => line.push_str(cell),
                false => line.push_str(&format!("{cell:<width$}   ", width = widths[i])),
            }
        }
        println!("{line}");
    }
    Ok(0)
}

/// One sample per container: CPU time in nanoseconds; memory, block io and network
/// (all interfaces but `lo`) in bytes.
pub fn stats(engine: &Engine, containers: &[String]) -> anyhow::Result<u8> {
    anyhow::ensure!(!containers.is_empty(), "name at least one container");
    println!(
        "{:<14} {:>16} {:>14} {:>20} {:>6} {:>12} {:>12} {:>12} {:>12}",
        "CONTAINER",
        "CPU NS",
        "MEM USAGE",
        "MEM LIMIT",
        "PIDS",
        "BLOCK READ",
        "BLOCK WRITE",
        "NET RX",
        "NET TX"
    );
    for container in containers {
        let stats = engine.stats(container)?;
        let limit = stats
            .memory_limit
            .map_or_else(|| "unlimited".to_string(), |l| l.to_string());
        let id: String = container.chars().take(14).collect();
        println!(
            "{id:<14} {:>16} {:>14} {limit:>20} {:>6} {:>12} {:>12} {:>12} {:>12}",
            stats.cpu_usage_ns,
            stats.memory_usage,
            stats.pids,
            stats.block_read_bytes,
            stats.block_write_bytes,
            stats.net_rx_bytes,
            stats.net_tx_bytes
        );
    }
    Ok(0)
}

pub fn rmi(engine: &Engine, images: &[String], force: bool) -> anyhow::Result<u8> {
    anyhow::ensure!(!images.is_empty(), "name at least one image");
    let mut failed = false;
    for image in images {
        match engine.remove_image(image, force) {
            Ok(done) => {
                for step in done {
                    match step {
                        ImageDeleted::Untagged(name) => println!("Untagged: {name}"),
                        ImageDeleted::Deleted(id) => println!("Deleted: {id}"),
                    }
                }
            }
            Err(e) => {
                eprintln!("berth-agent: {e}");
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

/// `image prune [-a]`: what was removed, then the space reclaimed.
pub fn prune(engine: &Engine, all: bool) -> anyhow::Result<u8> {
    let pruned = engine.prune_images(all)?;
    for step in &pruned.deleted {
        match step {
            ImageDeleted::Untagged(name) => println!("untagged: {name}"),
            ImageDeleted::Deleted(id) => println!("deleted: {id}"),
        }
    }
    let gc = &pruned.collected;
    println!(
        "Total reclaimed space: {} bytes ({} blobs, {} layers)",
        gc.bytes_freed,
        gc.blobs_removed.len(),
        gc.layers_removed.len()
    );
    Ok(0)
}
