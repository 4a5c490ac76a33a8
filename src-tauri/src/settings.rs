//! `settings_get` and `settings_set`: the library's settings (validated by its own
//! `Settings::set`, the same rules as `berth config set`) plus start at login.

use berth_host::daemon::proto::Phase;
use berth_host::settings::{Change, Settings, SettingsError};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;

use crate::error::{AppError, CmdResult};
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSettings {
    pub cpus: u32,
    pub memory_mib: u64,
    pub disk_size_gib: u64,
    pub shares: Vec<String>,
    pub bind_address: String,
    pub insecure_registries: Vec<String>,
    pub registry_mirrors: Vec<String>,
    pub start_at_login: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetOutcome {
    pub needs_restart: bool,
    pub notes: Vec<String>,
}

impl AppSettings {
    pub fn of(s: &Settings, start_at_login: bool) -> AppSettings {
        AppSettings {
            cpus: s.cpus,
            memory_mib: s.memory_mib,
            disk_size_gib: s.disk_size_gib,
            shares: s.shares.iter().map(|p| p.display().to_string()).collect(),
            bind_address: s.bind_address.to_string(),
            insecure_registries: s.insecure_registries.clone(),
            registry_mirrors: s.registry_mirrors.clone(),
            start_at_login,
        }
    }
}

#[tauri::command]
pub async fn settings_get(app: AppHandle, state: State<'_, AppState>) -> CmdResult<AppSettings> {
    let settings = Settings::load(&state.dirs)?;
    let at_login = app.autolaunch().is_enabled().unwrap_or(false);
    Ok(AppSettings::of(&settings, at_login))
}

#[tauri::command]
pub async fn settings_set(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: AppSettings,
) -> CmdResult<SetOutcome> {
    let mut current = Settings::load(&state.dirs)?;
    let changes = apply(&mut current, &settings)?;
    if !changes.is_empty() {
        state.dirs.create()?;
        current.save(&state.dirs)?;
    }
    let autolaunch = app.autolaunch();
    if autolaunch.is_enabled().unwrap_or(false) != settings.start_at_login {
        let done = if settings.start_at_login {
            autolaunch.enable()
        } else {
            autolaunch.disable()
        };
        done.map_err(|e| AppError::msg(format!("Cannot change start at login: {e}")))?;
    }
    // A restart matters only to a VM that runs (or is on its way up).
    let running = !matches!(
        crate::engine::status_of(&state).await.phase,
        Phase::Stopped | Phase::Failed
    );
    let mut outcome = SetOutcome {
        needs_restart: running && changes.iter().any(|c| c.needs_restart),
        notes: changes.into_iter().filter_map(|c| c.note).collect(),
    };
    if outcome.needs_restart {
        outcome
            .notes
            .push("The running engine keeps the old values until it restarts".into());
    }
    Ok(outcome)
}

/// Sets each field that differs through the library's validation; `Err` names the
/// field as the UI calls it.
pub fn apply(current: &mut Settings, wanted: &AppSettings) -> CmdResult<Vec<Change>> {
    let before = AppSettings::of(current, wanted.start_at_login);
    let fields: [(&str, &str, String, String); 7] = [
        (
            "cpus",
            "cpus",
            before.cpus.to_string(),
            wanted.cpus.to_string(),
        ),
        (
            "memoryMib",
            "memory_mib",
            before.memory_mib.to_string(),
            wanted.memory_mib.to_string(),
        ),
        (
            "diskSizeGib",
            "disk_size_gib",
            before.disk_size_gib.to_string(),
            wanted.disk_size_gib.to_string(),
        ),
        (
            "shares",
            "shares",
            before.shares.join(","),
            wanted.shares.join(","),
        ),
        (
            "bindAddress",
            "bind_address",
            before.bind_address.clone(),
            wanted.bind_address.clone(),
        ),
        (
            "insecureRegistries",
            "insecure_registries",
            before.insecure_registries.join(","),
            wanted.insecure_registries.join(","),
        ),
        (
            "registryMirrors",
            "registry_mirrors",
            before.registry_mirrors.join(","),
            wanted.registry_mirrors.join(","),
        ),
    ];
    let mut changes = Vec::new();
    for (field, key, old, new) in fields {
        if old == new {
            continue;
        }
        if key == "shares" && wanted.shares.iter().any(|s| s.contains(',')) {
            return Err(AppError::msg(format!(
                "Invalid value for {field}: a folder's path cannot contain a comma"
            )));
        }
        let change = current.set(key, &new).map_err(|e| match e {
            SettingsError::Invalid { reason, .. } => {
                AppError::msg(format!("Invalid value for {field}: {reason}"))
            }
            other => other.into(),
        })?;
        changes.push(change);
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_set_and_bad_ones_are_named() {
        let mut s = Settings::default();
        s.set("shares", "/srv").unwrap();
        let mut wanted = AppSettings::of(&s, false);
        assert!(apply(&mut s, &wanted).unwrap().is_empty());
        wanted.disk_size_gib = 100;
        let changes = apply(&mut s, &wanted).unwrap();
        assert_eq!(changes.len(), 1);
        assert!(!changes[0].needs_restart);
        assert!(changes[0].note.is_some());
        wanted.cpus = 4;
        wanted.shares = vec!["/srv".into(), "/data".into()];
        let changes = apply(&mut s, &wanted).unwrap();
        assert!(changes.iter().all(|c| c.needs_restart));
        assert_eq!(s.cpus, 4);
        assert_eq!(s.shares.len(), 2);
        wanted.memory_mib = 10;
        let err = apply(&mut s, &wanted).unwrap_err().message();
        assert_eq!(
            err,
            "Invalid value for memoryMib: a size in MiB, at least 256"
        );
        wanted.memory_mib = 4096;
        wanted.bind_address = "everywhere".into();
        assert!(apply(&mut s, &wanted)
            .unwrap_err()
            .message()
            .starts_with("Invalid value for bindAddress"));
        wanted.bind_address = "127.0.0.1".into();
        wanted.insecure_registries = vec!["host.berth.internal:5000".into()];
        let changes = apply(&mut s, &wanted).unwrap();
        assert!(changes[0].needs_restart);
        assert_eq!(s.insecure_registries, ["host.berth.internal:5000"]);
        wanted.registry_mirrors = vec!["mirror.lan".into()];
        assert!(apply(&mut s, &wanted)
            .unwrap_err()
            .message()
            .starts_with("Invalid value for registryMirrors"));
    }
}
