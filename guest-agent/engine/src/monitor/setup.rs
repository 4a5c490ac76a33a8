//! Everything before the loop: the monitor's files, the container's stdio, and the
//! container itself, created and started by a short-lived child so that the runtime's
//! work (spec parsing, seccomp compilation, mounts) never adds to the monitor's memory.

use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult};

use super::exit::{oom_counter, write_atomic};
use super::{sys, MonitorConfig, MonitorError, ATTACH_SOCKET, CONSOLE_SOCKET, EXIT_FILE, PID_FILE};
use crate::logs::{log_path, Writer};

/// How long a tty container's init may take to send its pty master after `create`.
const CONSOLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A started container and the monitor's ends of its stdio.
#[derive(Debug)]
pub(super) struct Running {
    pub pid: i32,
    /// Readable when the init exits.
    pub pidfd: Option<OwnedFd>,
    /// stdout and stderr read ends; with a tty only `[0]`, the pty master.
    pub outputs: [Option<OwnedFd>; 2],
    /// Where client input goes: the stdin pipe's write end, or the pty master.
    pub stdin: Option<OwnedFd>,
    pub attach: UnixListener,
    pub writer: Writer,
    pub oom_counter: Option<PathBuf>,
}

/// The container's side of its stdio, put on fds 0-2 of the creating child.
struct ChildStdio {
    fds: [OwnedFd; 3],
}

pub(super) fn start(cfg: &MonitorConfig) -> Result<Running, MonitorError> {
    nix::sys::prctl::set_child_subreaper(true).map_err(MonitorError::nix("become a subreaper"))?;
    let dir = &cfg.container_dir;
    fs::create_dir_all(dir).map_err(MonitorError::sys(format!("create {}", dir.display())))?;
    write_atomic(
        &dir.join(PID_FILE),
        std::process::id().to_string().as_bytes(),
    )?;
    // A restarted container must not look exited because of its previous run.
    let _ = fs::remove_file(dir.join(EXIT_FILE));
    let writer = Writer::open(&log_path(dir, &cfg.id), cfg.log)?;
    // Sockets are bound by name inside the container's directory: an absolute path may be
    // longer than the 108 bytes a Unix socket address holds.
    std::env::set_current_dir(dir)
        .map_err(MonitorError::sys(format!("enter {}", dir.display())))?;
    let attach = listen(std::path::Path::new(ATTACH_SOCKET))?;
    let (child, ours) = make_stdio(cfg)?;
    let created = create_in_child(cfg, child);
    if created.is_err() && cfg.tty {
        let _ = fs::remove_file(dir.join(CONSOLE_SOCKET));
    }
    // A failed create has cleaned up after itself (and an existing container with this
    // id is not ours to touch); past it, the container is ours to remove on failure.
    let pid = created?;
    let Stdio { outputs, stdin, .. } = ours.finish(cfg).inspect_err(|_| {
        let _ = fs::remove_file(dir.join(CONSOLE_SOCKET));
        // A container nobody watches must not keep running.
        if let Ok(container) = berth_runtime::Container::load(&cfg.runtime_root, &cfg.id) {
            let _ = container.delete(true);
        }
    })?;
    Ok(Running {
        pid,
        pidfd: sys::pidfd_open(pid),
        outputs,
        stdin,
        attach,
        writer,
        oom_counter: oom_counter(pid),
    })
}

/// The monitor's side of the container's stdio.
struct Stdio {
    outputs: [Option<OwnedFd>; 2],
    stdin: Option<OwnedFd>,
    /// With a tty: where the pty master will arrive.
    console: Option<UnixListener>,
}

fn make_stdio(cfg: &MonitorConfig) -> Result<(ChildStdio, Stdio), MonitorError> {
    let null = || sys::dev_null().map_err(MonitorError::sys("open /dev/null"));
    let pipe = || sys::pipe().map_err(MonitorError::sys("create a pipe"));
    if cfg.tty {
        let console = listen(std::path::Path::new(CONSOLE_SOCKET))?;
        let child = ChildStdio {
            fds: [null()?, null()?, null()?],
        };
        let ours = Stdio {
            outputs: [None, None],
            stdin: None,
            console: Some(console),
        };
        return Ok((child, ours));
    }
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin_r, stdin_w) = match cfg.stdin {
        true => {
            let (r, w) = pipe()?;
            (r, Some(w))
        }
        false => (null()?, None),
    };
    let child = ChildStdio {
        fds: [stdin_r, out_w, err_w],
    };
    let ours = Stdio {
        outputs: [Some(out_r), Some(err_r)],
        stdin: stdin_w,
        console: None,
    };
    Ok((child, ours))
}

