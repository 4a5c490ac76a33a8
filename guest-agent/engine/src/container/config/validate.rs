//! Checking a container config before anything is created: every field a user can get
//! wrong is named in the error.

use std::collections::HashSet;
use std::path::{Component, Path};

use oci_spec::runtime::Capability;

use super::*;
use crate::container::etc_files::ExtraHost;

/// Docker's smallest accepted memory limit: less cannot even start a process.
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

impl ContainerConfig {
    /// Checks every field a client controls; the first problem found is returned.
    pub fn validate(&self) -> Result<()> {
        if self.image.trim().is_empty() {
            return Err(ConfigError::MissingImage);
        }
        for entry in &self.env {
            validate_env(entry)?;
        }
        if let Some(dir) = &self.working_dir {
            if !dir.starts_with('/') || dir.contains('\0') {
                return Err(ConfigError::WorkingDir(dir.clone()));
            }
        }
        if let Some(user) = &self.user {
            if user.contains(['\0', '\n']) {
                return Err(name_error("user", user, "contains a control character"));
            }
        }
        if let Some(name) = &self.hostname {
            validate_host_name("hostname", name)?;
        }
        if let Some(name) = &self.domainname {
            validate_host_name("domainname", name)?;
        }
        if let Some(signal) = &self.stop_signal {
            parse_signal(signal)?;
        }
        self.validate_mounts()?;
        self.validate_resources()?;
        for name in self.cap_add.iter().chain(&self.cap_drop) {
            parse_capability(name)?;
        }
        self.security_options()?;
        for (name, value) in &self.sysctls {
            validate_sysctl(name, value)?;
        }
        self.validate_ulimits()?;
        self.extra_hosts()?;
        self.dns_servers()?;
        crate::network::validate_ports(self)?;
        for entry in self.dns_search.iter().chain(&self.dns_options) {
            if entry.is_empty() || entry.contains(|c: char| c.is_whitespace() || c == '\0') {
                return Err(name_error(
                    "DNS search or option",
                    entry,
                    "must be one word",
                ));
            }
        }
        Ok(())
    }

