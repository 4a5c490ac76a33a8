//! End to end, as a newcomer meets Berth: the built app under Xvfb, driven through
//! WebDriver (tauri-driver in front of Debian's WebKitWebDriver), with the real daemon,
//! the real VM (TCG here) and the engine in it. The test completes the onboarding (every
//! step does the real thing; step 6 runs the command the app shows in a shell, as a user
//! would), then finds a container started by the docker CLI in the live list, reads its
//! logs, types in its terminal, stops and removes it. A screenshot of each main view is
//! saved under `<target>/tmp/screenshots/` (the README shows copies from docs/screenshots).
//!
//! The app runs in a desktop session (a session bus with a tray watcher and dunst, see
//! `desktop`): the test reads and clicks the tray's menu, sees a port conflict's
//! notification, turns on start at login and launches the app as the session would at
//! the next login.
//!
//! Needs root, QEMU, the guest image (`vm-image/build`), Xvfb, tauri-driver,
//! WebKitWebDriver, dbus-daemon, status-notifier-watcher and dunst: scripts/setup
//! installs them and CI has them all.

mod desktop;
#[path = "../../host/tests/common/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::task::block_in_place;

use desktop::Desktop;

/// Booting under TCG plus a first boot's disk formatting and demo image load.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
const STEP_TIMEOUT: Duration = Duration::from_secs(90);
const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// A child process killed (with its process group) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn image_dir() -> PathBuf {
    std::env::var_os("BERTH_VM_IMAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/vm-image"))
}

fn which(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    // cargo install's directory, where setup puts tauri-driver.
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: run scripts/setup"))
}

/// The `berth` CLI built beside the app (the app finds it there too).
fn berth_cli() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_berth-app")).with_file_name("berth")
}

