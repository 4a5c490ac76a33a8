//! What the engine's root tests share: an engine on a temporary root holding berth/hello,
//! monitors forked in-process, and a lock that runs these tests one at a time (a monitor
//! forked in-process keeps every descriptor open at that moment, among them another
//! test's pipes, which would then wait for that monitor to end).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Engine, EngineOptions};
use crate::container::config::ContainerConfig;
use crate::image::layers::test_images::{hello, store};
use crate::monitor::Launch;

static SERIAL: Mutex<()> = Mutex::new(());

pub(super) struct Fixture {
    pub dir: tempfile::TempDir,
    _serial: MutexGuard<'static, ()>,
}

impl Fixture {
    pub fn new() -> Fixture {
        assert!(
            nix::unistd::geteuid().is_root(),
            "needs root (CI runs as root)"
        );
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        // Short: `<dir>/root/containers/<64 hex>/attach.sock` must fit a socket address
        // (108 bytes), which the default `/tmp/.tmpXXXXXX` just misses.
        let dir = tempfile::Builder::new()
            .prefix("b")
            .tempdir_in("/tmp")
            .unwrap();
        let images = store(dir.path());
        hello(dir.path(), &images);
        Fixture {
            dir,
            _serial: serial,
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn runtime_root(&self) -> PathBuf {
        self.dir.path().join("runtime")
    }

    /// An engine on the fixture's root; `supervise` as in [`EngineOptions`].
    pub fn open(&self, supervise: Option<Duration>) -> Engine {
        Engine::open(EngineOptions {
            root: self.root(),
            runtime_root: self.runtime_root(),
            monitor_launch: Launch::InProcess,
            supervise,
        })
        .unwrap()
    }

    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.root().join("containers").join(id)
    }
}

/// berth/hello running `sh -c script`.
pub(super) fn sh(script: &str) -> ContainerConfig {
    ContainerConfig {
        image: "berth/hello".into(),
        cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
        ..Default::default()
    }
}

/// Mount points at or below `path`.
pub(super) fn mounts_under(path: &Path) -> usize {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let prefix = path.to_str().unwrap();
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|mount_point| mount_point.starts_with(prefix))
        .count()
}

/// Polls `done` until it holds, failing the test after `timeout`.
pub(super) fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not after {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(super) fn alive(pid: i32) -> bool {
    !matches!(
        berth_runtime::state::process_state_char(pid),
        None | Some('Z' | 'X')
    )
}
