//! The measuring half of `bench/share/run` (which does the statistics and the docs): boots
//! the Berth guest image with one shared folder (virtiofs) and times file work in the VM on
//! the share and on the VM's own disk (/var/lib/berth, ext4 on virtio-blk), printing one JSON
//! line per operation.
//!
//! Each operation is one exec in the VM, timed on the host around it; `noop` (an exec of
//! `true`) is the exec's own cost, which the script subtracts. Caches: the guest's page,
//! dentry and inode caches are dropped before each read-side operation; the host's are not
//! (both the share's files and the disk image are in the host's page cache alike).
//!
//! Usage: share_bench IMAGE_DIR TARBALL ROUNDS

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_host::backend::qemu::{QemuBackend, QemuOptions};
use berth_host::backend::{Share, VmConfig};
use berth_host::vm::{Timeouts, Vm};
use berth_protocol::ExecRequest;

const DROP: &str = "sync; echo 3 > /proc/sys/vm/drop_caches";
const MIB: u64 = 256;

struct Bench {
    runtime: tokio::runtime::Runtime,
    vm: Vm,
}

impl Bench {
    /// Runs `script` with sh in the VM: (elapsed ms, stdout); a non-zero exit is an error.
    fn sh(&self, script: &str) -> anyhow::Result<(f64, String)> {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let started = Instant::now();
        let status = self.runtime.block_on(async {
            let agent = self.vm.agent()?;
            let io = berth_host::agent::ExecIo {
                stdin: Box::new(&b""[..]),
                stdout: Box::new(&mut stdout),
                stderr: Box::new(&mut stderr),
                resize: None,
                signals: None,
            };
            let request = ExecRequest {
                command: vec!["/bin/sh".into(), "-c".into(), script.into()],
                env: vec![],
                cwd: None,
                tty: None,
            };
            anyhow::Ok(agent.exec(request, io).await?)
        })?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.code != 0 {
            anyhow::bail!(
                "{script}: exit {}: {}",
                status.code,
                String::from_utf8_lossy(&stderr)
            );
        }
        Ok((ms, String::from_utf8_lossy(&stdout).trim().to_string()))
    }

    /// Times `script` and prints it as `op` on `target`, with its output as `out`.
    fn op(&self, target: &str, op: &str, script: &str) -> anyhow::Result<()> {
        let (ms, out) = self.sh(script)?;
        println!(
            "{}",
            serde_json::json!({ "kind": "op", "target": target, "op": op, "ms": ms, "out": out })
        );
        Ok(())
    }

    /// One round of every operation in `dir`.
    fn round(&self, target: &str, dir: &str, tarball: &str) -> anyhow::Result<()> {
        let b = format!("'{dir}/berth-bench'");
        self.sh(&format!("rm -rf {b} && mkdir -p {b}/tree && {DROP}"))?;
        self.op(
            target,
            "write",
            &format!("dd if=/dev/zero of={b}/big bs=1M count={MIB} conv=fsync 2>/dev/null && stat -c %s {b}/big"),
        )?;
        self.sh(DROP)?;
        self.op(
            target,
            "read",
            &format!("dd if={b}/big of=/dev/null bs=1M 2>&1 | grep 'records out'"),
        )?;
        self.op(
            target,
            "untar",
            &format!("tar -xf {tarball} -C {b}/tree && sync"),
        )?;
        self.sh(DROP)?;
        self.op(target, "find", &format!("find {b}/tree | wc -l"))?;
        self.sh(DROP)?;
        self.op(
            target,
            "stat",
            &format!("find {b}/tree -type f -exec stat -c %s {{}} + | wc -l"),
        )?;
        self.sh(&format!("rm -rf {b}"))?;
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let image = PathBuf::from(args.next().unwrap_or_else(|| "target/vm-image".into()));
    let tarball = PathBuf::from(
        args.next()
            .expect("usage: share_bench IMAGE TARBALL ROUNDS"),
    );
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let work = tempfile::tempdir()?;
    let share = work.path().join("share");
    std::fs::create_dir_all(&share)?;
    std::fs::copy(&tarball, share.join("src.tar"))?;
    let config = VmConfig {
        kernel: image.join("vmlinuz"),
        initrd: image.join("initramfs.cpio"),
        cmdline: String::new(),
        cpus: 2,
        memory_mib: 1024,
        disk: work.path().join("data.img"),
        disk_size_bytes: 8 << 30,
        state_dir: work.path().join("run"),
        shares: vec![Share {
            tag: "bench".into(),
            host_path: share.clone(),
            read_only: false,
        }],
    };
    let backend = Arc::new(QemuBackend::new(&config.state_dir, QemuOptions::from_env()));
    let vm = Vm::new(backend.clone(), config).with_timeouts(Timeouts {
        ready: Duration::from_secs(120),
        ..Timeouts::default()
    });
    let bench = Bench {
        runtime: tokio::runtime::Runtime::new()?,
        vm,
    };
    bench.runtime.block_on(bench.vm.start(|_| {}))?;
    // The shares are mounted after hello, before the engine starts: wait for the engine.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let health = bench
            .runtime
            .block_on(async { anyhow::Ok(bench.vm.agent()?.health().await?) })?;
        if matches!(health.engine, berth_protocol::EngineState::Running { .. }) {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the engine never came up: {health:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let result = (|| {
        use berth_host::backend::Backend;
        println!(
            "{}",
            serde_json::json!({ "kind": "backend", "name": backend.name() })
        );
        let share = share.to_string_lossy().into_owned();
        // The tarball on the VM's disk, so unpacking it reads the same source for both.
        let tarball = "/var/lib/berth/share-bench-src.tar";
        bench.sh(&format!("cp '{share}/src.tar' {tarball}"))?;
        let (_, files) = bench.sh(&format!("tar -tf {tarball} | wc -l"))?;
        println!(
            "{}",
            serde_json::json!({ "kind": "tarball", "entries": files.parse::<u64>()? })
        );
        // Warm-up, not reported (and not printed: `op` lines of it are skipped).
        for dir in [share.as_str(), "/var/lib/berth"] {
            bench.round("warm-up", dir, tarball)?;
        }
        for round in 0..rounds {
            let (ms, _) = bench.sh("true")?;
            println!("{}", serde_json::json!({ "kind": "noop", "ms": ms }));
            // Alternate which goes first so drift lands on both.
            let order = if round % 2 == 0 {
                [("share", share.as_str()), ("disk", "/var/lib/berth")]
            } else {
                [("disk", "/var/lib/berth"), ("share", share.as_str())]
            };
            for (target, dir) in order {
                bench.round(target, dir, tarball)?;
            }
        }
        anyhow::Ok(())
    })();
    let stopped = bench.runtime.block_on(bench.vm.stop());
    result?;
    stopped?;
    Ok(())
}