/// A display number no X server uses.
fn free_display() -> u32 {
    (100..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .expect("a free X display number")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "{what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The environment of the app (and of the daemon it spawns) in the test's session.
fn session_env(command: &mut Command, dir: &Path, display: &str, desktop: &Desktop) {
    let home = dir.join("home");
    command
        .env("DISPLAY", display)
        .env("HOME", &home)
        .env("BERTH_HOME", dir.join("berth"))
        .env("BERTH_VM_IMAGE", image_dir())
        .env("BERTH_CLI", berth_cli())
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus)
        .env_remove("XDG_RUNTIME_DIR");
}

/// Everything one run owns: its homes, Xvfb, tauri-driver and (through the app) the
/// daemon and VM, stopped on drop.
struct World {
    dir: tempfile::TempDir,
    shots: PathBuf,
    display: String,
    _xvfb: Killed,
    _driver: Killed,
    desktop: Desktop,
    driver_port: u16,
}

impl World {
    fn new() -> World {
        assert!(
            image_dir().join("initramfs.cpio").is_file(),
            "the guest image is missing: run vm-image/build"
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();

        let display = free_display();
        let xvfb = Killed(
            Command::new(which("Xvfb"))
                .args([&format!(":{display}"), "-screen", "0", "1600x1000x24"])
                .args(["-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start Xvfb"),
        );
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
        wait_until("Xvfb's socket", Duration::from_secs(10), || socket.exists());
        let display = format!(":{display}");
        let desktop = Desktop::start(&display, &dir.path().join("desktop"));

        // tauri-driver starts WebKitWebDriver, which starts the app: the environment
        // given here is the app's (and the daemon's it spawns).
        let driver_port = free_port();
        let native_port = free_port();
        let log = std::fs::File::create(dir.path().join("driver.log")).unwrap();
        let mut driver = Command::new(which("tauri-driver"));
        driver
            .args(["--port", &driver_port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .args([
                "--native-driver".as_ref(),
                which("WebKitWebDriver").as_os_str(),
            ]);
        session_env(&mut driver, dir.path(), &display, &desktop);
        let driver = Killed(
            driver
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start tauri-driver"),
        );
        wait_until("tauri-driver listening", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", driver_port)).is_ok()
        });
        World {
            dir,
            shots,
            display,
            _xvfb: xvfb,
            _driver: driver,
            desktop,
            driver_port,
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn berth_home(&self) -> PathBuf {
        self.dir.path().join("berth")
    }

    fn docker_socket(&self) -> PathBuf {
        self.berth_home().join("run/docker.sock")
    }

    /// The docker CLI through the daemon's socket.
    fn docker_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("docker");
        cmd.args(args)
            .env(
                "DOCKER_HOST",
                format!("unix://{}", self.docker_socket().display()),
            )
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"));
        cmd
    }

    /// The docker CLI, expecting success: its stdout.
    fn docker(&self, args: &[&str]) -> String {
        let out = self.docker_cmd(args).output().expect("the docker CLI");
        assert!(out.status.success(), "docker {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The docker CLI: whether it succeeded.
    fn try_docker(&self, args: &[&str]) -> bool {
        self.docker_cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn logs(&self) -> String {
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        let console = read(self.berth_home().join("run/console.log"));
        let tail: Vec<&str> = console.lines().rev().take(60).collect();
        format!(
            "--- tauri-driver and app ---\n{}\n--- daemon ---\n{}\n--- VM console (last lines) ---\n{}",
            read(self.dir.path().join("driver.log")),
            read(self.berth_home().join("run/daemon.log")),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // The daemon outlives the app by design: stop it and the VM.
        let _ = Command::new(berth_cli())
            .arg("stop")
            .env("BERTH_HOME", self.berth_home())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The app's window, found by `data-testid`.
struct Ui<'a> {
    client: Client,
    world: &'a World,
}

fn css(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

impl Ui<'_> {
    async fn find(&self, id: &str, timeout: Duration) -> fantoccini::elements::Element {
        self.find_css(&css(id), timeout).await
    }

    async fn find_css(&self, selector: &str, timeout: Duration) -> fantoccini::elements::Element {
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(selector)).await {
                if el.is_displayed().await.unwrap_or(false) {
                    return el;
                }
            }
            if start.elapsed() > timeout {
                self.fail(&format!("{selector} did not appear within {timeout:?}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn exists(&self, id: &str) -> bool {
        self.client.find(Locator::Css(&css(id))).await.is_ok()
    }

    /// Clicks once the element is there and enabled.
    async fn click(&self, id: &str) {
        self.click_css(&css(id)).await;
    }

    async fn click_css(&self, selector: &str) {
        let id = selector;
        let el = self.find_css(selector, UI_TIMEOUT).await;
        let start = Instant::now();
        while !el.is_enabled().await.unwrap_or(false) {
            if start.elapsed() > UI_TIMEOUT {
                self.fail(&format!("{id} stayed disabled")).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if let Err(e) = el.click().await {
            self.fail(&format!("clicking {id}: {e}")).await;
        }
    }

    async fn text(&self, id: &str) -> String {
        self.find(id, UI_TIMEOUT)
            .await
            .text()
            .await
            .unwrap_or_default()
    }

    /// Waits until the element's text contains `needle`.
    async fn wait_text(&self, id: &str, needle: &str, timeout: Duration) {
        let selector = css(id);
        let start = Instant::now();
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(&selector)).await {
                last = el.text().await.unwrap_or_default();
                if last.contains(needle) {
                    return;
                }
            }
            if start.elapsed() > timeout {
                self.fail(&format!(
                    "{selector} did not show {needle:?} within {timeout:?}; it showed {last:?}"
                ))
                .await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn wait_gone(&self, id: &str) {
        let start = Instant::now();
        while self.exists(id).await {
            if start.elapsed() > UI_TIMEOUT {
                self.fail(&format!("{id} is still shown")).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs one onboarding step through its action button and waits for it to pass.
    async fn step(&self, n: u32, timeout: Duration) {
        self.click(&format!("step-action-{n}")).await;
        self.step_done(n, timeout).await;
    }

    async fn step_done(&self, n: u32, timeout: Duration) {
        self.wait_text(&format!("step-status-{n}"), "done", timeout)
            .await;
    }

    async fn shot(&self, name: &str) {
        // Let transitions and streamed content settle.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = self.world.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("save the screenshot");
        eprintln!("screenshot: {}", path.display());
    }

    /// Saves a screenshot and the logs, then fails.
    async fn fail(&self, message: &str) -> ! {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.world.shots.join("failure.png"), png);
        }
        panic!("{message}\n{}", self.world.logs());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_completes_the_onboarding_and_manages_a_container() {
    let world = World::new();
    let app = env!("CARGO_BIN_EXE_berth-app");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app }),
    );
    // tauri-driver listens before the WebKitWebDriver it starts does: a session asked
    // for too early fails to connect, so it is asked again for a while.
    let url = format!("http://127.0.0.1:{}", world.driver_port);
    let start = Instant::now();
    let client = loop {
        match ClientBuilder::rustls()
            .expect("a WebDriver client")
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(e) if start.elapsed() < UI_TIMEOUT => {
                eprintln!("no WebDriver session yet ({e}); asking again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("a WebDriver session: {e}\n{}", world.logs()),
        }
    };
    let ui = Ui {
        client,
        world: &world,
    };

    // The screenshots show the app at a laptop's usual size.
    let _ = ui.client.set_window_size(1440, 900).await;

    // First launch: the tutorial opens by itself.
    ui.find("onboarding", UI_TIMEOUT).await;
    ui.shot("onboarding-start").await;

    // 1. Start the engine: the real VM boots.
    ui.step(1, BOOT_TIMEOUT).await;
    ui.shot("onboarding-1-engine").await;
    ui.click("onboarding-next").await;

    // 2. The first container, and its output.
    ui.step(2, STEP_TIMEOUT).await;
    let output = ui.text("step-output-2").await;
    assert!(!output.trim().is_empty(), "step 2 showed no output");
    ui.click("onboarding-next").await;

    // 3. A published port, probed by the app; the test checks it from the host too.
    ui.step(3, STEP_TIMEOUT).await;
    ui.find("step-preview-3", UI_TIMEOUT).await;
    ui.shot("onboarding-3-port").await;
    ui.click("onboarding-next").await;

    // 4. The shared folder: the app edits the page on the host, the container serves it.
    let message = "Edited on the host by the end-to-end test";
    let input = ui.find("step-message-4", UI_TIMEOUT).await;
    input.clear().await.expect("clear the message");
    input.send_keys(message).await.expect("type the message");
    ui.step(4, STEP_TIMEOUT).await;
    // The preview renders the body the app fetched through the published port.
    let frame = ui
        .find_css(&format!("{} iframe", css("step-preview-4")), UI_TIMEOUT)
        .await;
    let served = frame
        .attr("srcdoc")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    assert!(served.contains(message), "the preview shows {served:?}");
    let on_host = world.dir.path().join("home/berth-tutorial/index.html");
    let written = std::fs::read_to_string(&on_host).unwrap_or_default();
    assert!(
        written.contains(message),
        "{}: {written:?}",
        on_host.display()
    );
    ui.shot("onboarding-4-share").await;
    ui.click("onboarding-next").await;

    // 5. A terminal in the container: the step passes when a command's output is back.
    ui.find("terminal-view", UI_TIMEOUT).await;
    ui.step(5, STEP_TIMEOUT).await;
    ui.shot("onboarding-5-terminal").await;
    ui.click("onboarding-next").await;

    // 6. The user pastes the shown command into a shell; the app sees the CLI's request.
    ui.wait_text("cli-command", "docker", UI_TIMEOUT).await;
    let command = ui.text("cli-command").await;
    let out = Command::new("sh")
        .args(["-c", &command])
        .env("DOCKER_CONFIG", world.dir.path().join("docker-config"))
        .output()
        .expect("a shell");
    assert!(out.status.success(), "{command}: {}", text(&out));
    ui.step_done(6, STEP_TIMEOUT).await;
    ui.shot("onboarding-6-cli").await;
    ui.click("onboarding-next").await;

    // 7. Clean up, and finish.
    ui.step(7, STEP_TIMEOUT).await;
    ui.click("onboarding-done").await;
    ui.wait_gone("onboarding").await;
    let left = world.docker(&["ps", "-aq"]);
    assert!(
        left.trim().is_empty(),
        "the tutorial left containers: {left}"
    );

    // The dashboard shows a running engine.
    ui.click("nav-dashboard").await;
    ui.wait_text("engine-status", "unning", UI_TIMEOUT).await;
    // On the VM's data disk, not on memory.
    ui.wait_text("dashboard-disk", "used of", UI_TIMEOUT).await;
    ui.shot("dashboard").await;

    // The tray says so too, with the actions that fit a running engine.
    let items = block_in_place(|| world.desktop.wait_tray_label("Engine: running", UI_TIMEOUT));
    let enabled = |label: &str| items.iter().any(|i| i.label == label && i.enabled);
    assert!(
        enabled("Stop engine") && enabled("Restart engine") && !enabled("Start engine"),
        "the tray's menu: {items:?}"
    );

    // A container started from the docker CLI appears in the live list.
    world.docker(&["volume", "create", "e2e-data"]);
    world.docker(&[
        "run",
        "-d",
        "--name",
        "e2e-hello",
        "-v",
        "e2e-data:/data",
        "berth/hello",
        "sh",
        "-c",
        "echo hello-from-e2e; exec httpd -f -v -p 80 -h /var/www",
    ]);
    // The tray's quick action opens the list.
    block_in_place(|| world.desktop.tray_click("Containers"));
    ui.find("view-containers", UI_TIMEOUT).await;
    ui.find("container-row-e2e-hello", UI_TIMEOUT).await;
    ui.shot("containers").await;
    ui.click("container-row-e2e-hello").await;
    ui.find("container-detail", UI_TIMEOUT).await;

    // Its logs.
    ui.click("tab-logs").await;
    ui.wait_text("logs-view", "hello-from-e2e", UI_TIMEOUT)
        .await;
    ui.shot("container-logs").await;

    // Its terminal: type a command, read the answer off the terminal's rows.
    ui.click("tab-terminal").await;
    ui.find("terminal-view", UI_TIMEOUT).await;
    let typing = ui
        .client
        .find(Locator::Css(&format!(
            "{} .xterm-helper-textarea",
            css("container-detail")
        )))
        .await
        .expect("the terminal's input");
    // Type once the shell's prompt shows, then until the answer does (keys sent while
    // the exec is still opening are queued, not lost, but the prompt keeps it tidy).
    let rows_css = format!("{} .xterm-rows", css("container-detail"));
    let start = Instant::now();
    loop {
        let rows = match ui.client.find(Locator::Css(&rows_css)).await {
            Ok(rows) => rows.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if rows.contains('#') || start.elapsed() > UI_TIMEOUT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let start = Instant::now();
    loop {
        typing
            .send_keys("echo e2e-$((6*7))\n")
            .await
            .expect("type in the terminal");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rows = ui
            .client
            .find(Locator::Css(&rows_css))
            .await
            .expect("the terminal's rows")
            .text()
            .await
            .unwrap_or_default();
        if rows.contains("e2e-42") {
            break;
        }
        if start.elapsed() > UI_TIMEOUT {
            ui.fail(&format!("the terminal never answered; it shows {rows:?}"))
                .await;
        }
    }
    ui.shot("container-terminal").await;

    ui.click("tab-inspect").await;
    ui.wait_text("inspect-view", "/data", UI_TIMEOUT).await;
    ui.click("tab-stats").await;
    ui.find("stats-view", UI_TIMEOUT).await;
    ui.shot("container-stats").await;

    // Stop it, then remove it (with the confirmation).
    let row_action = |action: &str| {
        format!(
            "{} {}",
            css("container-row-e2e-hello"),
            css(&format!("container-action-{action}"))
        )
    };
    ui.click_css(&row_action("stop")).await;
    ui.wait_text("container-detail", "exited", STEP_TIMEOUT)
        .await;
    ui.click_css(&row_action("remove")).await;
    ui.click("confirm-yes").await;
    ui.wait_gone("container-row-e2e-hello").await;
    let left = world.docker(&["ps", "-aq"]);
    assert!(
        left.trim().is_empty(),
        "the container was not removed: {left}"
    );

    // A port another program holds: a desktop notification says so (the window may be
    // hidden), and the dashboard shows it in place.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let port = taken.local_addr().unwrap().port();
    world.docker(&[
        "run",
        "-d",
        "--name",
        "e2e-clash",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        "berth/hello",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/var/www",
    ]);
    let wanted = format!("127.0.0.1:{port}");
    block_in_place(|| {
        wait_until("the port conflict's notification", STEP_TIMEOUT, || {
            let shown = world.desktop.notifications();
            shown.contains("A port could not be published") && shown.contains(&wanted)
        })
    });
    ui.click("nav-dashboard").await;
    ui.wait_text("port-error", &port.to_string(), UI_TIMEOUT)
        .await;
    world.docker(&["rm", "-f", "e2e-clash"]);
    drop(taken);

    // The other main views, for the screenshots (and a look at their contents).
    ui.click("nav-images").await;
    ui.find("image-row-berth/hello", UI_TIMEOUT).await;
    ui.shot("images").await;
    ui.click("nav-volumes").await;
    ui.find("volume-row-e2e-data", UI_TIMEOUT).await;
    ui.shot("volumes").await;
    ui.click("nav-settings").await;
    ui.find("view-settings", UI_TIMEOUT).await;
    ui.shot("settings").await;

    // A registry on this computer: allowed in Settings (a change that needs a restart, and
    // says so), then an image pushed there from the CLI is pulled from the Images view.
    let registry = registry::HostRegistry::start();
    let insecure = ui.find("settings-insecure", UI_TIMEOUT).await;
    insecure
        .send_keys(&registry.address_in_vm())
        .await
        .expect("type the registry");
    ui.click("settings-save").await;
    ui.wait_text("settings-result", "Restart needed", UI_TIMEOUT)
        .await;
    ui.click("settings-restart").await;
    let reference = format!("{}/e2e/hello:1", registry.address_in_vm());
    // The old VM refuses the plain-HTTP registry and the restarting one does not answer:
    // the push works once the new VM runs with the setting.
    block_in_place(|| {
        wait_until("a push to the host's registry", BOOT_TIMEOUT, || {
            world.try_docker(&["tag", "berth/hello", &reference])
                && world.try_docker(&["push", &reference])
        })
    });
    world.docker(&["rmi", &reference]);
    ui.click("nav-images").await;
    let field = ui.find("pull-reference", UI_TIMEOUT).await;
    field
        .send_keys(&reference)
        .await
        .expect("type the reference");
    ui.click("pull-submit").await;
    // The item turns green (class pull-done) once the engine's stream has ended.
    let start = Instant::now();
    loop {
        let item = ui.find("pull-item", UI_TIMEOUT).await;
        let class = item.attr("class").await.ok().flatten().unwrap_or_default();
        assert!(
            !class.contains("pull-failed"),
            "the pull failed: {}",
            item.text().await.unwrap_or_default()
        );
        if class.contains("pull-done") {
            break;
        }
        if start.elapsed() > STEP_TIMEOUT {
            ui.fail(&format!("the pull did not finish: {class}")).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    world.docker(&["image", "inspect", &reference]);
    ui.click("nav-settings").await;
    ui.find("view-settings", UI_TIMEOUT).await;

    // Start at login: the switch writes the session's autostart entry and removes it.
    let autostart = world.home().join(".config/autostart");
    let entry = || {
        std::fs::read_dir(&autostart)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "desktop"))
    };
    let switch = format!("{} label.switch", css("view-settings"));
    for on in [true, false, true] {
        ui.click_css(&switch).await;
        ui.click("settings-save").await;
        block_in_place(|| {
            wait_until(
                &format!(
                    "the autostart entry {}",
                    if on { "written" } else { "removed" }
                ),
                UI_TIMEOUT,
                || entry().is_some() == on,
            )
        });
    }
    let entry = entry().expect("the autostart entry");
    let desktop_entry = std::fs::read_to_string(&entry).unwrap();
    let exec = desktop_entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .unwrap_or_else(|| panic!("no Exec in {}: {desktop_entry}", entry.display()));
    let mut words = exec.split_whitespace();
    let program = words.next().expect("a program to start");
    let args: Vec<&str> = words.collect();
    assert_eq!(args, ["--login"], "{desktop_entry}");

    // The next login: with the app quit and the engine stopped, the session runs the
    // entry; the app starts the engine by itself and stays in the tray.
    let _ = ui.client.close().await;
    block_in_place(|| {
        wait_until("the app to quit", UI_TIMEOUT, || {
            world.desktop.tray_items().is_empty()
        })
    });
    let stopped = Command::new(berth_cli())
        .arg("stop")
        .env("BERTH_HOME", world.berth_home())
        .output()
        .expect("berth stop");
    assert!(stopped.status.success(), "berth stop: {}", text(&stopped));
    let mut login = Command::new(program);
    login.args(&args);
    session_env(&mut login, world.dir.path(), &world.display, &world.desktop);
    let log = std::fs::File::create(world.dir.path().join("login.log")).unwrap();
    let _app = Killed(
        login
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the app, as the session starts it"),
    );
    block_in_place(|| {
        world
            .desktop
            .wait_tray_label("Engine: running", BOOT_TIMEOUT)
    });
    let version = world.docker(&["version", "--format", "{{.Server.Version}}"]);
    assert!(!version.trim().is_empty(), "the engine answered no version");
}
