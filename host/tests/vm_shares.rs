//! Shared folders in the real Berth VM (QEMU under TCG here, one virtiofsd per share): the
//! guest sees each host folder at the same absolute path, writes cross both ways at once, a
//! read-only share refuses writes, and the Docker API over vsock binds from a share (a
//! container reads the host's file and writes one the host sees) but refuses a bind from
//! anywhere else ("Mounts denied"). One boot for all of it: boots cost seconds under TCG.
//!
//! The image must be built first (`vm-image/build`); `BERTH_VM_IMAGE` points elsewhere.
//! Needs virtiofsd (`cargo install virtiofsd`; scripts/setup installs it).

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_host::backend::qemu::{QemuBackend, QemuOptions};
use berth_host::backend::{Share, Status, VmConfig};
use berth_host::vm::{Timeouts, Vm};
use berth_protocol::{EngineState, ExecRequest};

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
    fn new(dir: tempfile::TempDir, shares: Vec<Share>) -> Guest {
        let image = image_dir();
        let state = dir.path().join("run");
        let config = VmConfig {
            kernel: image.join("vmlinuz"),
            initrd: image.join("initramfs.cpio"),
            cmdline: String::new(),
            cpus: 2,
            memory_mib: 1024,
            disk: dir.path().join("data.img"),
            disk_size_bytes: 4 << 30,
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

    fn boot(&self) {
        let started = Instant::now();
        self.runtime
            .block_on(self.vm.start(|_| {}))
            .unwrap_or_else(|e| panic!("boot failed: {e}\n{}", self.console()));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let health = self
                .runtime
                .block_on(async { self.vm.agent()?.health().await.map_err(Into::into) })
                .unwrap_or_else(|e: berth_host::vm::VmError| panic!("health: {e}"));
            if matches!(health.engine, EngineState::Running { .. }) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the engine never came up: {health:?}\n{}",
                self.console()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        eprintln!("booted with the engine up in {:?}", started.elapsed());
    }

    /// Runs a command in the VM: (exit code, stdout, stderr).
    fn exec(&self, command: &[&str]) -> (i32, String, String) {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let status = self
            .runtime
            .block_on(async {
                let agent = self.vm.agent()?;
                let io = berth_host::agent::ExecIo {
                    stdin: Box::new(&b""[..]),
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
            })
            .unwrap_or_else(|e| panic!("exec {command:?}: {e}"));
        (
            status.code,
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    fn sh(&self, script: &str) -> String {
        let (code, out, err) = self.exec(&["/bin/sh", "-c", script]);
        assert_eq!(code, 0, "{script}: {out}{err}\n{}", self.console());
        out
    }

    /// A Unix socket on the host whose connections go to the Docker API in the VM (as in
    /// vm_guest.rs: the host daemon's job, carried by the test).
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

    fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(format!("unix://{}", self.docker_socket().display()))
            .args(args)
            .output()
            .expect("the docker CLI")
    }

    fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(out.status.success(), "docker {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn console(&self) -> String {
        let log = std::fs::read(self.vm.backend().console_log()).unwrap_or_default();
        let text = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.vm.backend().kill();
    }
}

/// The pids of the virtiofsd processes serving this VM's state directory.
fn virtiofsd_pids(state: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.contains("virtiofsd") && cmdline.contains(&*state.to_string_lossy()) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn vm_shares_host_folders_at_the_same_path() {
    let dir = tempfile::tempdir().unwrap();
    // A space and a comma: the path crosses QEMU options and the kernel command line.
    let share = dir.path().join("my share,1");
    let ro = dir.path().join("read-only");
    std::fs::create_dir_all(share.join("x")).unwrap();
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::write(share.join("hello.txt"), "from the host\n").unwrap();
    std::fs::write(share.join("x/file"), "for the container\n").unwrap();
    std::fs::write(ro.join("keep.txt"), "untouched\n").unwrap();
    let state = dir.path().join("run");
    let guest = Guest::new(
        dir,
        vec![
            Share {
                tag: "share0".into(),
                host_path: share.clone(),
                read_only: false,
            },
            Share {
                tag: "share1".into(),
                host_path: ro.clone(),
                read_only: true,
            },
        ],
    );
    guest.boot();
    // One per share (two processes each under --sandbox=namespace: it forks into it).
    assert!(virtiofsd_pids(&state).len() >= 2);
    let s = share.to_str().unwrap();
    let r = ro.to_str().unwrap();

    // The guest sees the host's file at the same absolute path, on virtiofs.
    let (code, out, err) = guest.exec(&["cat", &format!("{s}/hello.txt")]);
    assert_eq!((code, out.as_str()), (0, "from the host\n"), "{err}");
    let mounts = guest.sh("cat /proc/mounts");
    assert!(
        mounts.contains("share0 ") && mounts.contains("share1 "),
        "{mounts}"
    );
    assert!(
        mounts
            .lines()
            .any(|l| l.starts_with("share1 ") && l.contains(" ro,")),
        "{mounts}"
    );

    // A guest write is on the host at once; a host write is in the guest.
    guest.sh(&format!("echo from the guest > '{s}/guest.txt'"));
    assert_eq!(
        std::fs::read_to_string(share.join("guest.txt")).unwrap(),
        "from the guest\n"
    );
    std::fs::write(share.join("later.txt"), "written later\n").unwrap();
    assert_eq!(guest.sh(&format!("cat '{s}/later.txt'")), "written later\n");

    // The read-only share refuses writes.
    let (code, _, err) = guest.exec(&["/bin/sh", "-c", &format!("echo x > '{r}/new'")]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only"), "{err}");
    assert!(!ro.join("new").exists());
    assert_eq!(guest.sh(&format!("cat '{r}/keep.txt'")), "untouched\n");

    // Through the Docker API: a bind from the share, both ways.
    let bind = format!("{s}/x:/x");
    let out = guest.docker_ok(&["run", "--rm", "-v", &bind, "berth/hello", "cat", "/x/file"]);
    assert_eq!(out, "for the container\n");
    guest.docker_ok(&[
        "run",
        "--rm",
        "-v",
        &bind,
        "berth/hello",
        "sh",
        "-c",
        "echo from a container > /x/made",
    ]);
    assert_eq!(
        std::fs::read_to_string(share.join("x/made")).unwrap(),
        "from a container\n"
    );

    // A bind from outside every share is refused.
    let out = guest.docker(&["run", "--rm", "-v", "/etc:/x", "berth/hello", "true"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr.contains(
            "Mounts denied: the path /etc is not shared from the host and is not known to Berth"
        ),
        "{stderr}"
    );

    // A clean stop ends the virtiofsd processes too.
    guest
        .runtime
        .block_on(guest.vm.stop())
        .unwrap_or_else(|e| panic!("stop: {e}"));
    assert_eq!(guest.runtime.block_on(guest.vm.status()), Status::Stopped);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !virtiofsd_pids(&state).is_empty() {
        assert!(Instant::now() < deadline, "virtiofsd outlived the VM");
        std::thread::sleep(Duration::from_millis(100));
    }
}