    fn validate_mounts(&self) -> Result<()> {
        for target in &self.volumes {
            clean_target(target)?;
        }
        let mut seen = HashSet::new();
        for mount in &self.mounts {
            let target = mount.target();
            let cleaned = clean_target(target)?;
            if !seen.insert(cleaned.clone()) {
                return Err(ConfigError::DuplicateMount(cleaned));
            }
            match mount {
                MountConfig::Bind { source, .. } if !source.is_absolute() => {
                    return Err(ConfigError::MountSource(source.clone()));
                }
                MountConfig::Volume { name, .. } if !valid_volume_name(name) => {
                    return Err(ConfigError::VolumeName(name.clone()));
                }
                MountConfig::Tmpfs { size, mode, .. } => {
                    if size.is_some_and(|s| s <= 0) {
                        return Err(limit("tmpfs size", "must be positive"));
                    }
                    if mode.is_some_and(|m| m > 0o7777) {
                        return Err(limit("tmpfs mode", "must be at most 07777"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn validate_resources(&self) -> Result<()> {
        let r = &self.resources;
        if let Some(memory) = r.memory {
            if memory < MIN_MEMORY {
                return Err(limit("memory limit", "the minimum allowed is 6MB"));
            }
        }
        if let Some(swap) = r.memory_swap {
            match r.memory {
                None if swap != 0 => {
                    return Err(limit("memory swap", "it needs a memory limit too"));
                }
                Some(memory) if swap != -1 && swap != 0 && swap < memory => {
                    return Err(limit("memory swap", "it must be at least the memory limit"));
                }
                _ if swap < -1 => return Err(limit("memory swap", "must be -1 or positive")),
                _ => {}
            }
        }
        // The kernel's smallest CFS quota is 1 ms of a 100 ms period: 0.01 CPU.
        if r.nano_cpus.is_some_and(|n| n < 10_000_000) {
            return Err(limit("CPU count", "the minimum is 0.01"));
        }
        if r.cpu_shares.is_some_and(|n| n < 0) {
            return Err(limit("CPU shares", "must not be negative"));
        }
        if r.pids_limit.is_some_and(|n| n < -1) {
            return Err(limit(
                "pids limit",
                "must be positive, or 0 or -1 for unlimited",
            ));
        }
        if let Some(cpus) = &r.cpuset_cpus {
            if !valid_cpu_list(cpus) {
                return Err(limit(
                    "cpuset",
                    format!("{cpus:?} is not a list like 0-2,4"),
                ));
            }
        }
        if self.shm_size.is_some_and(|s| s <= 0) {
            return Err(limit("shm size", "must be positive"));
        }
        Ok(())
    }

    fn validate_ulimits(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for u in &self.ulimits {
            let err = |reason| ConfigError::Ulimit {
                name: u.name.clone(),
                reason,
            };
            if !ULIMIT_NAMES.contains(&u.name.as_str()) {
                return Err(err("unknown resource"));
            }
            if !seen.insert(&u.name) {
                return Err(err("given twice"));
            }
            if u.soft < -1 || u.hard < -1 {
                return Err(err("values must be -1 (unlimited) or positive"));
            }
            // -1 is RLIM_INFINITY, the largest value.
            if u.hard != -1 && (u.soft == -1 || u.soft > u.hard) {
                return Err(err("the soft limit exceeds the hard limit"));
            }
        }
        Ok(())
    }

    /// The security options that change the spec; unknown ones are refused.
    pub fn security_options(&self) -> Result<SecurityOptions> {
        let mut out = SecurityOptions::default();
        for opt in &self.security_opt {
            // Docker accepts both `key=value` and the older `key:value`.
            let (key, value) = opt
                .split_once('=')
                .or_else(|| opt.split_once(':'))
                .unwrap_or((opt.as_str(), ""));
            match (key, value) {
                ("seccomp", "unconfined") => out.seccomp_unconfined = true,
                ("no-new-privileges", "" | "true") => out.no_new_privileges = true,
                ("no-new-privileges", "false") => out.no_new_privileges = false,
                // The VM runs no LSM: these labels have nothing to apply to.
                ("apparmor" | "label", v) if !v.is_empty() => {}
                _ => return Err(ConfigError::SecurityOpt(opt.clone())),
            }
        }
        Ok(out)
    }

    /// `extra_hosts`, parsed.
    pub fn extra_hosts(&self) -> Result<Vec<ExtraHost>> {
        self.extra_hosts
            .iter()
            .map(|h| {
                etc_files::parse_extra_host(h).ok_or_else(|| ConfigError::ExtraHost(h.clone()))
            })
            .collect()
    }

    /// `dns`, parsed.
    pub fn dns_servers(&self) -> Result<Vec<std::net::IpAddr>> {
        self.dns
            .iter()
            .map(|s| s.parse().map_err(|_| ConfigError::Dns(s.clone())))
            .collect()
    }
}

pub fn validate_env(entry: &str) -> Result<()> {
    let err = |reason| ConfigError::Env {
        entry: entry.to_string(),
        reason,
    };
    if entry.contains('\0') {
        return Err(err("it contains a NUL byte"));
    }
    let name = entry.split_once('=').map_or(entry, |(name, _)| name);
    if name.is_empty() {
        return Err(err("the name is empty"));
    }
    Ok(())
}

/// Hostnames end up in /etc/hosts and in sethostname(2): one DNS-like word, so that no
/// newline or space can add lines to a file the container trusts.
fn validate_host_name(field: &'static str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 64 {
        return Err(name_error(field, name, "must be 1 to 64 characters"));
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !ok || name.starts_with(['-', '.']) {
        return Err(name_error(
            field,
            name,
            "only letters, digits, '-', '.' and '_'",
        ));
    }
    Ok(())
}

/// The normalised form of a mount target (`/data/` -> `/data`), refused when relative,
/// the root itself, or carrying a NUL.
pub fn clean_target(target: &str) -> Result<String> {
    let err = |reason| ConfigError::MountTarget {
        target: target.to_string(),
        reason,
    };
    if !target.starts_with('/') {
        return Err(err("it needs to be an absolute path"));
    }
    if target.contains('\0') {
        return Err(err("it contains a NUL byte"));
    }
    let cleaned = berth_runtime::rootfs::safe_path::clean(Path::new(target));
    if cleaned.as_os_str().is_empty() {
        return Err(err("it cannot be '/'"));
    }
    if Path::new(target)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(err("it cannot contain '..'"));
    }
    Ok(format!("/{}", cleaned.display()))
}

fn valid_volume_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `0-2,4`: comma-separated CPU numbers or ascending ranges.
fn valid_cpu_list(list: &str) -> bool {
    let number = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    !list.is_empty()
        && list.split(',').all(|part| match part.split_once('-') {
            Some((a, b)) => {
                number(a) && number(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok()
            }
            None => number(part),
        })
}

fn validate_sysctl(name: &str, value: &str) -> Result<()> {
    let err = |reason| ConfigError::Sysctl {
        name: name.to_string(),
        reason,
    };
    let well_formed = !name.is_empty()
        && name.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if !well_formed {
        return Err(err("not a sysctl name"));
    }
    // The runtime enforces the same rule; checking here refuses the container at create.
    if berth_runtime::sysctl::namespace_of(name).is_err() {
        return Err(err("it is not namespaced, so it would change the host"));
    }
    if value.contains(['\0', '\n']) {
        return Err(err("the value contains a control character"));
    }
    Ok(())
}

/// A capability name as docker accepts it (`net_admin`, `CAP_NET_ADMIN`); `None` for `ALL`.
pub fn parse_capability(name: &str) -> Result<Option<Capability>> {
    let upper = name.to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(None);
    }
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    bare.parse::<Capability>()
        .map(Some)
        .map_err(|_| ConfigError::Capability(name.to_string()))
}

/// A signal by number (`9`), name (`SIGKILL`, `kill`) or real-time offset (`RTMIN+3`).
pub fn parse_signal(text: &str) -> Result<i32> {
    const RTMIN: i32 = 34;
    const RTMAX: i32 = 64;
    let err = || ConfigError::Signal(text.to_string());
    if let Ok(n) = text.parse::<i32>() {
        return if (1..=RTMAX).contains(&n) {
            Ok(n)
        } else {
            Err(err())
        };
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    let offset = |s: &str| {
        s.parse::<i32>()
            .ok()
            .filter(|n| (0..=RTMAX - RTMIN).contains(n))
    };
    if let Some(rest) = bare.strip_prefix("RTMIN") {
        return match rest.strip_prefix('+') {
            None if rest.is_empty() => Ok(RTMIN),
            Some(n) => offset(n).map(|n| RTMIN + n).ok_or_else(err),
            None => Err(err()),
        };
    }
    if let Some(rest) = bare.strip_prefix("RTMAX") {
        return match rest.strip_prefix('-') {
            None if rest.is_empty() => Ok(RTMAX),
            Some(n) => offset(n).map(|n| RTMAX - n).ok_or_else(err),
            None => Err(err()),
        };
    }
    format!("SIG{bare}")
        .parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| err())
}

fn name_error(field: &'static str, value: &str, reason: &'static str) -> ConfigError {
    ConfigError::Name {
        field,
        value: value.to_string(),
        reason,
    }
}

fn limit(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Limit {
        name,
        reason: reason.into(),
    }
}
