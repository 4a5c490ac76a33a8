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

mod common;

use std::time::Duration;

use berth_host::backend::Status;
use berth_host::vm::Vm;
use berth_protocol::EngineState;
use common::{wait_until, Guest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn vm_boots_serves_docker_survives_crashes_and_keeps_its_data() {
    let guest = Guest::new(tempfile::tempdir().unwrap(), 8 << 30, Vec::new());

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

    // A two-way stream that a stock vhost-device-vsock 0.3.0 deadlocks: the host keeps
    // writing while its reader pauses, so bytes wait in both directions at once
    // (scripts/vhost-device-vsock/flush-on-writable.patch). Every byte comes back, in order.
    let total = 24 << 20;
    let echoed = guest
        .runtime
        .block_on(two_way_echo(&guest.vm, total))
        .unwrap_or_else(|e| panic!("two-way echo: {e}\n{}", guest.console()));
    assert_eq!(echoed, total);

    // The Docker API over vsock, driven by the real docker CLI: the demo image is there.
    assert!(guest.docker_ok(&["images"]).contains("berth/hello"));
    let out = guest.docker_ok(&["run", "--rm", "berth/hello", "echo", "hello from the VM"]);
    assert_eq!(out, "hello from the VM\n");
    let keeper = guest.docker_ok(&["run", "-d", "--name", "keeper", "berth/hello"]);
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
    let running = guest.docker_ok(&["ps", "-q", "--no-trunc"]);
    assert!(running.contains(&keeper), "{running}");
    assert_eq!(
        guest.docker_ok(&["inspect", "-f", "{{.State.Running}}", "keeper"]),
        "true\n"
    );

    // A clean stop, then a boot that finds everything and formats nothing.
    guest.stop();
    let health = guest.boot();
    assert!(!health.data_disk.unwrap().formatted_this_boot);
    assert_eq!(guest.sh("cat /var/lib/berth/marker"), "kept\n");
    assert!(guest.docker_ok(&["ps", "-a"]).contains("keeper"));

    // QEMU SIGKILLed: fsynced data survives and the disk is not reformatted.
    guest.sh("echo synced > /var/lib/berth/marker2 && sync /var/lib/berth/marker2");
    let Status::Running { pid: Some(qemu) } = guest.status() else {
        panic!("not running")
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(qemu as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("QEMU to be gone", Duration::from_secs(10), || {
        !matches!(guest.status(), Status::Running { .. })
    });
    assert!(matches!(guest.status(), Status::Crashed { .. }));
    let health = guest.boot();
    assert!(!health.data_disk.unwrap().formatted_this_boot);
    assert_eq!(guest.sh("cat /var/lib/berth/marker2"), "synced\n");
    assert_eq!(guest.sh("cat /var/lib/berth/marker"), "kept\n");
    guest.docker_ok(&["rm", "-f", "keeper"]);
    guest.stop();
}

/// Writes `total` bytes (a pattern that shows loss or reordering) through the agent's echo
/// while reading them back, pausing the reader after every MiB; the bytes read back, or
/// why not. A stall is an error after 120 s.
async fn two_way_echo(vm: &Vm, total: usize) -> Result<usize, String> {
    let byte = |i: usize| (i % 251) as u8;
    let stream = vm.agent().map_err(|e| e.to_string())?;
    let stream = stream.echo().await.map_err(|e| e.to_string())?;
    let (mut from_guest, mut to_guest) = tokio::io::split(stream);
    let writer = async {
        let mut sent = 0;
        while sent < total {
            let chunk: Vec<u8> = (sent..total.min(sent + (256 << 10))).map(byte).collect();
            to_guest.write_all(&chunk).await?;
            sent += chunk.len();
        }
        to_guest.shutdown().await
    };
    let reader = async {
        let mut buf = vec![0u8; 64 << 10];
        let mut got = 0;
        loop {
            let n = from_guest.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(got);
            }
            if let Some(bad) = (0..n).find(|&i| buf[i] != byte(got + i)) {
                let at = got + bad;
                return Err(std::io::Error::other(format!("byte {at} came back wrong")));
            }
            if (got + n) >> 20 != got >> 20 {
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            got += n;
        }
    };
    let both = async { tokio::try_join!(writer, reader) };
    match tokio::time::timeout(Duration::from_secs(120), both).await {
        Ok(Ok(((), got))) => Ok(got),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("stalled for 120 s".into()),
    }
}
