//! The registry part of the engine's configuration file: mirrors, insecure registries,
//! extra CA certificates. The file is JSON, read at each pull (it is small, and an edit
//! then needs no restart):
//!
//! ```json
//! { "registry-mirrors": ["http://127.0.0.1:5000"],
//!   "insecure-registries": ["myregistry.lan:5000"],
//!   "ca-files": ["/etc/berth/certs/my-ca.pem"] }
//! ```
//!
//! Its path is `$BERTH_ENGINE_CONFIG`, else `/etc/berth/engine.json`; a missing file is
//! an empty configuration.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{RegistryError, Result};

/// Where the configuration is read from when `BERTH_ENGINE_CONFIG` is not set.
pub const DEFAULT_PATH: &str = "/etc/berth/engine.json";

/// Larger than any sane configuration: the file is read into memory.
const MAX_SIZE: u64 = 1024 * 1024;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RegistryConfig {
    /// Tried in order before the default registry (Docker Hub) for its images, as
    /// docker's `registry-mirrors`: `scheme://host[:port]`.
    #[serde(default)]
    pub registry_mirrors: Vec<String>,
    /// Registries reached over plain HTTP, or over TLS without verifying the
    /// certificate. Loopback registries are always insecure, as in docker.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
    /// PEM files of CAs trusted beside the system roots.
    #[serde(default)]
    pub ca_files: Vec<PathBuf>,
}

impl RegistryConfig {
    /// Reads the configuration from its usual place.
    pub fn load() -> Result<Self> {
        let path = std::env::var_os("BERTH_ENGINE_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
        Self::load_from(&path)
    }

    pub fn load_from(path: &Path) -> Result<Self> {
        let error = |message: String| RegistryError::Config {
            path: path.display().to_string(),
            message,
        };
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(error(e.to_string())),
        };
        if meta.len() > MAX_SIZE {
            return Err(error(format!("over {MAX_SIZE} bytes")));
        }
        let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| error(e.to_string()))
    }

    /// Whether `host` (`name[:port]`) may be reached without TLS verification.
    pub fn is_insecure(&self, host: &str) -> bool {
        is_loopback(host)
            || self
                .insecure_registries
                .iter()
                .any(|r| strip_scheme(r) == host)
    }
}

/// `https://host:5000/` -> `host:5000`.
pub fn strip_scheme(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// `localhost`, `127.0.0.0/8` and `::1`, with or without a port.
pub fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_configured_registries_are_insecure() {
        let config: RegistryConfig =
            serde_json::from_str(r#"{"insecure-registries": ["http://reg.lan:5000"]}"#).unwrap();
        assert!(config.is_insecure("127.0.0.1:5000"));
        assert!(config.is_insecure("localhost"));
        assert!(config.is_insecure("[::1]:443"));
        assert!(config.is_insecure("reg.lan:5000"));
        assert!(!config.is_insecure("reg.lan"));
        assert!(!config.is_insecure("10.0.0.1:5000"));
    }

    #[test]
    fn a_missing_file_is_an_empty_configuration() {
        let config = RegistryConfig::load_from(Path::new("/nonexistent/engine.json")).unwrap();
        assert!(config.registry_mirrors.is_empty());
    }
}
