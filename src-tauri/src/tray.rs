//! The tray icon: the engine's status in its tooltip and first menu line, and quick
//! actions (Open, Start/Stop/Restart, Containers, Quit). Its menu items' ids are
//! handled in [`crate::menu::on_event`].

use berth_host::daemon::proto::Phase;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use crate::engine::status::EngineStatus;

/// The items whose text or state follow the engine.
#[derive(Clone)]
pub struct Tray {
    icon: tauri::tray::TrayIcon,
    status: MenuItem<Wry>,
    start: MenuItem<Wry>,
    stop: MenuItem<Wry>,
    restart: MenuItem<Wry>,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

/// Makes the tray icon. A desktop without a tray (no StatusNotifier host) still runs
/// the app: the error is logged, not fatal.
pub fn install(app: &AppHandle) {
    match build(app) {
        Ok(tray) => {
            app.manage(tray);
        }
        Err(e) => tracing::warn!("no tray icon: {e}"),
    }
}

fn build(app: &AppHandle) -> tauri::Result<Tray> {
    let status = MenuItem::with_id(app, "status", "Engine: stopped", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Berth", true, None::<&str>)?;
    let start = MenuItem::with_id(app, "engine:start", "Start engine", true, None::<&str>)?;
    let stop = MenuItem::with_id(app, "engine:stop", "Stop engine", false, None::<&str>)?;
    let restart = MenuItem::with_id(app, "engine:restart", "Restart engine", false, None::<&str>)?;
    let containers = MenuItem::with_id(app, "nav:containers", "Containers", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Berth", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &start,
            &stop,
            &restart,
            &PredefinedMenuItem::separator(app)?,
            &containers,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id("berth")
        .menu(&menu)
        .tooltip("Berth: stopped");
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    Ok(Tray {
        icon,
        status,
        start,
        stop,
        restart,
    })
}

/// What the tray says for a status.
pub fn describe(status: &EngineStatus) -> String {
    match (status.phase, &status.last_error) {
        (Phase::Failed, Some(error)) => {
            let short: String = error
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect();
            format!("failed: {short}")
        }
        (phase, _) => phase.describe().to_string(),
    }
}

impl Tray {
    pub fn update(&self, status: &EngineStatus) {
        let text = describe(status);
        let _ = self.icon.set_tooltip(Some(format!("Berth: {text}")));
        let _ = self.status.set_text(format!("Engine: {text}"));
        let stopped = matches!(status.phase, Phase::Stopped | Phase::Failed);
        let _ = self.start.set_enabled(stopped);
        let _ = self
            .stop
            .set_enabled(!stopped && status.phase != Phase::Stopping);
        let _ = self.restart.set_enabled(status.phase == Phase::Running);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_host::settings::Settings;
    use berth_host::state::StateDirs;

    #[test]
    fn the_tray_says_the_phase_or_the_failure() {
        let dirs = StateDirs::at("/b");
        let s = EngineStatus::not_running(&dirs, &Settings::default(), None);
        assert_eq!(describe(&s), "stopped");
        let s = EngineStatus::not_running(
            &dirs,
            &Settings::default(),
            Some("QEMU exited\n--- console ---\nlots".into()),
        );
        assert_eq!(describe(&s), "failed: QEMU exited");
    }
}
