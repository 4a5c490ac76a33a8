//! What the VM tests share: the built guest image, and a [`Guest`] that boots it under
//! QEMU (TCG here) with a private state directory and drives it over vsock: exec, health,
//! and a host Unix socket carried to the Docker API in the VM (the host daemon's job; the
//! tests carry their own so they test the VM alone).
#![allow(dead_code)] // each test file uses its own part

pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_host::backend::qemu::{QemuBackend, QemuOptions};
use berth_host::backend::{Share, Status, VmConfig};
use berth_host::vm::{Timeouts, Vm, VmError};
use berth_protocol::{EngineState, ExecRequest, Health};

/// The guest image (`vm-image/build`'s output, or `BERTH_VM_IMAGE`).
pub fn image_dir() -> PathBuf {
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

pub struct Guest {
    pub dir: tempfile::TempDir,
    pub vm: Vm,
    pub runtime: tokio::runtime::Runtime,
}

impl Guest {
    /// A VM of 2 CPUs and 1 GiB whose state and data disk live in `dir`.
    pub fn new(dir: tempfile::TempDir, disk_size_bytes: u64, shares: Vec<Share>) -> Guest {
        let image = image_dir();
        let state = dir.path().join("run");
        let config = VmConfig {
            kernel: image.join("vmlinuz"),
            initrd: image.join("initramfs.cpio"),
            cmdline: String::new(),
            cpus: 2,
            memory_mib: 1024,
            disk: dir.path().join("data.img"),
            disk_size_bytes,
            state_dir: state.clone(),
            shares,
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

    /// Boots, checks the hello, and waits for the engine.
    pub fn boot(&self) -> Health {
        let started = Instant::now();
        let hello = self
            .runtime
            .block_on(self.vm.start(|_| {}))
            .unwrap_or_else(|e| panic!("boot failed: {e}\n{}", self.console()));
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

    pub fn health(&self) -> Health {
        self.runtime
            .block_on(async { Ok::<_, VmError>(self.vm.agent()?.health().await?) })
            .unwrap_or_else(|e| panic!("health: {e}"))
    }

    /// Waits until the engine answers (with the demo image loaded on a first boot).
    pub fn wait_for_engine(&self) -> Health {
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
    pub fn exec(&self, command: &[&str], stdin: &[u8]) -> (i32, String, String) {
        self.try_exec(command, stdin)
            .unwrap_or_else(|e| panic!("exec {command:?}: {e}"))
    }

    pub fn try_exec(
        &self,
        command: &[&str],
        stdin: &[u8],
    ) -> Result<(i32, String, String), VmError> {
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
            Ok::<_, VmError>(agent.exec(request, io).await?)
        })?;
        Ok((
            status.code,
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        ))
    }

    /// A shell script in the VM that must succeed; its stdout.
    pub fn sh(&self, script: &str) -> String {
        let (code, out, err) = self.exec(&["/bin/sh", "-c", script], b"");
        assert_eq!(code, 0, "{script}: {out}{err}\n{}", self.console());
        out
    }

    /// A Unix socket on the host whose connections go to the Docker API in the VM, one
    /// vsock connection each.
    pub fn docker_socket(&self) -> PathBuf {
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

    /// The real docker CLI against the VM's engine.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(format!("unix://{}", self.docker_socket().display()))
            .args(args)
            .output()
            .expect("the docker CLI")
    }

    /// `docker ARGS`, which must succeed; its stdout.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The last lines of the serial console, for failure messages.
    pub fn console(&self) -> String {
        let log = std::fs::read(self.vm.backend().console_log()).unwrap_or_default();
        let text = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    pub fn status(&self) -> Status {
        self.runtime.block_on(self.vm.status())
    }

    pub fn stop(&self) {
        self.runtime
            .block_on(self.vm.stop())
            .unwrap_or_else(|e| panic!("stop: {e}"));
        assert_eq!(self.status(), Status::Stopped);
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.vm.backend().kill();
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}
