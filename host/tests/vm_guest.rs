//! The real Berth VM under QEMU: the guest image from `vm-image/build` (kernel, initramfs with
//! `berth-agent` as PID 1), booted by the QEMU backend (TCG here), reached over vsock
//! through vhost-device-vsock. One test walks the VM's whole life, because every boot costs
//! several seconds under TCG: boot, hello, exec, a container through the Docker API over
//! vsock, the engine killed and restarted by the supervisor, a clean stop, a boot that finds
//! its data, QEMU SIGKILLed, a boot that finds its fsynced data and a disk not reformatted.
//!
//! The image must be built first (`scripts/test` does; by hand: `vm-image/build`);
//! `BERTH_VM_IMAGE` points elsewhere.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_host::backend::qemu::{QemuBackend, QemuOptions};
use berth_host::backend::{Status, VmConfig};
use berth_host::vm::{Timeouts, Vm};
use berth_protocol::{EngineState, ExecRequest, Health};

fn image_dir() -> PathBuf {
    let dir = std::env::var_os("BERTH_VM_IMAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/vm-image"));
    for file in ["vmlinuz", "initramfs.cpio"] {
        assert!(
            dir.join(file).exists(),
            "{} is missing: build the guest image first (vm-image/build)",
            dir.join(file).display()
        );
    }
    dir
}

struct Guest {
    dir: tempfile::TempDir,
    vm: Vm,
    runtime: tokio::runtime::Runtime,
}

