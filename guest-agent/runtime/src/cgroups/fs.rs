//! File operations shared by the v1 and v2 backends: writing planned values, listing and
//! killing member processes, removing a cgroup subtree.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::CgroupError;

/// How long destroy waits for killed processes to leave and for directories to go.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long freeze and thaw wait for the kernel to settle.
pub(crate) const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// One value for one cgroup file, tagged with the OCI limit it implements so an error can
/// name what the user asked for rather than only a kernel file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Write {
    /// The controller owning the file (selects the v1 hierarchy).
    pub controller: &'static str,
    pub file: String,
    pub value: String,
    /// The spec field, e.g. `memory.limit`.
    pub limit: String,
}

impl Write {
    pub fn new(
        controller: &'static str,
        file: &str,
        value: impl Into<String>,
        limit: &str,
    ) -> Self {
        Write {
            controller,
            file: file.to_owned(),
            value: value.into(),
            limit: limit.to_owned(),
        }
    }
}

/// A planned change to a cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Must be written.
    Set(Write),
    /// Written only when the file exists: an optional kernel refinement of a limit.
    IfPresent(Write),
    /// The first alternative whose file exists: one limit, several kernel interfaces.
    FirstPresent(Vec<Write>),
    /// Two values the kernel checks against each other (v1 memory and memory+swap): if
    /// the first is refused, write the second first.
    EitherOrder(Write, Write),
}

/// Runs `steps`; `dir_for` names the directory holding a write's file.
pub(crate) fn execute(
    steps: &[Step],
    dir_for: impl Fn(&Write) -> Result<PathBuf, CgroupError>,
) -> Result<(), CgroupError> {
    let put = |w: &Write| write_value(&dir_for(w)?, w);
    for step in steps {
        match step {
            Step::Set(w) => put(w)?,
            Step::IfPresent(w) => {
                if dir_for(w)?.join(&w.file).exists() {
                    put(w)?;
                }
            }
            Step::FirstPresent(ws) => {
                let chosen = ws
                    .iter()
                    .find(|w| dir_for(w).is_ok_and(|d| d.join(&w.file).exists()));
                // With no interface present, the first one names the missing file.
                if let Some(w) = chosen.or(ws.first()) {
                    put(w)?;
                }
            }
            Step::EitherOrder(a, b) => {
                if put(a).is_err() {
                    put(b)?;
                    put(a)?;
                } else {
                    put(b)?;
                }
            }
        }
    }
    Ok(())
}

fn write_value(dir: &Path, w: &Write) -> Result<(), CgroupError> {
    let file = dir.join(&w.file);
    write_file(&file, &w.value).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            CgroupError::FileMissing {
                what: w.limit.clone(),
                file,
            }
        } else {
            CgroupError::Write {
                what: w.limit.clone(),
                value: w.value.clone(),
                file,
                source,
            }
        }
    })
}

/// One write(2) of `value` to an existing cgroup file (never creates it: a missing file
/// means a missing controller, which must surface).
pub(crate) fn write_file(file: &Path, value: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).truncate(true).open(file)?;
    f.write_all(value.as_bytes())
}

pub(crate) fn read_file(file: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(file).map_err(|source| CgroupError::Read {
        file: file.to_path_buf(),
        source,
    })
}

/// Pids in `dir` and every cgroup below it; a missing directory has none.
pub(crate) fn pids_in_tree(dir: &Path, out: &mut Vec<i32>) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    let text = match fs::read_to_string(&procs) {
        Ok(text) => text,
        // Gone (or removed while walking): nothing lives there.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(CgroupError::Read {
                file: procs,
                source,
            })
        }
    };
    out.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    for child in child_dirs(dir)? {
        pids_in_tree(&child, out)?;
    }
    Ok(())
}

fn child_dirs(dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            let file = dir.to_path_buf();
            return Err(CgroupError::Read { file, source });
        }
    };
    let dirs = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    Ok(dirs)
}

/// SIGKILL each pid; one that already exited is fine.
pub(crate) fn kill_all(pids: &[i32]) -> Result<(), CgroupError> {
    for &pid in pids {
        match kill(Pid::from_raw(pid), Signal::SIGKILL) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(source) => return Err(CgroupError::Kill { pid, source }),
        }
    }
    Ok(())
}

/// Calls `done` every poll interval until it returns true or `timeout` passes.
pub(crate) fn poll_until(
    timeout: Duration,
    mut done: impl FnMut() -> Result<bool, CgroupError>,
) -> Result<bool, CgroupError> {
    let deadline = Instant::now() + timeout;
    loop {
        if done()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// rmdir `dir` and every cgroup below it, children first. The kernel may report a cgroup
/// busy for a moment after its last process exits, so EBUSY is retried until the timeout.
pub(crate) fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    for child in child_dirs(dir)? {
        remove_tree(&child)?;
    }
    let mut last_error = None;
    let removed = poll_until(DRAIN_TIMEOUT, || match fs::remove_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
            last_error = Some(e);
            Ok(false)
        }
        Err(source) => Err(CgroupError::Remove {
            path: dir.to_path_buf(),
            source,
        }),
    })?;
    match (removed, last_error) {
        (false, Some(source)) => Err(CgroupError::Remove {
            path: dir.to_path_buf(),
            source,
        }),
        _ => Ok(()),
    }
}

/// mkdir that accepts an existing directory; returns whether it was created now.
pub(crate) fn make_dir(dir: &Path) -> Result<bool, CgroupError> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(CgroupError::Mkdir {
            path: dir.to_path_buf(),
            source,
        }),
    }
}