impl Stdio {
    /// Once the container exists: the pty master if there is one; everything non-blocking.
    fn finish(mut self, cfg: &MonitorConfig) -> Result<Stdio, MonitorError> {
        if let Some(console) = self.console.take() {
            let master = receive_console(&console)?;
            let _ = fs::remove_file(cfg.container_dir.join(CONSOLE_SOCKET));
            let input = master
                .try_clone()
                .map_err(MonitorError::sys("dup the pty"))?;
            self.stdin = Some(input);
            self.outputs[0] = Some(master);
        }
        for fd in self.outputs.iter().flatten().chain(self.stdin.iter()) {
            sys::set_nonblocking(fd).map_err(MonitorError::sys("make stdio non-blocking"))?;
        }
        Ok(self)
    }
}

fn listen(path: &std::path::Path) -> Result<UnixListener, MonitorError> {
    let _ = fs::remove_file(path);
    let listener = UnixListener::bind(path)
        .map_err(MonitorError::sys(format!("listen on {}", path.display())))?;
    listener
        .set_nonblocking(true)
        .map_err(MonitorError::sys("make a socket non-blocking"))?;
    Ok(listener)
}

/// Forks the child that creates and starts the container; returns the container's pid.
/// The child's stdio ends are closed here once it has them, so the monitor sees EOF when
/// the container's last process closes its output.
fn create_in_child(cfg: &MonitorConfig, stdio: ChildStdio) -> Result<i32, MonitorError> {
    let (report_r, report_w) = sys::pipe().map_err(MonitorError::sys("create a pipe"))?;
    // SAFETY: the monitor is single-threaded, so the child may run ordinary Rust code.
    match unsafe { fork() }.map_err(MonitorError::nix("fork"))? {
        ForkResult::Child => {
            drop(report_r);
            let result = create_and_start(cfg, &stdio);
            let mut report = fs::File::from(report_w);
            let code = match result {
                Ok(pid) => report.write_all(format!("{pid}").as_bytes()).map(|_| 0),
                Err(text) => report
                    .write_all(format!("error {text}").as_bytes())
                    .map(|_| 1),
            };
            sys::exit(code.unwrap_or(1))
        }
        ForkResult::Parent { child } => {
            drop((report_w, stdio));
            let mut text = String::new();
            let read = fs::File::from(report_r).read_to_string(&mut text);
            let _ = waitpid(child, None);
            read.map_err(MonitorError::sys("read the create report"))?;
            let failed = |reason: String| MonitorError::Start {
                id: cfg.id.clone(),
                reason,
            };
            match text.strip_prefix("error ") {
                Some(reason) => Err(failed(reason.to_owned())),
                None => text
                    .parse()
                    .map_err(|_| failed("the creating process died".to_owned())),
            }
        }
    }
}

/// In the child: stdio in place, then the runtime's create and start.
fn create_and_start(cfg: &MonitorConfig, stdio: &ChildStdio) -> Result<i32, String> {
    sys::default_sigpipe();
    for (target, fd) in stdio.fds.iter().enumerate() {
        sys::dup_onto(fd.as_raw_fd(), target as i32).map_err(|e| format!("stdio: {e}"))?;
    }
    // Relative: the runtime connects from this directory (see `start`).
    let console = cfg.tty.then(|| std::path::PathBuf::from(CONSOLE_SOCKET));
    let mut container = berth_runtime::ContainerBuilder::new(&cfg.id, &cfg.runtime_root)
        .bundle(&cfg.bundle)
        .console_socket(console)
        .create()
        .map_err(|e| super::chain(&e))?;
    container.start().map_err(|e| {
        let _ = container.clone().delete(true);
        super::chain(&e)
    })?;
    Ok(container.state.pid)
}

/// The runtime connected to `console.sock` during create; the init has sent the master.
fn receive_console(listener: &UnixListener) -> Result<OwnedFd, MonitorError> {
    let mut fds = [libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let ready = sys::poll(&mut fds, CONSOLE_TIMEOUT.as_millis() as i32)
        .map_err(MonitorError::sys("wait for the console"))?;
    if ready == 0 {
        return Err(MonitorError::Sys {
            what: "receive the container's terminal".into(),
            source: std::io::ErrorKind::TimedOut.into(),
        });
    }
    let (conn, _) = listener
        .accept()
        .map_err(MonitorError::sys("accept the console connection"))?;
    conn.set_nonblocking(false)
        .map_err(MonitorError::sys("receive the container's terminal"))?;
    sys::recv_fd(conn.as_raw_fd()).map_err(MonitorError::sys("receive the container's terminal"))
}