impl Guest {
    fn new() -> Guest {
        let image = image_dir();
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("run");
        let config = VmConfig {
            kernel: image.join("vmlinuz"),
            initrd: image.join("initramfs.cpio"),
            cmdline: String::new(),
            cpus: 2,
            memory_mib: 1024,
            disk: dir.path().join("data.img"),
            disk_size_bytes: 8 << 30,
            state_dir: state.clone(),
            shares: Vec::new(),
        };
        let backend = Arc::new(QemuBackend::new(state, QemuOptions::from_env()));
        let vm = Vm::new(backend, config).with_timeouts(Timeouts {
            ready: Duration::from_secs(120),
            ..Timeouts::default()
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Guest { dir, vm, runtime }
    }

    fn boot(&self) -> Health {
        let started = Instant::now();
        let hello = self
            .runtime
            .block_on(self.vm.start(|_| {}))
            .unwrap_or_else(|e| panic!("boot failed: {e}"));
        eprintln!(
            "{}: agent {} ready in {:?} ({})",
            self.vm.backend().name(),
            hello.agent_version,
            started.elapsed(),
            hello.kernel
        );
        assert_eq!(hello.protocol, berth_protocol::PROTOCOL_VERSION);
        for capability in ["exec", "docker-api", "shutdown", "port-events"] {
            assert!(
                hello.capabilities.iter().any(|c| c == capability),
                "{capability} missing from {:?}",
                hello.capabilities
            );
        }
        self.wait_for_engine()
    }

    fn health(&self) -> Health {
        self.runtime
            .block_on(async { self.vm.agent()?.health().await.map_err(Into::into) })
            .unwrap_or_else(|e: berth_host::vm::VmError| panic!("health: {e}"))
    }

    /// Waits until the engine answers (the demo image is loaded on first boot).
    fn wait_for_engine(&self) -> Health {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let health = self.health();
            if matches!(health.engine, EngineState::Running { .. }) {
                return health;
            }
            assert!(
                Instant::now() < deadline,
                "the engine never came up: {health:?}\n{}",
                self.console()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Runs a command in the VM: (exit code, stdout, stderr).
    fn exec(&self, command: &[&str], stdin: &[u8]) -> (i32, String, String) {
        self.try_exec(command, stdin)
            .unwrap_or_else(|e| panic!("exec {command:?}: {e}"))
    }

    fn try_exec(
        &self,
        command: &[&str],
        stdin: &[u8],
    ) -> Result<(i32, String, String), berth_host::vm::VmError> {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let status = self.runtime.block_on(async {
            let agent = self.vm.agent()?;
            let io = berth_host::agent::ExecIo {
                stdin: Box::new(stdin),
                stdout: Box::new(&mut stdout),
                stderr: Box::new(&mut stderr),
                resize: None,
                signals: None,
            };
            let request = ExecRequest {
                command: command.iter().map(|s| s.to_string()).collect(),
                env: vec![],
                cwd: None,
                tty: None,
            };
            Ok::<_, berth_host::vm::VmError>(agent.exec(request, io).await?)
        })?;
        Ok((
            status.code,
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        ))
    }

    fn sh(&self, script: &str) -> String {
        let (code, out, err) = self.exec(&["/bin/sh", "-c", script], b"");
        assert_eq!(code, 0, "{script}: {out}{err}");
        out
    }

    /// A Unix socket on the host whose connections go to the Docker API in the VM, one
    /// vsock connection each (the host daemon's job; the test carries its own).
    fn docker_socket(&self) -> PathBuf {
        let path = self.dir.path().join("docker.sock");
        if path.exists() {
            return path;
        }
        let listener = self
            .runtime
            .block_on(async { tokio::net::UnixListener::bind(&path) })
            .unwrap();
        let vm = self.vm.clone();
        self.runtime.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let vm = vm.clone();
                tokio::spawn(async move {
                    if let Ok(mut guest) = vm.docker_api().await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut guest).await;
                    }
                });
            }
        });
        path
    }

    fn docker(&self, args: &[&str]) -> String {
        let socket = format!("unix://{}", self.docker_socket().display());
        let out = Command::new("docker")
            .arg("-H")
            .arg(&socket)
            .args(args)
            .output()
            .expect("the docker CLI");
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn console(&self) -> String {
        let log = std::fs::read(self.vm.backend().console_log()).unwrap_or_default();
        let text = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    fn stop(&self) {
        self.runtime
            .block_on(self.vm.stop())
            .unwrap_or_else(|e| panic!("stop: {e}"));
        assert_eq!(self.runtime.block_on(self.vm.status()), Status::Stopped);
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.vm.backend().kill();
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn vm_boots_serves_docker_survives_crashes_and_keeps_its_data() {
    let guest = Guest::new();

    // First boot: a blank disk is formatted and mounted.
    let health = guest.boot();
    let disk = health.data_disk.clone().expect("a data disk is mounted");
    assert!(disk.formatted_this_boot, "{health:?}");
    assert!(disk.total_bytes > 7 << 30, "{disk:?}");
    eprintln!(
        "guest memory: {} KiB of {} KiB in use; agent RSS {} KiB",
        health.memory_total_kib - health.memory_available_kib,
        health.memory_total_kib,
        health.agent_rss_kib
    );

    // The host set the guest's clock.
    let guest_now: i64 = guest.sh("date +%s").trim().parse().unwrap();
    let host_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (guest_now - host_now).abs() <= 2,
        "{guest_now} vs {host_now}"
    );

    // Exec in the VM: output, exit codes, stdin, stderr apart.
    let (code, out, _) = guest.exec(&["uname", "-a"], b"");
    assert_eq!(code, 0);
    assert!(out.starts_with("Linux berth "), "{out}");
    assert_eq!(guest.exec(&["/bin/sh", "-c", "exit 3"], b"").0, 3);
    let (code, out, _) = guest.exec(&["cat"], b"through the vsock\n");
    assert_eq!((code, out.as_str()), (0, "through the vsock\n"));
    let (_, out, err) = guest.exec(&["/bin/sh", "-c", "echo out; echo err >&2"], b"");
    assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
    let refused = guest.try_exec(&["/no/such/program"], b"").unwrap_err();
    assert!(
        refused.to_string().contains("/no/such/program"),
        "{refused}"
    );

    // The Docker API over vsock, driven by the real docker CLI: the demo image is there.
    assert!(guest.docker(&["images"]).contains("berth/hello"));
    let out = guest.docker(&["run", "--rm", "berth/hello", "echo", "hello from the VM"]);
    assert_eq!(out, "hello from the VM\n");
    let keeper = guest.docker(&["run", "-d", "--name", "keeper", "berth/hello"]);
    let keeper = keeper.trim().to_string();
    // Data the next boots must find.
    guest.sh("echo kept > /var/lib/berth/marker && sync");

    // The engine dies: the supervisor restarts it and the container keeps running.
    let EngineState::Running { pid } = guest.health().engine else {
        unreachable!()
    };
    guest.sh(&format!("kill -9 {pid}"));
    wait_until("the engine's restart", Duration::from_secs(60), || {
        let h = guest.health();
        h.engine_restarts >= 1 && matches!(h.engine, EngineState::Running { pid: p } if p != pid)
    });
    let running = guest.docker(&["ps", "-q", "--no-trunc"]);
    assert!(running.contains(&keeper), "{running}");
    assert_eq!(
        guest.docker(&["inspect", "-f", "{{.State.Running}}", "keeper"]),
        "true\n"
    );

    // A clean stop, then a boot that finds everything and formats nothing.
    guest.stop();
    let health = guest.boot();
    assert!(!health.data_disk.unwrap().formatted_this_boot);
    assert_eq!(guest.sh("cat /var/lib/berth/marker"), "kept\n");
    assert!(guest.docker(&["ps", "-a"]).contains("keeper"));

    // QEMU SIGKILLed: fsynced data survives and the disk is not reformatted.
    guest.sh("echo synced > /var/lib/berth/marker2 && sync /var/lib/berth/marker2");
    let Status::Running { pid: Some(qemu) } = guest.runtime.block_on(guest.vm.status()) else {
        panic!("not running")
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(qemu as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("QEMU to be gone", Duration::from_secs(10), || {
        !matches!(
            guest.runtime.block_on(guest.vm.status()),
            Status::Running { .. }
        )
    });
    assert!(matches!(
        guest.runtime.block_on(guest.vm.status()),
        Status::Crashed { .. }
    ));
    let health = guest.boot();
    assert!(!health.data_disk.unwrap().formatted_this_boot);
    assert_eq!(guest.sh("cat /var/lib/berth/marker2"), "synced\n");
    assert_eq!(guest.sh("cat /var/lib/berth/marker"), "kept\n");
    guest.docker(&["rm", "-f", "keeper"]);
    guest.stop();
}
