//! Root leak check: create/start/wait/rm cycles must leave the engine process's open
//! descriptors, the mounts and the cgroups as they were. The cycles run in a child process
//! (this test binary, running only `leak_cycles_child`), where no other test opens or
//! closes descriptors meanwhile.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use super::tests_fixture::{mounts_under, sh, Fixture};
use super::{Engine, EngineOptions};
use crate::monitor::Launch;

const DIR_ENV: &str = "BERTH_ENGINE_LEAK_DIR";
const CYCLES: usize = 200;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Cgroup directories (any controller) of the containers `ids`.
fn cgroups_of(ids: &[String]) -> usize {
    let controllers = std::fs::read_dir("/sys/fs/cgroup").unwrap();
    controllers
        .flatten()
        .map(|c| c.path().join("berth"))
        .map(|parent| ids.iter().filter(|id| parent.join(id).exists()).count())
        .sum()
}

fn cycle(engine: &Engine) -> String {
    let record = engine.create(None, sh("echo cycle")).unwrap();
    engine.start(&record.id).unwrap();
    assert_eq!(engine.wait(&record.id).unwrap(), 0);
    engine.remove(&record.id, false, true).unwrap();
    record.id
}

/// Not a test of its own: the child process's work. Run normally it checks that the
/// counters it relies on see something.
#[test]
fn leak_cycles_child() {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        assert!(open_fds() >= 3);
        assert!(mounts_under(Path::new("/")) > 0);
        return;
    };
    let dir = Path::new(&dir);
    let engine = Engine::open(EngineOptions {
        root: dir.join("root"),
        runtime_root: dir.join("runtime"),
        monitor_launch: Launch::InProcess,
        supervise: None,
    })
    .unwrap();
    // One cycle first: whatever is opened once and kept (lazily) is not a leak.
    let mut ids = vec![cycle(&engine)];
    let (fds, mounts) = (open_fds(), mounts_under(dir));
    let begun = Instant::now();
    for _ in 0..CYCLES {
        ids.push(cycle(&engine));
    }
    eprintln!("{CYCLES} cycles in {:?}", begun.elapsed());
    assert_eq!(open_fds(), fds, "descriptors leaked");
    assert_eq!(mounts_under(dir), mounts, "mounts leaked");
    assert_eq!(cgroups_of(&ids), 0, "cgroups leaked");
    let containers = std::fs::read_dir(dir.join("root/containers")).unwrap();
    assert_eq!(containers.count(), 0, "container directories left");
    let runtime = std::fs::read_dir(dir.join("runtime")).map_or(0, |d| d.count());
    assert_eq!(runtime, 0, "runtime state left");
}

#[test]
fn root_create_start_wait_rm_cycles_leak_nothing() {
    let f = Fixture::new();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "engine::tests_root_leaks::leak_cycles_child",
            "--exact",
            "--nocapture",
        ])
        .env(DIR_ENV, f.dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "the cycles failed: {status}");
}
