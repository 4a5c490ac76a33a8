//! Running a command with a deadline and capturing what it printed.
//!
//! stdout and stderr go to files, not pipes: after `create` the container keeps
//! the runtime's stdio open, so waiting for a pipe's EOF would block until the
//! container exits. A file can be read whenever the test wants.

use std::fmt;
use std::fs::{self, File};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single runtime invocation may take before the test fails.
/// Generous: the CI machine has two cores shared by parallel tests.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished (or timed-out) command did.
#[derive(Debug)]
pub struct Output {
    /// The command line, for failure messages.
    pub command: String,
    /// Exit code, if it exited normally.
    pub code: Option<i32>,
    /// Signal that ended it, if any.
    pub signal: Option<i32>,
    /// The deadline passed and the command was killed.
    pub timed_out: bool,
    /// stdout as captured when the command finished.
    pub stdout: String,
    /// stderr as captured when the command finished.
    pub stderr: String,
    stdout_path: PathBuf,
}

impl Output {
    /// Exited with status 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with the full output unless the command exited with 0.
    #[track_caller]
    pub fn expect_ok(self) -> Output {
        assert!(self.ok(), "expected success:\n{self}");
        self
    }

    /// Panics unless the command failed on its own (non-zero exit, no timeout).
    #[track_caller]
    pub fn expect_failure(self) -> Output {
        assert!(
            !self.timed_out && self.code.is_some_and(|c| c != 0),
            "expected a non-zero exit:\n{self}"
        );
        self
    }

    /// stdout re-read now: output a detached container wrote after the runtime exited.
    pub fn stdout_now(&self) -> String {
        fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// stdout and stderr together, for checks that do not care which stream.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  command: {}", self.command)?;
        match (self.timed_out, self.code, self.signal) {
            (true, _, _) => writeln!(f, "  status: timed out after {COMMAND_TIMEOUT:?}")?,
            (_, Some(code), _) => writeln!(f, "  status: exit {code}")?,
            (_, _, sig) => writeln!(f, "  status: killed by signal {sig:?}")?,
        }
        writeln!(f, "  stdout: {}", indent(&self.stdout))?;
        write!(f, "  stderr: {}", indent(&self.stderr))
    }
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "<empty>".to_owned();
    }
    text.trim_end().replace('\n', "\n          ")
}

/// Runs `cmd` with stdin from /dev/null and its output
/// captured in files under `scratch`, killing it after `timeout`.
pub fn run(mut cmd: Command, scratch: &Path, timeout: Duration) -> Output {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let stdout_path = scratch.join(format!("cmd-{n}.out"));
    let stderr_path = scratch.join(format!("cmd-{n}.err"));
    let command = describe(&cmd);
    cmd.stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("create stdout file"))
        .stderr(File::create(&stderr_path).expect("create stderr file"));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {command}: {e}"));

    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for command") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // The caller's sandbox force-deletes whatever the runtime left behind.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    Output {
        command,
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        timed_out: status.is_none(),
        stdout: fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: fs::read_to_string(&stderr_path).unwrap_or_default(),
        stdout_path,
    }
}

fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}
