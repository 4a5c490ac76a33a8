//! The request merged over the image's config, with docker's rules:
//!
//! - Entrypoint: the request's replaces the image's; an empty one (`[]`, `[""]`) clears
//!   it. Cmd: the request's if given; otherwise the image's, unless the request gave an
//!   entrypoint (a new entrypoint does not inherit arguments meant for the old one).
//! - Env: the image's, then the request's by key (a bare `KEY` in the request unsets).
//! - WorkingDir, User, StopSignal: the request's, else the image's (else `/`, root,
//!   SIGTERM). Labels and ExposedPorts: the union, the request winning.
//! - The image's VOLUMEs not covered by a request mount are returned for the volume
//!   module to back with anonymous volumes.
//!
//! The image config is as hostile as the request: its env, working dir, stop signal and
//! volume paths are checked the same way.

use std::collections::{BTreeMap, BTreeSet};

use oci_spec::image::{Config as ImageConfig, ImageConfiguration};

use crate::container::config::{self, ConfigError, ContainerConfig};

/// Why a request and its image cannot make a container.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("No command specified")]
    NoCommand,
    #[error("Invalid image config: {field} {value:?} is not acceptable")]
    Image { field: &'static str, value: String },
}

/// What the container will be: the validated request plus the fields docker merges
/// from the image.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedConfig {
    /// The request, validated.
    pub config: ContainerConfig,
    /// Entrypoint followed by Cmd; never empty.
    pub args: Vec<String>,
    /// `KEY=value` entries, image first; PATH/HOSTNAME/TERM are added by the spec.
    pub env: Vec<String>,
    /// Absolute.
    pub working_dir: String,
    /// `""` means root.
    pub user: String,
    pub labels: BTreeMap<String, String>,
    pub exposed_ports: BTreeSet<String>,
    pub stop_signal: String,
    /// Cleaned absolute targets of the image's VOLUMEs that need an anonymous volume.
    pub image_volumes: Vec<String>,
}

/// Validates `request` and merges `image`'s config into it.
pub fn merge(
    request: &ContainerConfig,
    image: &ImageConfiguration,
) -> Result<MergedConfig, MergeError> {
    request.validate()?;
    let empty = ImageConfig::default();
    let img = image.config().as_ref().unwrap_or(&empty);

    let args = command(request, img);
    if args.is_empty() {
        return Err(MergeError::NoCommand);
    }
    let image_env = img.env().clone().unwrap_or_default();
    for entry in &image_env {
        if !entry.contains('=') || config::validate_env(entry).is_err() {
            return Err(image_error("Env", entry));
        }
    }
    let env = merge_env(&image_env, &request.env);

    let working_dir = match (&request.working_dir, img.working_dir()) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) if dir.contains('\0') => return Err(image_error("WorkingDir", dir)),
        // A relative image WORKDIR is taken from the root, as the builder would have.
        (None, Some(dir)) if !dir.is_empty() => {
            if dir.starts_with('/') {
                dir.clone()
            } else {
                format!("/{dir}")
            }
        }
        (None, _) => "/".to_string(),
    };
    let user = match (&request.user, img.user()) {
        (Some(user), _) if !user.is_empty() => user.clone(),
        (_, Some(user)) if user.contains(['\0', '\n']) => return Err(image_error("User", user)),
        (_, Some(user)) => user.clone(),
        _ => String::new(),
    };
    let stop_signal = match (&request.stop_signal, img.stop_signal()) {
        (Some(signal), _) => signal.clone(),
        (None, Some(signal)) if !signal.is_empty() => {
            config::parse_signal(signal).map_err(|_| image_error("StopSignal", signal))?;
            signal.clone()
        }
        _ => "SIGTERM".to_string(),
    };

    let mut labels = img.labels().clone().unwrap_or_default();
    labels.extend(request.labels.clone());
    let labels = labels.into_iter().collect();
    let mut exposed_ports: BTreeSet<String> = request.exposed_ports.clone();
    exposed_ports.extend(img.exposed_ports().clone().unwrap_or_default());

    Ok(MergedConfig {
        config: request.clone(),
        args,
        env,
        working_dir,
        user,
        labels,
        exposed_ports,
        stop_signal,
        image_volumes: image_volumes(request, img)?,
    })
}

/// Entrypoint ++ Cmd by docker's rules (see the module comment).
fn command(request: &ContainerConfig, img: &ImageConfig) -> Vec<String> {
    let entrypoint = match &request.entrypoint {
        Some(ep) if ep.iter().all(|s| s.is_empty()) => Vec::new(),
        Some(ep) => ep.clone(),
        None => img.entrypoint().clone().unwrap_or_default(),
    };
    let cmd = match (&request.cmd, &request.entrypoint) {
        (Some(cmd), _) if !cmd.is_empty() => cmd.clone(),
        (_, Some(_)) => Vec::new(),
        (_, None) => img.cmd().clone().unwrap_or_default(),
    };
    entrypoint.into_iter().chain(cmd).collect()
}

/// `base` with `overrides` applied by key, keeping the first position of each key.
pub fn merge_env(base: &[String], overrides: &[String]) -> Vec<String> {
    let key = |entry: &str| entry.split_once('=').map_or(entry, |(k, _)| k).to_string();
    let mut out: Vec<String> = Vec::with_capacity(base.len() + overrides.len());
    for entry in base.iter().chain(overrides) {
        let k = key(entry);
        let pos = out.iter().position(|e| key(e) == k);
        match (pos, entry.contains('=')) {
            (Some(i), true) => out[i] = entry.clone(),
            (None, true) => out.push(entry.clone()),
            (Some(i), false) => {
                out.remove(i);
            }
            (None, false) => {}
        }
    }
    out
}

fn image_volumes(request: &ContainerConfig, img: &ImageConfig) -> Result<Vec<String>, MergeError> {
    let requested: BTreeSet<String> = request
        .mounts
        .iter()
        .filter_map(|m| config::clean_target(m.target()).ok())
        .collect();
    let mut out = BTreeSet::new();
    for volume in img.volumes().clone().unwrap_or_default() {
        let target = config::clean_target(&volume).map_err(|_| image_error("Volume", &volume))?;
        if !requested.contains(&target) {
            out.insert(target);
        }
    }
    // The request's own anonymous volumes (`-v /data`) join the image's; validate has
    // already cleaned their targets.
    for target in &request.volumes {
        if let Ok(target) = config::clean_target(target) {
            if !requested.contains(&target) {
                out.insert(target);
            }
        }
    }
    Ok(out.into_iter().collect())
}

fn image_error(field: &'static str, value: &str) -> MergeError {
    MergeError::Image {
        field,
        value: value.to_string(),
    }
}
