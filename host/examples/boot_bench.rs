//! The measuring half of `bench/boot/run` (which does the statistics and the docs): boots
//! the Berth guest image and the floor image alternately through the same QEMU backend and
//! prints one JSON line per boot.
//!
//! - `agent`: from `Vm::start` to the agent's hello over vsock (the data disk already
//!   formatted by a warm-up boot, as on every boot but the first), then the guest's memory
//!   and the agent's RSS from `health` once the engine is up; then a clean stop (not timed).
//! - `floor`: the same kernel with an initramfs whose init powers off at once, from
//!   `Backend::start` to QEMU's exit: what this VMM and accelerator cost before any init.
//!
//! Usage: boot_bench IMAGE_DIR ROUNDS

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_host::backend::qemu::{QemuBackend, QemuOptions};
use berth_host::backend::{Backend, Status, VmConfig};
use berth_host::vm::{Progress, Timeouts, Vm};
use berth_protocol::{EngineState, Health};

fn config(image: &Path, initrd: &str, work: &Path, name: &str) -> VmConfig {
    VmConfig {
        kernel: image.join("vmlinuz"),
        initrd: image.join(initrd),
        cmdline: String::new(),
        cpus: 2,
        memory_mib: 1024,
        disk: work.join(format!("{name}.img")),
        disk_size_bytes: 8 << 30,
        state_dir: work.join(name),
        shares: Vec::new(),
    }
}

fn agent_boot(runtime: &tokio::runtime::Runtime, vm: &Vm) -> anyhow::Result<serde_json::Value> {
    let mut ready = None;
    let hello = runtime.block_on(vm.start(|p| {
        if let Progress::Ready { elapsed, .. } = p {
            ready = Some(elapsed);
        }
    }))?;
    let ready_ms = ready.expect("start reports Ready").as_secs_f64() * 1000.0;
    // Idle figures once the engine runs (the agent is PID 1; the engine is its child).
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        let health = health_of(runtime, vm)?;
        if matches!(health.engine, EngineState::Running { .. }) || Instant::now() > deadline {
            break health;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // Let boot-time work settle before reading the idle memory.
    std::thread::sleep(Duration::from_secs(2));
    let idle = health_of(runtime, vm).unwrap_or(health);
    runtime.block_on(vm.stop())?;
    Ok(serde_json::json!({
        "kind": "agent",
        "ms": ready_ms,
        "guest_uptime_ms": hello.uptime_ms,
        "agent_rss_kib": idle.agent_rss_kib,
        "guest_used_kib": idle.memory_total_kib - idle.memory_available_kib,
        "guest_total_kib": idle.memory_total_kib,
    }))
}

fn health_of(runtime: &tokio::runtime::Runtime, vm: &Vm) -> anyhow::Result<Health> {
    let agent = vm.agent()?;
    Ok(runtime.block_on(agent.health())?)
}

fn floor_boot(backend: &QemuBackend, config: &VmConfig) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    backend.start(config)?;
    let deadline = started + Duration::from_secs(120);
    loop {
        match backend.status() {
            Status::Running { .. } if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Status::Stopped => break,
            other => anyhow::bail!("the floor guest did not power off: {other:?}"),
        }
    }
    Ok(serde_json::json!({ "kind": "floor", "ms": started.elapsed().as_secs_f64() * 1000.0 }))
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let image = PathBuf::from(args.next().unwrap_or_else(|| "target/vm-image".into()));
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(5);
    let work = tempfile::tempdir()?;
    let runtime = tokio::runtime::Runtime::new()?;

    let agent_config = config(&image, "initramfs.cpio", work.path(), "agent");
    let agent_backend = Arc::new(QemuBackend::new(
        &agent_config.state_dir,
        QemuOptions::from_env(),
    ));
    let vm = Vm::new(agent_backend.clone(), agent_config).with_timeouts(Timeouts {
        ready: Duration::from_secs(120),
        ..Timeouts::default()
    });
    let floor_config = config(&image, "floor-initramfs.cpio", work.path(), "floor");
    let floor_backend = QemuBackend::new(&floor_config.state_dir, QemuOptions::from_env());

    // Warm-up, not reported: formats the data disk, loads the demo image, fills the page
    // cache with the kernel and initramfs, and caches the KVM probe's verdict.
    agent_boot(&runtime, &vm)?;
    floor_boot(&floor_backend, &floor_config)?;
    eprintln!("backend: {}", agent_backend.name());
    println!(
        "{}",
        serde_json::json!({ "kind": "backend", "name": agent_backend.name() })
    );
    for round in 0..rounds {
        // Alternate which goes first so drift lands on both.
        let pair = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in pair {
            let sample = if which == 0 {
                agent_boot(&runtime, &vm)
            } else {
                floor_boot(&floor_backend, &floor_config)
            };
            match sample {
                Ok(sample) => println!("{sample}"),
                Err(e) => {
                    let _ = agent_backend.kill();
                    let _ = floor_backend.kill();
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}
