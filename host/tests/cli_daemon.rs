//! The `berth` CLI and its daemon against the real VM (root + QEMU under TCG, as CI has).
//! One test walks the whole story, because every boot costs about ten seconds under TCG:
//! `berth start` with progress, the real docker CLI through the daemon's Docker socket
//! (a published port answering on the host, `run --rm` output over the half-close path,
//! `docker cp` both ways, a UDP echo through a published UDP port), the client program
//! seen as a `docker-client` event, `berth context` installing a docker context, `berth vm`
//! (output, exit code, stdin, the cwd in a share), a host port conflict reported without
//! harm, the daemon SIGKILLed and restarted without rebooting the VM, `berth restart`
//! (a reboot) with the `--restart always` containers back and answering on their ports,
//! `berth stop`,
//! `berth reset --export-volumes` (the VM started for the export, then the disk deleted),
//! and `berth doctor`. Host ports used: 18080-18082.
//!
//! The guest image must be built first (`vm-image/build`); `BERTH_VM_IMAGE` points
//! elsewhere.

#![cfg(target_os = "linux")]

mod common;

use common::image_dir;
use common::registry::HostRegistry;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A Berth home of its own; on drop, whatever still runs is killed.
struct Berth {
    home: tempfile::TempDir,
    image: PathBuf,
}

impl Berth {
    fn run_dir(&self) -> PathBuf {
        self.home.path().join("run")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.args(args)
            .env("BERTH_HOME", self.home.path())
            .env("BERTH_VM_IMAGE", &self.image)
            .stdin(Stdio::null());
        cmd
    }

    fn output(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run berth")
    }

