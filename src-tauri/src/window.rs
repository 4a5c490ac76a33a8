//! The main window, shown and raised from the tray, the menu and notifications.

use tauri::{AppHandle, Emitter, Manager};

pub const MAIN: &str = "main";

pub fn show(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Shows the window on a view (`dashboard`, `containers`, ...): the UI listens for
/// `navigate`.
pub fn navigate(app: &AppHandle, view: &str) {
    show(app);
    let _ = app.emit_to(MAIN, "navigate", view);
}

/// Reopens the tutorial: the UI listens for `open-onboarding`.
pub fn open_onboarding(app: &AppHandle) {
    show(app);
    let _ = app.emit_to(MAIN, "open-onboarding", ());
}
