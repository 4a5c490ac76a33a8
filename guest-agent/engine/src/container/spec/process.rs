//! The `process` section: what runs, as whom, where, with which environment,
//! capabilities and rlimits.

use oci_spec::runtime::{Capabilities, LinuxCapabilities, PosixRlimit, Process, User};

use super::merge::{merge_env, MergedConfig};
use super::SpecError;
use crate::container::user::ResolvedUser;

/// PATH when neither the image nor the request sets one (docker's).
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where the init binary is mounted and how it is told where the command starts.
pub const INIT_PATH: &str = "/sbin/docker-init";

/// The process section. `extra_gids` come from `group_add`; `with_init` prefixes the
/// command with the init mounted at [`INIT_PATH`].
pub fn process(
    merged: &MergedConfig,
    user: &ResolvedUser,
    extra_gids: &[u32],
    hostname: &str,
    caps: &Capabilities,
    no_new_privileges: bool,
    with_init: bool,
) -> Result<Process, SpecError> {
    let config = &merged.config;
    let mut args = Vec::with_capacity(merged.args.len() + 2);
    if with_init {
        args.extend([INIT_PATH.to_string(), "--".to_string()]);
    }
    args.extend(merged.args.iter().cloned());

    let mut process = Process::default();
    process
        .set_terminal(Some(config.tty))
        .set_args(Some(args))
        .set_env(Some(env(merged, user, hostname)))
        .set_cwd(merged.working_dir.clone().into())
        .set_user(oci_user(user, extra_gids))
        .set_capabilities(Some(capabilities(caps)))
        .set_rlimits(rlimits(config)?)
        .set_no_new_privileges(Some(no_new_privileges))
        .set_oom_score_adj(Some(0))
        .set_apparmor_profile(None)
        .set_selinux_label(None);
    if let (true, Some((height, width))) = (config.tty, config.console_size) {
        // The size the client's terminal has, so the first prompt is drawn right before
        // any resize arrives (`docker run -it` sends HostConfig.ConsoleSize).
        let size = oci_spec::runtime::BoxBuilder::default()
            .height(u64::from(height))
            .width(u64::from(width))
            .build()
            .ok();
        process.set_console_size(size);
    }
    Ok(process)
}

/// Docker's order: PATH, HOSTNAME, TERM (with a tty), then the merged env over them,
/// then HOME from passwd when nothing set it.
pub fn env(merged: &MergedConfig, user: &ResolvedUser, hostname: &str) -> Vec<String> {
    let mut base = vec![DEFAULT_PATH.to_string(), format!("HOSTNAME={hostname}")];
    if merged.config.tty {
        base.push("TERM=xterm".to_string());
    }
    let mut env = merge_env(&base, &merged.env);
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    env
}

fn oci_user(user: &ResolvedUser, extra_gids: &[u32]) -> User {
    let mut gids = user.additional_gids.clone();
    for gid in extra_gids {
        if !gids.contains(gid) {
            gids.push(*gid);
        }
    }
    let mut out = User::default();
    out.set_uid(user.uid)
        .set_gid(user.gid)
        .set_additional_gids((!gids.is_empty()).then_some(gids));
    out
}

fn capabilities(caps: &Capabilities) -> LinuxCapabilities {
    let mut out = LinuxCapabilities::default();
    // No inheritable or ambient capabilities: a non-root process must not regain any
    // through exec (CVE-2022-24769).
    out.set_bounding(Some(caps.clone()))
        .set_effective(Some(caps.clone()))
        .set_permitted(Some(caps.clone()))
        .set_inheritable(None)
        .set_ambient(None);
    out
}

fn rlimits(
    config: &crate::container::config::ContainerConfig,
) -> Result<Option<Vec<PosixRlimit>>, SpecError> {
    if config.ulimits.is_empty() {
        return Ok(None);
    }
    // -1 is RLIM_INFINITY; validation refused every other negative value.
    let value = |v: i64| u64::try_from(v).unwrap_or(u64::MAX);
    config
        .ulimits
        .iter()
        .map(|u| {
            // PosixRlimit has no setters; its serde form is the stable interface.
            let limit = serde_json::json!({
                "type": format!("RLIMIT_{}", u.name.to_ascii_uppercase()),
                "soft": value(u.soft),
                "hard": value(u.hard),
            });
            serde_json::from_value(limit).map_err(|_| SpecError::Ulimit(u.name.clone()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
