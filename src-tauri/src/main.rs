//! Berth's desktop app: a thin Tauri shell over `berth-host`. Every command of the
//! contract in docs/app.md is registered here; each lives in the module of its group.
//! The engine's state comes from the host daemon's control socket, containers, images
//! and volumes from the Docker API on the daemon's `docker.sock`.

mod containers;
mod docker;
mod docker_events;
mod engine;
mod error;
mod host_info;
mod images;
mod login;
mod logs;
mod menu;
mod notify;
mod onboarding;
mod settings;
mod state;
mod stats;
mod streams;
mod terminals;
mod tray;
mod tutorial;
mod volumes;
mod web;
mod window;

use anyhow::Context as _;
use berth_host::state::StateDirs;
use tauri::{Manager, WindowEvent};

use state::AppState;

fn main() -> anyhow::Result<()> {
    berth_host::logging::init_stderr();
    let dirs = StateDirs::from_env().context("Cannot find Berth's directories")?;
    tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .args([login::LOGIN_ARG])
                .build(),
        )
        .manage(AppState::new(dirs))
        .menu(menu::build)
        .on_menu_event(menu::on_event)
        .setup(|app| {
            tray::install(app.handle());
            notify::spawn_monitor(app.handle().clone());
            if login::launched_at_login(std::env::args()) {
                login::start(app.handle());
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // With a tray, closing the window hides it: the app and its notifications
            // stay, as with Docker Desktop. Quit is in the tray and the File menu.
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.try_state::<tray::Tray>().is_some() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
            // A closed window's streams and terminals end with it.
            if let WindowEvent::Destroyed = event {
                let state = window.state::<AppState>();
                for id in state.streams.cancel_window(window.label()) {
                    state.terminals.forget(id);
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            engine::engine_status,
            engine::engine_start,
            engine::engine_stop,
            engine::engine_restart,
            engine::engine_watch,
            containers::containers_list,
            containers::container_inspect,
            containers::container_action,
            containers::container_remove,
            containers::container_run,
            containers::container_wait,
            logs::container_logs,
            stats::container_stats,
            docker_events::docker_events,
            docker_events::stream_cancel,
            terminals::terminal_open,
            terminals::terminal_input,
            terminals::terminal_resize,
            terminals::terminal_close,
            images::images_list,
            images::image_pull,
            images::image_remove,
            images::images_prune,
            volumes::volumes_list,
            volumes::volume_create,
            volumes::volume_remove,
            settings::settings_get,
            settings::settings_set,
            host_info::host_info,
            onboarding::onboarding_get,
            onboarding::onboarding_set,
            tutorial::tutorial_prepare,
            tutorial::tutorial_edit,
            web::probe_url,
            web::open_url,
        ])
        .run(tauri::generate_context!())
        .context("The Berth app failed")?;
    Ok(())
}
