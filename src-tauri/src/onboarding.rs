//! The onboarding's progress, kept in `onboarding.json` in the data directory so the
//! tutorial resumes where it stopped (and never shows again once done or skipped).

use std::path::{Path, PathBuf};

use berth_host::state::StateDirs;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::{AppError, CmdResult};
use crate::state::AppState;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OnboardingState {
    pub completed: bool,
    pub skipped: bool,
    pub step: u32,
}

pub fn path(dirs: &StateDirs) -> PathBuf {
    dirs.data.join("onboarding.json")
}

/// The saved state; a missing or unreadable file is a first launch (the tutorial is
/// better shown again than the app refusing to open).
pub fn load(path: &Path) -> OnboardingState {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!("{} is not valid: {e}", path.display());
            OnboardingState::default()
        }),
        Err(_) => OnboardingState::default(),
    }
}

/// Writes atomically (a temp file renamed over the old one): a crash leaves the old
/// state or the new, never half a file.
pub fn save(path: &Path, state: &OnboardingState) -> CmdResult<()> {
    let err = |e| AppError::io(format!("Cannot write {}", path.display()), e);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut text = serde_json::to_vec_pretty(state).expect("onboarding state serializes");
    text.push(b'\n');
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

#[tauri::command]
pub async fn onboarding_get(state: State<'_, AppState>) -> CmdResult<OnboardingState> {
    Ok(load(&path(&state.dirs)))
}

/// The argument is `state`, as the contract names it; the app's own state is `app`.
#[tauri::command]
pub async fn onboarding_set(app: State<'_, AppState>, state: OnboardingState) -> CmdResult<()> {
    save(&path(&app.dirs), &state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_round_trips_and_bad_files_are_a_first_launch() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = StateDirs::at(dir.path().join("home"));
        let p = path(&dirs);
        assert_eq!(load(&p), OnboardingState::default());
        let s = OnboardingState {
            completed: false,
            skipped: true,
            step: 3,
        };
        save(&p, &s).unwrap();
        assert_eq!(load(&p), s);
        assert!(!p.with_extension("json.tmp").exists());
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"skipped\": true"), "{text}");
        std::fs::write(&p, "{ nope").unwrap();
        assert_eq!(load(&p), OnboardingState::default());
        std::fs::write(&p, r#"{"step": 2}"#).unwrap();
        assert_eq!(load(&p).step, 2);
    }
}
