//! Starting the daemon from the app: `berth daemon`, with the CLI found next to the
//! app's executable (an install puts them side by side; so does `cargo build`), then on
//! `PATH`. `BERTH_CLI` names it explicitly (tests, unusual installs).

use std::path::{Path, PathBuf};

use berth_host::daemon::{spawn_daemon, Paths};

use crate::error::{AppError, CmdResult};
use crate::state::AppState;

/// Where the `berth` CLI is.
pub fn berth_exe() -> CmdResult<PathBuf> {
    let env = std::env::var_os("BERTH_CLI").filter(|v| !v.is_empty());
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("berth")));
    let path = std::env::var_os("PATH").unwrap_or_default();
    find_berth(env.map(PathBuf::from), beside, &path).ok_or_else(|| {
        AppError::msg(
            "Cannot find the berth CLI next to the app or on PATH (set BERTH_CLI to its path)",
        )
    })
}

fn find_berth(
    env: Option<PathBuf>,
    beside: Option<PathBuf>,
    path: &std::ffi::OsStr,
) -> Option<PathBuf> {
    if let Some(exe) = env {
        return Some(exe);
    }
    beside
        .into_iter()
        .chain(std::env::split_paths(path).map(|dir| dir.join("berth")))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Spawns the daemon and watches it: a daemon that fails leaves its log's last
/// lines as the status's `lastError` (phase `failed`).
pub fn start_daemon(state: &AppState) -> CmdResult<()> {
    state.dirs.create()?;
    let exe = berth_exe()?;
    state.engine.set_spawn_error(None);
    let mut child = spawn_daemon(&state.dirs, &exe)?;
    tracing::info!(
        "started the Berth daemon ({}), pid {}",
        exe.display(),
        child.id()
    );
    let watched = state.clone();
    // The app is the daemon's parent while both run: reap it so it never lingers as a
    // zombie, and say why when it failed (`berth stop` ends it with success).
    std::thread::spawn(move || {
        let Ok(status) = child.wait() else { return };
        if status.success() {
            return;
        }
        let log = std::fs::read_to_string(Paths::new(&watched.dirs).log).unwrap_or_default();
        let reason = format!("The Berth daemon exited ({status}): {}", log_tail(&log));
        tracing::warn!("{reason}");
        watched.engine.set_spawn_error(Some(reason));
        // The monitor (crate::notify) sees the failed status and tells the user.
        watched.engine.wake.notify_waiters();
    });
    state.engine.wake.notify_waiters();
    Ok(())
}

/// The last meaningful lines of the daemon's log, on one line.
fn log_tail(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    if tail.is_empty() {
        "see daemon.log".into()
    } else {
        tail.join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn berth_is_found_by_env_then_beside_the_app_then_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let app_dir = dir.path().join("app");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&app_dir).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        let on_path = bin.join("berth");
        std::fs::write(&on_path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&on_path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let beside = app_dir.join("berth");
        let path = std::env::join_paths([&bin]).unwrap();
        assert_eq!(
            find_berth(None, Some(beside.clone()), &path),
            Some(on_path.clone())
        );
        std::fs::write(&beside, "#!/bin/sh\n").unwrap();
        // Not executable: skipped.
        assert_eq!(find_berth(None, Some(beside.clone()), &path), Some(on_path));
        std::fs::set_permissions(&beside, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            find_berth(None, Some(beside.clone()), &path),
            Some(beside.clone())
        );
        let env = PathBuf::from("/opt/berth");
        assert_eq!(
            find_berth(Some(env.clone()), Some(beside), &path),
            Some(env)
        );
        assert_eq!(find_berth(None, None, std::ffi::OsStr::new("")), None);
    }

    #[test]
    fn the_log_tail_is_its_last_lines() {
        assert_eq!(log_tail(""), "see daemon.log");
        assert_eq!(log_tail("a\n\nb\nc\nd\n"), "b | c | d");
    }
}
