use std::path::Path;

use anyhow::Context;
use berth_engine::engine::Engine;
use berth_engine::image::import::{import_path, ImportOptions};

pub fn load(engine: &Engine, path: &Path) -> anyhow::Result<u8> {
    let loaded = import_path(engine.images(), path, &ImportOptions::default())
        .with_context(|| format!("Cannot load {}", path.display()))?;
    for image in loaded {
        match image.names.first() {
            Some(name) => println!("Loaded image: {name}"),
            None => println!("Loaded image ID: {}", image.config),
        }
    }
    Ok(0)
}

pub fn list(engine: &Engine) -> anyhow::Result<u8> {
    println!("{:<48} {:<20} SIZE", "REPOSITORY:TAG", "IMAGE ID");
    for image in engine.images().images()? {
        let id: String = image.config.digest().chars().take(12).collect();
        // What `docker images` shows is the unpacked size; the compressed layers are what
        // this store holds, so show those, as the registry would report them.
        let size: u64 = engine
            .images()
            .manifest(&image)?
            .layers()
            .iter()
            .map(|l| l.size())
            .sum();
        let size = human_size(size);
        let names = if image.names.is_empty() {
            vec!["<none>".to_string()]
        } else {
            image.names.clone()
        };
        for name in names {
            println!("{name:<48} {id:<20} {size}");
        }
    }
    Ok(0)
}

fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.3}{}", units[unit]).replace(".000", "")
}
