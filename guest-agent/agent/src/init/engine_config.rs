//! The engine's registry configuration from the host's settings: the kernel command line
//! carries `berth.insecure=` and `berth.mirrors=` (the host's `insecure_registries` and
//! `registry_mirrors`), and init writes them where the engine reads its configuration
//! ([`DEFAULT_PATH`], read at each pull) before the engine starts. The guest's root is in
//! memory, so the host's settings are the one place this lives, as Docker Desktop's
//! "Docker Engine" settings are.

use std::path::Path;

pub use berth_engine::registry::config::DEFAULT_PATH;

/// Writes the configuration when the host asked for any; otherwise leaves nothing (the
/// engine's defaults).
pub fn write(path: &Path, insecure: &[String], mirrors: &[String]) -> std::io::Result<bool> {
    if insecure.is_empty() && mirrors.is_empty() {
        return Ok(false);
    }
    let config = serde_json::json!({
        "insecure-registries": insecure,
        "registry-mirrors": mirrors,
    });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(&config)?)?;
    Ok(true)
}

/// One entry of a registry list: `host[:port]` or `scheme://host[:port]`, characters a
/// host name, an IP address or a URL needs. Anything else is ignored (and logged) rather
/// than written into the engine's configuration.
pub fn parse_list(value: &str) -> Option<Vec<String>> {
    let entries: Vec<String> = value
        .split(',')
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    let valid = entries.iter().all(|e| {
        e.len() <= 255
            && e.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:/[]_".contains(&b))
    });
    valid.then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_engine::registry::config::RegistryConfig;

    #[test]
    fn the_written_file_is_what_the_engine_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etc/berth/engine.json");
        let insecure = vec!["10.0.2.2:5000".to_string()];
        let mirrors = vec!["http://10.0.2.2:5001".to_string()];
        assert!(write(&path, &insecure, &mirrors).unwrap());
        let config = RegistryConfig::load_from(&path).unwrap();
        assert!(config.is_insecure("10.0.2.2:5000"));
        assert!(!config.is_insecure("10.0.2.2:5001"));
        assert_eq!(config.registry_mirrors, mirrors);
    }

    #[test]
    fn nothing_asked_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.json");
        assert!(!write(&path, &[], &[]).unwrap());
        assert!(!path.exists());
    }

    #[test]
    fn lists_hold_only_host_and_url_characters() {
        assert_eq!(
            parse_list("host.berth.internal:5000,[::1]:5000"),
            Some(vec![
                "host.berth.internal:5000".to_string(),
                "[::1]:5000".to_string()
            ])
        );
        assert_eq!(parse_list(""), Some(vec![]));
        assert_eq!(parse_list("a\"b"), None);
        assert_eq!(parse_list("a b"), None);
    }
}
