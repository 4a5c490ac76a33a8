//! The app menu (File, Edit, View, Help → Tutorial) and the handler of every menu item,
//! the tray's included (Tauri delivers both to one handler).

use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Manager, Runtime};

use crate::state::AppState;
use crate::window;

/// The views `navigate` names, with their menu labels.
pub const VIEWS: [(&str, &str); 5] = [
    ("dashboard", "Dashboard"),
    ("containers", "Containers"),
    ("images", "Images"),
    ("volumes", "Volumes"),
    ("settings", "Settings"),
];

pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let file = Submenu::with_items(
        app,
        "File",
        true,
        &[
            &PredefinedMenuItem::close_window(app, None)?,
            &PredefinedMenuItem::quit(app, Some("Quit Berth"))?,
        ],
    )?;
    // The standard editing items: on macOS, copy and paste in the webview need them.
    let edit = Submenu::with_items(
        app,
        "Edit",
        true,
        &[
            &PredefinedMenuItem::undo(app, None)?,
            &PredefinedMenuItem::redo(app, None)?,
            &PredefinedMenuItem::separator(app)?,
            &PredefinedMenuItem::cut(app, None)?,
            &PredefinedMenuItem::copy(app, None)?,
            &PredefinedMenuItem::paste(app, None)?,
            &PredefinedMenuItem::select_all(app, None)?,
        ],
    )?;
    let view = Submenu::new(app, "View", true)?;
    for (name, label) in VIEWS {
        view.append(&MenuItem::with_id(
            app,
            format!("nav:{name}"),
            label,
            true,
            None::<&str>,
        )?)?;
    }
    let help = Submenu::with_items(
        app,
        "Help",
        true,
        &[&MenuItem::with_id(
            app,
            "tutorial",
            "Tutorial",
            true,
            None::<&str>,
        )?],
    )?;
    Menu::with_items(app, &[&file, &edit, &view, &help])
}

pub fn on_event(app: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref();
    if let Some(view) = id.strip_prefix("nav:") {
        return window::navigate(app, view);
    }
    match id {
        "tutorial" => window::open_onboarding(app),
        "open" => window::show(app),
        "quit" => app.exit(0),
        "engine:start" | "engine:stop" | "engine:restart" => engine_action(app, id),
        _ => {}
    }
}

/// The tray's engine actions, off the main thread; a failure becomes a notification.
fn engine_action(app: &AppHandle, id: &str) {
    let app = app.clone();
    let id = id.to_string();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>().inner().clone();
        let result = match id.as_str() {
            "engine:start" => crate::engine::start(&state).await,
            "engine:stop" => crate::engine::stop(&state).await,
            _ => crate::engine::restart(&state).await,
        };
        if let Err(e) = result {
            crate::notify::notify(&app, "Berth", &e.message());
        }
    });
}
