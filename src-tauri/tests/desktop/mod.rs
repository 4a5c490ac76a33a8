//! A desktop session for the end-to-end test: a session D-Bus with the two services a
//! Linux desktop gives an app, a StatusNotifier watcher (the tray; Debian's
//! `status-notifier-watcher`) and a notification server (dunst). The test reads the
//! tray's menu and clicks its items over D-Bus as a panel does, and reads the
//! notifications dunst received, with `gdbus`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WATCHER: &str = "org.kde.StatusNotifierWatcher";
const NOTIFICATIONS: &str = "org.freedesktop.Notifications";

/// Children killed when the session ends.
pub struct Desktop {
    pub bus: String,
    children: Vec<Child>,
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One item of the tray's menu.
#[derive(Debug, Clone, PartialEq)]
pub struct MenuItem {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
}

impl Desktop {
    /// Starts the bus, then the tray watcher and the notification server on it, on the X
    /// display `display`; `log` collects their output.
    pub fn start(display: &str, log: &Path) -> Desktop {
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon (scripts/setup installs it)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("dbus-daemon's stdout"))
            .read_line(&mut address)
            .expect("the session bus's address");
        let mut desktop = Desktop {
            bus: address.trim().to_string(),
            children: vec![bus],
        };
        for program in ["status-notifier-watcher", "dunst"] {
            let out = std::fs::File::create(log.with_extension(format!("{program}.log")))
                .expect("a log file");
            let child = Command::new(program)
                .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus)
                .env("DISPLAY", display)
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("start {program} (scripts/setup installs it): {e}"));
            desktop.children.push(child);
        }
        for name in [WATCHER, NOTIFICATIONS] {
            let on_bus = &desktop;
            super::wait_until(
                &format!("{name} on the session bus"),
                Duration::from_secs(20),
                || {
                    on_bus
                        .gdbus(&[
                            "--dest",
                            "org.freedesktop.DBus",
                            "--object-path",
                            "/org/freedesktop/DBus",
                            "--method",
                            "org.freedesktop.DBus.NameHasOwner",
                            name,
                        ])
                        .is_ok_and(|out| out.contains("true"))
                },
            );
        }
        desktop
    }

    /// `gdbus call` on the session bus: its output, or its error.
    pub fn gdbus(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("gdbus")
            .args(["call", "--address", &self.bus])
            .args(args)
            .output()
            .map_err(|e| format!("gdbus: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// The tray items registered with the watcher: (bus name, object path).
    pub fn tray_items(&self) -> Vec<(String, String)> {
        let Ok(out) = self.gdbus(&[
            "--dest",
            WATCHER,
            "--object-path",
            "/StatusNotifierWatcher",
            "--method",
            "org.freedesktop.DBus.Properties.Get",
            WATCHER,
            "RegisteredStatusNotifierItems",
        ]) else {
            return Vec::new();
        };
        quoted(&out)
            .into_iter()
            .filter_map(|name| {
                let path = self
                    .gdbus(&[
                        "--dest",
                        WATCHER,
                        "--object-path",
                        "/StatusNotifierWatcher",
                        "--method",
                        &format!("{WATCHER}.GetObjectPathForItemName"),
                        &name,
                    ])
                    .ok()?;
                Some((name, quoted(&path).into_iter().next()?))
            })
            .collect()
    }

    /// The menu of the one tray item, or nothing while there is none.
    pub fn tray_menu(&self) -> Option<(String, String, Vec<MenuItem>)> {
        let (name, path) = self.tray_items().into_iter().next()?;
        let menu = format!("{path}/Menu");
        let layout = self
            .gdbus(&[
                "--dest",
                &name,
                "--object-path",
                &menu,
                "--method",
                "com.canonical.dbusmenu.GetLayout",
                "--",
                "0",
                "-1",
                "[]",
            ])
            .ok()?;
        Some((name, menu, parse_layout(&layout)))
    }

    /// Waits until the tray's menu has an item labelled `label`, and returns the menu.
    pub fn wait_tray_label(&self, label: &str, timeout: Duration) -> Vec<MenuItem> {
        let mut last = Vec::new();
        let start = Instant::now();
        loop {
            if let Some((_, _, items)) = self.tray_menu() {
                if items.iter().any(|i| i.label == label) {
                    return items;
                }
                last = items;
            }
            assert!(
                start.elapsed() < timeout,
                "the tray never showed {label:?} within {timeout:?}; its menu: {last:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Clicks the tray menu's item labelled `label`, as a panel does.
    pub fn tray_click(&self, label: &str) {
        let (name, menu, items) = self.tray_menu().expect("a tray icon");
        let item = items
            .iter()
            .find(|i| i.label == label)
            .unwrap_or_else(|| panic!("no {label:?} in the tray's menu: {items:?}"));
        let id = item.id.to_string();
        self.gdbus(&[
            "--dest",
            &name,
            "--object-path",
            &menu,
            "--method",
            "com.canonical.dbusmenu.Event",
            "--",
            &id,
            "clicked",
            "<0>",
            "0",
        ])
        .unwrap_or_else(|e| panic!("clicking {label:?} in the tray: {e}"));
    }

    /// Every notification received so far, as dunst describes them (summary and body
    /// included). Shown ones are closed first: dunst's history holds closed ones.
    pub fn notifications(&self) -> String {
        let call = |method: &str| {
            self.gdbus(&[
                "--dest",
                NOTIFICATIONS,
                "--object-path",
                "/org/freedesktop/Notifications",
                "--method",
                method,
            ])
            .unwrap_or_else(|e| panic!("{method}: {e}"))
        };
        call("org.dunstproject.cmd0.NotificationCloseAll");
        call("org.dunstproject.cmd0.NotificationListHistory")
    }
}

/// The single-quoted strings of a GVariant's text.
fn quoted(text: &str) -> Vec<String> {
    text.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The items of a `GetLayout` answer, e.g.
/// `<(9, {'label': <'Containers'>}, @av [])>` or `<(6, {'enabled': <false>, ...`.
fn parse_layout(text: &str) -> Vec<MenuItem> {
    text.split("<(")
        .skip(1)
        .filter_map(|item| {
            let (id, rest) = item.split_once(", {")?;
            let props = rest.split_once("}, ").map_or(rest, |(p, _)| p);
            let label = props.split_once("'label': <'")?.1.split_once("'>")?.0;
            Some(MenuItem {
                id: id.trim().parse().ok()?,
                label: label.to_string(),
                enabled: !props.contains("'enabled': <false>"),
            })
        })
        .collect()
}
