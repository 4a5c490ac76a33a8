//! Registry credentials: from the client (`X-Registry-Auth`, base64url JSON as the docker
//! CLI sends it) or from the daemon user's `~/.docker/config.json` (`auths`, and the
//! `credsStore`/`credHelpers` programs `docker-credential-<name>`).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use super::config::strip_scheme;
use super::{RegistryError, Result};

/// A header or config entry over this is not credentials.
const MAX_AUTH: usize = 64 * 1024;

/// What the client or the config file gave for one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// `base64(user:password)`, as config.json stores it.
    #[serde(default)]
    pub auth: String,
    /// A registry bearer token the client already holds.
    #[serde(default, rename = "registrytoken")]
    pub registry_token: String,
    #[serde(default, rename = "serveraddress")]
    pub server_address: String,
}

impl Credentials {
    /// Decodes an `X-Registry-Auth` header; an empty one (or `{}`) is no credentials.
    pub fn from_header(value: &str) -> Result<Option<Credentials>> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        if value.len() > MAX_AUTH {
            return Err(RegistryError::BadCredentials(
                "the header is too large".into(),
            ));
        }
        let bytes = [URL_SAFE, URL_SAFE_NO_PAD, STANDARD]
            .iter()
            .find_map(|engine| engine.decode(value).ok())
            .ok_or_else(|| RegistryError::BadCredentials("the header is not base64".into()))?;
        let mut creds: Credentials = serde_json::from_slice(&bytes)
            .map_err(|e| RegistryError::BadCredentials(e.to_string()))?;
        creds.split_auth()?;
        Ok((!creds.is_empty()).then_some(creds))
    }

    pub fn basic(username: &str, password: &str) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
            ..Default::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.username.is_empty() && self.password.is_empty() && self.registry_token.is_empty()
    }

    /// Fills username and password from `auth` when only that is given.
    fn split_auth(&mut self) -> Result<()> {
        if self.auth.is_empty() || !self.username.is_empty() {
            return Ok(());
        }
        let decoded = STANDARD
            .decode(self.auth.trim())
            .map_err(|_| RegistryError::BadCredentials("auth is not base64".into()))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| RegistryError::BadCredentials("auth is not UTF-8".into()))?;
        let (user, password) = text
            .split_once(':')
            .ok_or_else(|| RegistryError::BadCredentials("auth is not user:password".into()))?;
        self.username = user.into();
        self.password = password.into();
        Ok(())
    }

    /// What oci-client authenticates with.
    pub fn to_registry_auth(&self) -> RegistryAuth {
        if !self.registry_token.is_empty() {
            RegistryAuth::Bearer(self.registry_token.clone())
        } else if self.is_empty() {
            RegistryAuth::Anonymous
        } else {
            RegistryAuth::Basic(self.username.clone(), self.password.clone())
        }
    }
}

/// The parts of docker's config.json that hold credentials.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, Credentials>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// The daemon user's stored credentials for a registry. `hosts` are the names the
/// registry may be filed under (the reference's host and the host it resolves to).
pub fn from_docker_config(hosts: &[&str]) -> Result<Option<Credentials>> {
    let Some(path) = config_path() else {
        return Ok(None);
    };
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(None);
    };
    if bytes.len() > MAX_AUTH * 16 {
        return Ok(None);
    }
    let config: DockerConfig = match serde_json::from_slice(&bytes) {
        Ok(config) => config,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable docker config");
            return Ok(None);
        }
    };
    lookup(&config, hosts)
}

fn lookup(config: &DockerConfig, hosts: &[&str]) -> Result<Option<Credentials>> {
    let matches = |key: &str| hosts.contains(&strip_scheme(key));
    if let Some((_, helper)) = config.cred_helpers.iter().find(|(k, _)| matches(k)) {
        return helper_get(helper, hosts[0]);
    }
    if let Some(store) = config.creds_store.as_deref().filter(|s| !s.is_empty()) {
        if let Some(found) = helper_get(store, hosts[0])? {
            return Ok(Some(found));
        }
    }
    match config.auths.iter().find(|(k, _)| matches(k)) {
        Some((_, creds)) => {
            let mut creds = creds.clone();
            creds.split_auth()?;
            Ok((!creds.is_empty()).then_some(creds))
        }
        None => Ok(None),
    }
}

/// Runs `docker-credential-<helper> get` with the registry on stdin.
fn helper_get(helper: &str, registry: &str) -> Result<Option<Credentials>> {
    let error = |message: String| RegistryError::Helper {
        registry: registry.into(),
        helper: helper.into(),
        message,
    };
    // The helper name comes from a file the daemon's user owns, but it still must not
    // be a path.
    if helper.contains('/') {
        return Err(error("the helper name contains a slash".into()));
    }
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| error(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(registry.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| error(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // Helpers say "credentials not found in native keychain" when they have nothing.
        if stdout.contains("not found") {
            return Ok(None);
        }
        return Err(error(format!(
            "{}{}",
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        username: String,
        secret: String,
    }
    let answer: Answer = serde_json::from_slice(&out.stdout).map_err(|e| error(e.to_string()))?;
    // Docker's convention: the user `<token>` means the secret is an identity token.
    Ok(Some(Credentials::basic(&answer.username, &answer.secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_forms() {
        let json = r#"{"username":"u","password":"p","serveraddress":"127.0.0.1:5000"}"#;
        let creds = Credentials::from_header(&URL_SAFE.encode(json))
            .unwrap()
            .unwrap();
        assert_eq!(
            creds.to_registry_auth(),
            RegistryAuth::Basic("u".into(), "p".into())
        );
        let auth = STANDARD.encode("a:b:c");
        let json = format!(r#"{{"auth":"{auth}"}}"#);
        let creds = Credentials::from_header(&URL_SAFE_NO_PAD.encode(json))
            .unwrap()
            .unwrap();
        assert_eq!(
            (creds.username.as_str(), creds.password.as_str()),
            ("a", "b:c")
        );
        assert_eq!(Credentials::from_header("").unwrap(), None);
        assert_eq!(
            Credentials::from_header(&URL_SAFE.encode("{}")).unwrap(),
            None
        );
        assert!(Credentials::from_header("!!!").is_err());
    }

    #[test]
    fn config_entries_match_with_or_without_scheme() {
        let auth = STANDARD.encode("u:p");
        let config: DockerConfig = serde_json::from_str(&format!(
            r#"{{"auths": {{"https://reg.lan:5000/v1/": {{"auth": "{auth}"}}}}}}"#
        ))
        .unwrap();
        let found = lookup(&config, &["reg.lan:5000"]).unwrap().unwrap();
        assert_eq!(found.username, "u");
        assert_eq!(lookup(&config, &["other"]).unwrap(), None);
    }
}
