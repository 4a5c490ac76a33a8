//! Start at login: the session launches the app with [`LOGIN_ARG`] (the autostart entry
//! carries it). Such a launch starts the engine and stays in the tray, as Docker Desktop
//! and OrbStack do; without a tray the window shows, or the user would see nothing.

use tauri::{AppHandle, Manager};

use crate::state::AppState;
use crate::tray::Tray;

/// The argument the autostart entry passes.
pub const LOGIN_ARG: &str = "--login";

/// Whether this process was started by the session at login.
pub fn launched_at_login(mut args: impl Iterator<Item = String>) -> bool {
    args.any(|a| a == LOGIN_ARG)
}

/// Starts the engine in the background; a failure becomes a notification (the window
/// may be hidden) and shows as the engine's status.
pub fn start(app: &AppHandle) {
    if app.try_state::<Tray>().is_some() {
        if let Some(window) = app.get_webview_window(crate::window::MAIN) {
            let _ = window.hide();
        }
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>().inner().clone();
        if let Err(e) = crate::engine::start(&state).await {
            crate::notify::notify(&app, "Berth's engine did not start", &e.message());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn only_the_login_argument_means_a_login_launch() {
        assert!(launched_at_login(args(&["berth-app", "--login"])));
        assert!(!launched_at_login(args(&["berth-app"])));
        assert!(!launched_at_login(args(&["berth-app", "--log"])));
    }
}
