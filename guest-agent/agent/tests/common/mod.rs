//! The harness of berth-agent's root tests: a private engine root (short paths: the
//! monitor's sockets live in the container directory), the berth/hello image loaded, and
//! every container removed when the test ends, pass or fail.
#![allow(dead_code)] // each test binary uses part of it

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub struct Agent {
    dir: Option<tempfile::TempDir>,
    pub root: PathBuf,
    pub runtime_root: PathBuf,
}

impl Agent {
    pub fn new() -> Agent {
        let dir = tempfile::Builder::new()
            .prefix("ba")
            .tempdir_in("/tmp")
            .unwrap();
        let agent = Agent {
            root: dir.path().join("r"),
            runtime_root: dir.path().join("rt"),
            dir: Some(dir),
        };
        agent.ok(&["load", hello_archive().to_str().unwrap()]);
        agent
    }

    pub fn cmd_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_berth-agent"))
            .arg("--root")
            .arg(&self.root)
            .arg("--runtime-root")
            .arg(&self.runtime_root)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn cmd(&self, args: &[&str]) -> Output {
        self.cmd_with_stdin(args, b"")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn fails(&self, args: &[&str], message: &str) {
        let out = self.cmd(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(message),
            "{args:?}: {out:?}"
        );
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let ps = self.cmd(&["ps", "-a"]);
        for line in String::from_utf8_lossy(&ps.stdout).lines().skip(1) {
            if let Some(id) = line.split_whitespace().next() {
                let _ = self.cmd(&["rm", "-f", "-v", id]);
            }
        }
        // The root goes, then the default bridge and rules its engine made on the host.
        drop(self.dir.take());
        berth_engine::network::sweep_stale_roots();
    }
}

/// The demo image, built once per test binary by the project's script.
pub fn hello_archive() -> &'static Path {
    static ARCHIVE: OnceLock<PathBuf> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let out = std::env::temp_dir().join(format!("berth-agent-hello-{}", std::process::id()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../images/hello/build");
        let status = Command::new(script).arg(&out).output().unwrap();
        assert!(status.status.success(), "{status:?}");
        out.join("berth-hello.tar")
    })
}

pub mod daemon;
pub mod registry;
