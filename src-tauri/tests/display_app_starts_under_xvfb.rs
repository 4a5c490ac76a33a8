//! Needs a display: the built app starts under Xvfb, loads its bundled frontend and
//! keeps running without a panic (no daemon is started: the app starts the engine only
//! when asked). Skipped, with a message, where Xvfb is not installed (scripts/setup
//! installs it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills its process when dropped, so a failed assertion leaves nothing behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A display number no X server uses.
fn free_display() -> u32 {
    (90..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .expect("a free X display number")
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "{what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn display_app_starts_under_xvfb_without_a_panic() {
    let Some(xvfb) = on_path("Xvfb") else {
        eprintln!("skipped: Xvfb is not installed (scripts/setup installs it)");
        return;
    };
    let n = free_display();
    let _xvfb = Killed(
        Command::new(xvfb)
            .args([
                format!(":{n}").as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb"),
    );
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
    wait_for("Xvfb's socket", Duration::from_secs(10), || socket.exists());

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let log = dir.path().join("app.log");
    let mut app = Killed(
        Command::new(env!("CARGO_BIN_EXE_berth-app"))
            .env("DISPLAY", format!(":{n}"))
            .env("BERTH_HOME", dir.path().join("berth"))
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env_remove("XDG_RUNTIME_DIR")
            // Were a daemon started, it would fail at once, visibly.
            .env("BERTH_CLI", "/bin/false")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start berth-app"),
    );
    std::thread::sleep(Duration::from_secs(8));
    let exited = app.0.try_wait().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(exited.is_none(), "the app exited ({exited:?}):\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // No daemon was started on the way.
    assert!(!stderr.contains("started the Berth daemon"), "{stderr}");
}
