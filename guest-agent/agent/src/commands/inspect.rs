//! Looking at containers (`top`, `stats`) and removing images (`rmi`, refused while a
//! container uses the image).

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

/// One sample per container: CPU time in nanoseconds, memory in bytes.
pub fn stats(engine: &Engine, containers: &[String]) -> anyhow::Result<u8> {
    anyhow::ensure!(!containers.is_empty(), "name at least one container");
    println!(
        "{:<14} {:>16} {:>14} {:>20} {:>6}",
        "CONTAINER", "CPU NS", "MEM USAGE", "MEM LIMIT", "PIDS"
    );
    for container in containers {
        let stats = engine.stats(container)?;
        let limit = stats
            .memory_limit
            .map_or_else(|| "unlimited".to_string(), |l| l.to_string());
        let id: String = container.chars().take(14).collect();
        println!(
            "{id:<14} {:>16} {:>14} {limit:>20} {:>6}",
            stats.cpu_usage_ns, stats.memory_usage, stats.pids
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
