//! Starting a monitor from the engine (double fork into its own session) and the monitor's
//! entry points. The engine learns whether the container started from a one-line JSON
//! report on a pipe, so a failed create is an error of the engine's call, with the runtime's
//! whole message.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::sys::wait::waitpid;
use nix::unistd::{fork, setsid, ForkResult};
use serde::{Deserialize, Serialize};

use super::event_loop::Loop;
use super::exit::{oom_killed, ExitRecord};
use super::{setup, sys, MonitorConfig, MonitorError, ATTACH_SOCKET, PID_FILE};

/// `berth-agent monitor` finds its configuration (JSON) here...
pub const CONFIG_ENV: &str = "BERTH_MONITOR_CONFIG";
/// ...and the number of the descriptor to report on.
pub const READY_FD_ENV: &str = "BERTH_MONITOR_READY_FD";

/// How the detached process becomes the monitor.
#[derive(Debug, Clone)]
pub enum Launch {
    /// Run [`run`] in the forked process itself.
    InProcess,
    /// Exec `program args...` (the agent's `monitor` subcommand), which must call
    /// [`run_from_env`]. A fresh image keeps the monitor's memory to what it uses.
    Exec {
        program: PathBuf,
        args: Vec<OsString>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub monitor_pid: i32,
    pub container_pid: i32,
}

#[derive(Serialize, Deserialize)]
struct Report {
    #[serde(default)]
    monitor_pid: i32,
    #[serde(default)]
    container_pid: i32,
    #[serde(default)]
    error: Option<String>,
}

/// Starts a monitor for `cfg` and returns once the container runs (or failed to start).
/// The monitor is not our child: it does not die with us and we never reap it.
pub fn spawn(cfg: &MonitorConfig, launch: &Launch) -> Result<Started, MonitorError> {
    let (report_r, report_w) = sys::pipe().map_err(MonitorError::sys("create a pipe"))?;
    // Everything exec needs is prepared before forking, so the child does not allocate.
    let exec = match launch {
        Launch::InProcess => None,
        Launch::Exec { program, args } => Some(ExecArgs::new(cfg, program, args, &report_w)?),
    };
    // SAFETY: the child only detaches and then execs, or becomes the monitor, which is
    // written to run as a fresh single-threaded process.
    match unsafe { fork() }.map_err(MonitorError::nix("fork the monitor"))? {
        ForkResult::Child => {
            drop(report_r);
            let _ = setsid();
            // SAFETY: as above; the intermediate process exits at once.
            if let Ok(ForkResult::Child) = unsafe { fork() } {
                detach_stdio();
                match exec {
                    Some(exec) => exec.exec(report_w),
                    None => run(cfg.clone(), Some(report_w)),
                }
            }
            sys::exit(0)
        }
        ForkResult::Parent { child } => {
            drop(report_w);
            let _ = waitpid(child, None);
            let mut text = Vec::new();
            File::from(report_r)
                .read_to_end(&mut text)
                .map_err(MonitorError::sys("read the monitor's report"))?;
            let report: Report =
                serde_json::from_slice(&text).map_err(|_| MonitorError::NoReport)?;
            match report.error {
                Some(error) => Err(MonitorError::Reported(error)),
                None => Ok(Started {
                    monitor_pid: report.monitor_pid,
                    container_pid: report.container_pid,
                }),
            }
        }
    }
}

/// The monitor's entry point in a process that is already detached (own session, fds 0-2
/// open, normally on /dev/null): never returns. `report` receives one JSON object once the
/// container runs or failed to start.
pub fn run(cfg: MonitorConfig, report: Option<OwnedFd>) -> ! {
    sys::reset_signals();
    sys::close_inherited(report.as_ref().map(|fd| fd.as_raw_fd()));
    let running = match setup::start(&cfg) {
        Ok(running) => running,
        Err(e) => {
            // Gone before the engine hears of the failure: no monitor runs for this container.
            let _ = std::fs::remove_file(cfg.container_dir.join(ATTACH_SOCKET));
            let _ = std::fs::remove_file(cfg.container_dir.join(PID_FILE));
            send_report(report, None, Some(super::chain(&e)));
            sys::exit(1)
        }
    };
    let oom_counter = running.oom_counter.clone();
    send_report(report, Some(running.pid), None);
    let mut event_loop = Loop::new(running, cfg.tty, cfg.stdin_once);
    sys::release_startup_pages();
    let ended = event_loop.run();
    let mut record = ExitRecord::new(ended.code, ended.signal, ended.at);
    record.oom_killed = oom_killed(oom_counter.as_deref());
    record.error = event_loop.log_error.take();
    // The runtime container goes first: once exit.json exists the engine may start the
    // same id again.
    let deleted = berth_runtime::Container::load(&cfg.runtime_root, &cfg.id)
        .and_then(|container| container.delete(true));
    if let Err(e) = deleted {
        record.error.get_or_insert_with(|| super::chain(&e));
    }
    let _ = std::fs::remove_file(cfg.container_dir.join(ATTACH_SOCKET));
    drop(event_loop);
    let saved = record.save(&cfg.container_dir);
    sys::exit(if saved.is_ok() { 0 } else { 1 })
}

/// For `berth-agent monitor`: the configuration and report fd from the environment
/// ([`CONFIG_ENV`], [`READY_FD_ENV`]) that [`Launch::Exec`] set.
pub fn run_from_env() -> ! {
    let fd: Option<RawFd> = std::env::var(READY_FD_ENV)
        .ok()
        .and_then(|v| v.parse().ok());
    // SAFETY: the launcher passed this descriptor to us for exactly this use; fcntl first
    // checks that it is open.
    let report = fd
        .filter(|fd| sys::set_cloexec(*fd, true).is_ok())
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
    let text = std::env::var(super::spawn::CONFIG_ENV).unwrap_or_default();
    match serde_json::from_str::<MonitorConfig>(&text) {
        Ok(cfg) => run(cfg, report),
        Err(e) => {
            send_report(report, None, Some(super::chain(&MonitorError::Config(e))));
            sys::exit(2)
        }
    }
}

fn send_report(fd: Option<OwnedFd>, container_pid: Option<i32>, error: Option<String>) {
    let Some(fd) = fd else { return };
    let report = Report {
        monitor_pid: std::process::id() as i32,
        container_pid: container_pid.unwrap_or(0),
        error,
    };
    if let Ok(json) = serde_json::to_vec(&report) {
        let _ = File::from(fd).write_all(&json);
    }
}

/// The monitor must not hold the engine's stdio (a terminal, a pipe someone waits on):
/// /dev/null on 0-2.
fn detach_stdio() {
    if let Ok(null) = sys::dev_null() {
        for target in 0..=2 {
            let _ = sys::dup_onto(null.as_raw_fd(), target);
        }
    }
}

/// An execve prepared in the parent, down to the pointer arrays, so the forked child of a
/// multi-threaded engine does not allocate.
struct ExecArgs {
    program: CString,
    // Own the strings the pointers below point into (a CString's bytes never move).
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

impl ExecArgs {
    fn new(
        cfg: &MonitorConfig,
        program: &std::path::Path,
        args: &[OsString],
        report: &OwnedFd,
    ) -> Result<ExecArgs, MonitorError> {
        let cstr = |bytes: &[u8]| {
            CString::new(bytes).map_err(|_| MonitorError::Sys {
                what: "pass an argument with a NUL byte to the monitor".into(),
                source: std::io::ErrorKind::InvalidInput.into(),
            })
        };
        let json = serde_json::to_string(cfg).map_err(MonitorError::Config)?;
        let mut env_strings = Vec::new();
        for (key, value) in std::env::vars_os() {
            if key != CONFIG_ENV && key != READY_FD_ENV {
                let mut pair = key;
                pair.push("=");
                pair.push(value);
                env_strings.push(cstr(pair.as_bytes())?);
            }
        }
        env_strings.push(cstr(format!("{CONFIG_ENV}={json}").as_bytes())?);
        env_strings.push(cstr(
            format!("{READY_FD_ENV}={}", report.as_raw_fd()).as_bytes(),
        )?);
        let mut argv_strings = vec![cstr(program.as_os_str().as_bytes())?];
        for arg in args {
            argv_strings.push(cstr(arg.as_bytes())?);
        }
        let pointers = |strings: &[CString]| {
            let mut list: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
            list.push(std::ptr::null());
            list
        };
        let (argv, envp) = (pointers(&argv_strings), pointers(&env_strings));
        argv_strings.extend(env_strings);
        Ok(ExecArgs {
            program: cstr(program.as_os_str().as_bytes())?,
            _strings: argv_strings,
            argv,
            envp,
        })
    }

    /// In the detached child: keep `report` open across exec, exec, or report why not.
    fn exec(self, report: OwnedFd) -> ! {
        let _ = sys::set_cloexec(report.as_raw_fd(), false);
        // SAFETY: both arrays are NULL-terminated lists of pointers to NUL-terminated strings
        // that `self` owns and keeps alive across the call.
        unsafe {
            libc::execve(
                self.program.as_ptr(),
                self.argv.as_ptr(),
                self.envp.as_ptr(),
            )
        };
        let err = std::io::Error::last_os_error();
        let text = format!("Cannot exec the monitor {:?}: {err}", self.program);
        send_report(Some(report), None, Some(text));
        sys::exit(127)
    }
}