    /// Runs `berth ARGS`, expecting success; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(out.status.success(), "berth {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn status(&self) -> Value {
        let out = self.output(&["status", "--json"]);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("status: {e}: {}", text(&out)))
    }

    fn docker(&self, args: &[&str]) -> String {
        let out = Command::new("docker")
            .args(args)
            .env(
                "DOCKER_HOST",
                format!("unix://{}", self.run_dir().join("docker.sock").display()),
            )
            .env("DOCKER_CONFIG", self.home.path().join("docker-config"))
            .output()
            .expect("the docker CLI");
        assert!(out.status.success(), "docker {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pid(&self, file: &str) -> Option<i32> {
        std::fs::read_to_string(self.run_dir().join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        for file in [
            "daemon.pid",
            "qemu.pid",
            "vhost-device-vsock.pid",
            "virtiofs-0.sock.pid",
        ] {
            if let Some(pid) = self.pid(file) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
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

/// True while the process runs (a zombie no longer does).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X') | None)
        })
        .unwrap_or(false)
}

fn wait_until<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// GET / on a host port; the body, or None while nothing answers yet.
fn http_get(port: u16) -> Option<String> {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    conn.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    answer.starts_with("HTTP/1.").then_some(answer)
}

/// Builds the static echo server of tests/fixtures/echo.c into `dir` (berth/hello's
/// busybox has no UDP server: its nc has no -u, and there is no udpsvd).
fn echo_binary(dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/echo.c");
    let binary = dir.join("echo");
    let out = Command::new("cc")
        .args(["-static", "-O2", "-pthread", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("a C compiler (cc)");
    assert!(out.status.success(), "cc: {}", text(&out));
    binary
}

/// One datagram from a fresh socket (a new flow) to host `port`; its answer, or None when
/// none came within a second.
fn udp_round_trip(port: u16, payload: &[u8]) -> Option<Vec<u8>> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    socket.send_to(payload, ("127.0.0.1", port)).ok()?;
    let mut buf = vec![0u8; 65_536];
    let (n, from) = socket.recv_from(&mut buf).ok()?;
    assert_eq!(
        from.port(),
        port,
        "the answer comes from the published port"
    );
    Some(buf[..n].to_vec())
}

/// A UDP echo server in a container (`--restart always`) published on host port 18082/udp.
fn start_udp_echo(berth: &Berth) {
    let echo = echo_binary(berth.home.path());
    berth.docker(&[
        "create",
        "--name",
        "udp-echo",
        "--restart",
        "always",
        "-p",
        "18082:53/udp",
        "berth/hello",
        "/echo",
        "udp",
        "53",
    ]);
    berth.docker(&["cp", echo.to_str().unwrap(), "udp-echo:/echo"]);
    berth.docker(&["start", "udp-echo"]);
}

/// Datagrams through the published UDP port: retried until the first answer (the port
/// opens when the daemon sees the agent's event), then flows of their own with their
/// boundaries kept, the largest IPv4 UDP payload included.
fn check_udp_echo(what: &str) {
    let first = wait_until(what, Duration::from_secs(30), || {
        udp_round_trip(18082, b"hello over udp")
    });
    assert_eq!(first, b"hello over udp");
    for payload in [b"second flow".to_vec(), vec![0x5a; 65_507]] {
        let got = wait_until("a UDP answer", Duration::from_secs(10), || {
            udp_round_trip(18082, &payload)
        });
        assert_eq!(got.len(), payload.len());
        assert!(got == payload, "a datagram came back changed");
    }
}

/// `berth context` (not --print) installs the docker context `berth` and selects it: with
/// no DOCKER_HOST, `docker --context berth ps` and plain `docker ps` reach Berth.
fn check_docker_context(berth: &Berth) {
    let config = berth.home.path().join("context-docker-config");
    let docker = |args: &[&str]| {
        let out = Command::new("docker")
            .args(args)
            .env("DOCKER_CONFIG", &config)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .output()
            .expect("the docker CLI");
        assert!(out.status.success(), "docker {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = berth
        .cmd(&["context"])
        .env("DOCKER_CONFIG", &config)
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
    assert!(out.status.success(), "berth context: {}", text(&out));
    assert!(text(&out).contains("context `berth`"), "{}", text(&out));
    assert!(docker(&["--context", "berth", "ps"]).contains("web"));
    assert!(docker(&["ps", "--format", "{{.Names}}"]).contains("web"));
    let contexts = docker(&["context", "ls", "--format", "{{.Name}} {{.Current}}"]);
    assert!(contexts.lines().any(|l| l == "berth true"), "{contexts}");
    // A second run updates the context instead of failing on the existing one.
    let again = berth
        .cmd(&["context"])
        .env("DOCKER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "berth context again: {}",
        text(&again)
    );
}

/// The docker CLI's programs show as `docker-client` events (from their User-Agent).
fn check_docker_client_event(berth: &Berth) {
    berth.docker(&["ps"]);
    let events = berth.ok(&["events", "--json"]);
    let seen = events
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .any(|e| {
            e["kind"] == "docker-client"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Docker-Client/"))
        });
    assert!(seen, "no docker-client event in:\n{events}");
}

/// `berth reset --export-volumes` on a stopped Berth: it starts the VM to export each
/// volume as a tar file, then stops it and deletes the data disk.
fn check_reset_exports_volumes(berth: &Berth) {
    let dir = berth.home.path().join("exported");
    let disk = berth.home.path().join("data.img");
    assert!(disk.exists(), "no data disk at {}", disk.display());
    let dir_arg = dir.to_string_lossy().into_owned();
    let out = berth.ok(&["reset", "--yes", "--export-volumes", &dir_arg]);
    assert!(out.contains("Exporting volume keep"), "{out}");
    let archive = dir.join("keep.tar");
    let listing = Command::new("tar")
        .args(["-xOf"])
        .arg(&archive)
        .arg("./file")
        .output()
        .expect("tar");
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout),
        "kept\n",
        "{}: {}",
        archive.display(),
        text(&listing)
    );
    assert!(!dir.join("keep.tar.partial").exists());
    assert!(!disk.exists(), "the data disk is still there");
    assert_eq!(berth.output(&["status"]).status.code(), Some(1));
}

/// A push to the registry on the host and a pull back, through the VM's engine.
fn check_host_registry(berth: &Berth, registry: &HostRegistry) {
    let reference = format!("{}/story/hello:1", registry.address_in_vm());
    berth.docker(&["tag", "berth/hello", &reference]);
    let pushed = berth.docker(&["push", &reference]);
    assert!(pushed.contains("digest: sha256:"), "{pushed}");
    berth.docker(&["rmi", &reference]);
    berth.docker(&["pull", &reference]);
    let out = berth.docker(&["run", "--rm", &reference, "echo", "pulled back"]);
    assert_eq!(out, "pulled back\n", "{}", registry.log());
    berth.docker(&["rmi", &reference]);
}

/// The agent runs on its data disk (not on memory, as when the device never appears).
fn assert_data_disk(status: &Value) {
    let disk = &status["agent"]["data_disk"];
    assert!(
        disk["device"]
            .as_str()
            .is_some_and(|d| d.starts_with("/dev/"))
            && disk["total_bytes"].as_u64() > Some(0),
        "no data disk mounted in the VM: {status}"
    );
}

fn uptime_ms(status: &Value) -> u64 {
    status["agent"]["uptime_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("no agent in {status}"))
}

#[test]
fn cli_starts_serves_docker_forwards_ports_and_reattaches_after_a_daemon_kill() {
    let started = Instant::now();
    // A copy of the image: a concurrent `vm-image/build` must not swap it mid-boot.
    let home = tempfile::tempdir().unwrap();
    let image = home.path().join("image");
    std::fs::create_dir_all(&image).unwrap();
    for file in ["vmlinuz", "initramfs.cpio"] {
        std::fs::copy(image_dir().join(file), image.join(file)).unwrap();
    }
    let berth = Berth { home, image };
    let share = berth.home.path().join("share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("from-host.txt"), "shared\n").unwrap();

    // Doctor first: it reports the accelerator verdict (TCG on this machine).
    let doctor: Value = serde_json::from_str(&berth.ok(&["doctor", "--json"])).unwrap();
    let check = |name: &str| {
        doctor
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {doctor}"))
            .clone()
    };
    let accel = check("accelerator")["detail"].as_str().unwrap().to_string();
    assert!(
        accel.starts_with("TCG") || accel.starts_with("KVM"),
        "{accel}"
    );
    eprintln!("doctor: accelerator {accel}");
    // scripts/setup installs Berth's build of the vsock device (a stock one stalls two-way
    // streams); the doctor tells them apart.
    let vsock = check("vsock");
    assert_eq!(vsock["verdict"], "ok", "{vsock}");
    assert!(
        vsock["detail"].as_str().unwrap().contains("+berth."),
        "{vsock}"
    );
    // Shares need virtiofsd; without it the VM boots with none.
    let virtiofs = check("virtiofsd")["verdict"] == "ok";
    let shares = if virtiofs {
        share.to_str().unwrap()
    } else {
        ""
    };
    berth.ok(&["config", "set", "shares", shares]);
    berth.ok(&["config", "set", "memory_mib", "1024"]);
    // A registry on this computer, which the engine in the VM reaches by name over plain
    // HTTP once the settings say it may.
    let registry = HostRegistry::start();
    let out = berth.output(&["config", "set", "insecure_registries", "http://reg.lan"]);
    assert!(
        !out.status.success() && text(&out).contains("insecure_registries"),
        "{}",
        text(&out)
    );
    berth.ok(&[
        "config",
        "set",
        "insecure_registries",
        &registry.address_in_vm(),
    ]);

    // Not running yet: a clear error.
    let out = berth.output(&["vm", "--", "true"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Berth is not running: run `berth start`"),
        "{}",
        text(&out)
    );

    // Start: progress, then ready.
    let out = berth.ok(&["start"]);
    for line in ["Starting the VM", "Agent up: berth-agent", "Engine ready"] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let status = berth.status();
    assert_eq!(status["phase"], "running", "{status}");
    assert!(
        status["backend"].as_str().unwrap().starts_with("qemu-"),
        "{status}"
    );
    assert_data_disk(&status);
    let human = berth.ok(&["status"]);
    assert!(human.contains("Disk:        /dev/"), "{human}");
    eprintln!("started in {:?}", started.elapsed());
    assert!(berth.ok(&["start"]).contains("already running"));

    // The docker CLI through the daemon's socket: a published port answers on the host.
    berth.docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "--restart",
        "always",
        "-p",
        "18080:80",
        "berth/hello",
    ]);
    let page = wait_until("port 18080 to answer", Duration::from_secs(15), || {
        http_get(18080)
    });
    assert!(page.contains("200"), "{page}");
    // Output of a container whose CLI half-closes its sending side at once.
    assert_eq!(
        berth.docker(&["run", "--rm", "berth/hello", "echo", "hi"]),
        "hi\n"
    );
    // docker cp both ways (a tar stream each way through the socket).
    let local = berth.home.path().join("cp-in.txt");
    std::fs::write(&local, "copied in\n").unwrap();
    berth.docker(&["cp", local.to_str().unwrap(), "web:/tmp/cp.txt"]);
    let back = berth.home.path().join("cp-out.txt");
    berth.docker(&["cp", "web:/tmp/cp.txt", back.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "copied in\n");
    check_docker_client_event(&berth);
    check_docker_context(&berth);
    check_host_registry(&berth, &registry);

    // UDP through a published UDP port.
    start_udp_echo(&berth);
    check_udp_echo("the UDP echo on 18082");
    let status = berth.status();
    let udp = status["ports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["host_port"] == 18082 && p["proto"] == "udp");
    assert!(udp, "18082/udp not among the forwarded ports: {status}");

    // Commands in the VM: output, exit codes, stdin.
    assert!(berth
        .ok(&["vm", "--", "uname", "-a"])
        .starts_with("Linux berth "));
    let out = berth.output(&["vm", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let mut cat = berth
        .cmd(&["vm", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    cat.stdin
        .take()
        .unwrap()
        .write_all(b"through stdin\n")
        .unwrap();
    let out = cat.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "through stdin\n");
    // Ctrl-C reaches the command in the VM as a signal (130 = killed by SIGINT).
    let sleeper = berth.cmd(&["vm", "--", "sleep", "60"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sleeper.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = sleeper.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    if virtiofs {
        // The cwd inside a share is the same path in the VM.
        let out = berth
            .cmd(&["vm", "--", "sh", "-c", "pwd; cat from-host.txt"])
            .current_dir(&share)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{}\nshared\n", share.display()),
            "{}",
            text(&out)
        );
    }

    // A host port already taken: reported, and the daemon lives on.
    let holder = std::net::TcpListener::bind("127.0.0.1:18081").unwrap();
    berth.docker(&["run", "-d", "-p", "18081:80", "berth/hello"]);
    let error = wait_until("the port error", Duration::from_secs(15), || {
        let status = berth.status();
        status["port_errors"]
            .as_array()?
            .iter()
            .find(|e| e["host_port"] == 18081)
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
    });
    assert!(error.contains("18081"), "{error}");
    assert!(berth.ok(&["status"]).contains("18081"));
    let events = berth.ok(&["events"]);
    assert!(events.contains("PORT ERROR"), "{events}");
    let daemon = berth.pid("daemon.pid").expect("a daemon pid file");
    assert!(alive(daemon));

    // The daemon SIGKILLed: a new one reattaches and the VM was not rebooted.
    let before = uptime_ms(&berth.status());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("the daemon to die", Duration::from_secs(10), || {
        (!alive(daemon)).then_some(())
    });
    assert!(!berth.output(&["status"]).status.success());
    let out = berth.ok(&["start"]);
    assert!(out.contains("reattached"), "{out}");
    let status = berth.status();
    assert_eq!(status["reattached"], true, "{status}");
    assert!(uptime_ms(&status) > before, "{status} vs {before}");
    assert!(
        status["backend"].as_str().unwrap().starts_with("qemu-"),
        "{status}"
    );
    let page = wait_until(
        "port 18080 after the reattach",
        Duration::from_secs(15),
        || http_get(18080),
    );
    assert!(page.contains("200"), "{page}");
    drop(holder);

    // A reboot: the `--restart always` containers (web, udp-echo) come back by themselves,
    // and their published ports answer on the host again.
    let before = uptime_ms(&berth.status());
    let out = berth.ok(&["restart"]);
    assert!(out.contains("Engine ready"), "{out}");
    let status = berth.status();
    assert_eq!(status["phase"], "running", "{status}");
    assert!(
        uptime_ms(&status) < before,
        "not rebooted: {status} vs {before}"
    );
    // Without its disk the engine would start empty, on memory.
    assert_data_disk(&status);
    let running = berth.docker(&["inspect", "-f", "{{.State.Running}}", "web", "udp-echo"]);
    assert_eq!(running, "true\ntrue\n", "after the reboot");
    let page = wait_until(
        "port 18080 after the reboot",
        Duration::from_secs(60),
        || http_get(18080),
    );
    assert!(page.contains("200"), "{page}");
    check_udp_echo("the UDP echo after the reboot");

    // A volume with data, for the reset below.
    berth.docker(&["volume", "create", "keep"]);
    berth.docker(&[
        "run",
        "--rm",
        "-v",
        "keep:/v",
        "berth/hello",
        "sh",
        "-c",
        "echo kept > /v/file",
    ]);

    // Stop: the VM goes, and the daemon with it.
    let qemu = berth.pid("qemu.pid").expect("a qemu pid file");
    let daemon = berth.pid("daemon.pid").expect("a daemon pid file");
    assert!(berth.ok(&["stop"]).contains("Berth stopped"));
    wait_until("QEMU to exit", Duration::from_secs(10), || {
        (!alive(qemu)).then_some(())
    });
    wait_until("the daemon to exit", Duration::from_secs(10), || {
        (!alive(daemon)).then_some(())
    });
    let out = berth.output(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("Berth is not running"),
        "{}",
        text(&out)
    );
    check_reset_exports_volumes(&berth);
    eprintln!("whole walk: {:?}", started.elapsed());
}
