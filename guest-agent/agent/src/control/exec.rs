//! `exec`: a command in the VM (not in a container), its stdio carried as frames.
//!
//! Without a TTY, stdout and stderr are separate pipes; with one, both are the terminal.
//! Three activities run side by side so none can block another: the host's frames (stdin,
//! resize, signals) are handled by a task of their own, and this one reads the command's
//! output and its exit. The exit frame goes last, after the output has drained (a command's
//! background children may keep the output open: after [`DRAIN`] it is cut).

use std::io;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use berth_protocol::frame::{self, Kind};
use berth_protocol::{ExecRequest, Response, TtySize};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::unix::pipe;

use super::pty::{self, Master};
use super::{reply, Conn, Context, Stream};
use crate::init::reaper::exit_status;

/// How long output may go on after the command exited.
const DRAIN: Duration = Duration::from_secs(2);
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

enum Output {
    Pipe(pipe::Receiver),
    Pty(Arc<Master>),
}

impl Output {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Output::Pipe(r) => r.read(buf).await,
            Output::Pty(m) => pty::read(m, buf).await,
        }
    }
}

enum Input {
    Pipe(Option<pipe::Sender>),
    Pty(Arc<Master>),
}

impl Input {
    async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Input::Pipe(Some(w)) => w.write_all(data).await,
            Input::Pipe(None) => Ok(()),
            Input::Pty(m) => pty::write(m, data).await,
        }
    }

    /// The end of the host's stdin: the pipe closes; a terminal gets its EOF character
    /// (closing the master would hang the terminal up).
    async fn close(&mut self) {
        match self {
            Input::Pipe(w) => drop(w.take()),
            Input::Pty(m) => drop(pty::write(m, &[4]).await),
        }
    }
}

struct Session {
    pid: Pid,
    exited: tokio::sync::oneshot::Receiver<nix::sys::wait::WaitStatus>,
    input: Input,
    stdout: Output,
    stderr: Option<Output>,
    master: Option<Arc<Master>>,
}

pub async fn run<S: Stream>(
    mut conn: Conn<S>,
    request: ExecRequest,
    ctx: &Context,
) -> io::Result<()> {
    let session = match spawn(&request, ctx) {
        Ok(session) => session,
        Err(message) => return reply(&mut conn, &Response::Error { message }).await,
    };
    reply(&mut conn, &Response::Ok).await?;
    pump(conn, session).await
}

fn spawn(request: &ExecRequest, ctx: &Context) -> Result<Session, String> {
    let Some(program) = request.command.first() else {
        return Err("exec needs a command".into());
    };
    let mut command = Command::new(program);
    command
        .args(&request.command[1..])
        .env_clear()
        .envs(environment(&request.env, request.tty.is_some()))
        .current_dir(request.cwd.as_deref().unwrap_or("/"));
    let started = match request.tty {
        Some(size) => with_pty(command, size, ctx),
        None => with_pipes(command, ctx),
    };
    started.map_err(|e| format!("Cannot run {program}: {e}"))
}

fn with_pipes(mut command: Command, ctx: &Context) -> io::Result<Session> {
    let pair = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(io::Error::from);
    let (in_r, in_w) = pair()?;
    let (out_r, out_w) = pair()?;
    let (err_r, err_w) = pair()?;
    command
        .stdin(Stdio::from(in_r))
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w));
    // SAFETY: setsid(2) is async-signal-safe. A session (and group) of its own lets the
    // agent kill the command's whole tree if the host goes away.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            nix::unistd::setsid().map(drop).map_err(io::Error::from)
        });
    }
    let (pid, exited) = ctx.children.spawn(&mut command)?;
    // Our copies of the child's ends close here, so EOF arrives when the child's do.
    drop(command);
    let receiver = |fd: OwnedFd| pipe::Receiver::from_owned_fd(fd);
    Ok(Session {
        pid: Pid::from_raw(pid as i32),
        exited,
        input: Input::Pipe(Some(pipe::Sender::from_owned_fd(in_w)?)),
        stdout: Output::Pipe(receiver(out_r)?),
        stderr: Some(Output::Pipe(receiver(err_r)?)),
        master: None,
    })
}

fn with_pty(mut command: Command, size: TtySize, ctx: &Context) -> io::Result<Session> {
    let master = Arc::new(pty::attach(&mut command, size)?);
    let (pid, exited) = ctx.children.spawn(&mut command)?;
    drop(command);
    Ok(Session {
        pid: Pid::from_raw(pid as i32),
        exited,
        input: Input::Pty(master.clone()),
        stdout: Output::Pty(master.clone()),
        stderr: None,
        master: Some(master),
    })
}

/// A minimal environment, then the request's `KEY=value` pairs (which win).
fn environment(extra: &[String], tty: bool) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), DEFAULT_PATH.into()),
        ("HOME".into(), "/root".into()),
    ];
    if tty {
        env.push(("TERM".into(), "xterm-256color".into()));
    }
    for pair in extra {
        if let Some((key, value)) = pair.split_once('=') {
            env.retain(|(k, _)| k != key);
            env.push((key.into(), value.into()));
        }
    }
    env
}

async fn pump<S: Stream>(conn: Conn<S>, session: Session) -> io::Result<()> {
    let Session {
        pid,
        mut exited,
        input,
        mut stdout,
        mut stderr,
        master,
    } = session;
    let (reader, mut writer) = tokio::io::split(conn);
    let frames = tokio::spawn(host_frames(reader, input, pid, master));
    let (mut out_open, mut err_open) = (true, stderr.is_some());
    let (mut out_buf, mut err_buf) = (vec![0u8; 32 * 1024], vec![0u8; 32 * 1024]);
    let mut status = None;
    let drain = tokio::time::sleep(Duration::from_secs(86400 * 365));
    tokio::pin!(drain);
    let result: io::Result<()> = loop {
        if status.is_some() && !out_open && !err_open {
            break Ok(());
        }
        tokio::select! {
            read = stdout.read(&mut out_buf), if out_open => match read {
                Ok(n) if n > 0 => if let Err(e) = write_frame(&mut writer, Kind::Stdout, &out_buf[..n]).await {
                    break Err(e);
                },
                _ => out_open = false,
            },
            read = read_some(&mut stderr, &mut err_buf), if err_open => match read {
                Ok(n) if n > 0 => if let Err(e) = write_frame(&mut writer, Kind::Stderr, &err_buf[..n]).await {
                    break Err(e);
                },
                _ => err_open = false,
            },
            done = &mut exited, if status.is_none() => {
                status = Some(done.map(exit_status).unwrap_or(berth_protocol::ExitStatus { code: 255, signal: None }));
                drain.as_mut().reset(tokio::time::Instant::now() + DRAIN);
            },
            () = &mut drain, if status.is_some() => break Ok(()),
        }
    };
    frames.abort();
    if let Err(e) = result {
        // The host is gone: nobody can see or stop the command any more.
        let _ = killpg(pid, Signal::SIGKILL);
        return Err(e);
    }
    let status = status.unwrap_or(berth_protocol::ExitStatus {
        code: 255,
        signal: None,
    });
    let payload = serde_json::to_vec(&status).unwrap_or_default();
    write_frame(&mut writer, Kind::Exit, &payload).await?;
    writer.shutdown().await
}

async fn read_some(output: &mut Option<Output>, buf: &mut [u8]) -> io::Result<usize> {
    match output {
        Some(o) => o.read(buf).await,
        None => Ok(0),
    }
}

/// The host's side: stdin data and its end, resizes, signals. Ends at the host's EOF,
/// which counts as the end of stdin.
async fn host_frames<R: AsyncRead + Unpin>(
    mut reader: R,
    mut input: Input,
    pid: Pid,
    master: Option<Arc<Master>>,
) {
    loop {
        let frame = match read_frame(&mut reader).await {
            Ok(Some(frame)) => frame,
            _ => break,
        };
        match frame {
            (Kind::Stdin, data) => {
                // A command that closed its stdin just loses the rest, as with a shell pipe.
                if input.write(&data).await.is_err() {
                    input.close().await;
                    input = Input::Pipe(None);
                }
            }
            (Kind::StdinClosed, _) => {
                input.close().await;
                input = Input::Pipe(None);
            }
            (Kind::Resize, data) => {
                if let (Some(m), Ok(size)) = (&master, serde_json::from_slice::<TtySize>(&data)) {
                    let _ = pty::resize(m, size);
                }
            }
            (Kind::Signal, data) => {
                let number = data.try_into().map(i32::from_be_bytes).ok();
                if let Some(signal) = number.and_then(|n| Signal::try_from(n).ok()) {
                    let _ = kill(pid, signal);
                }
            }
            (kind, _) => tracing::debug!(?kind, "exec: ignoring a frame the host should not send"),
        }
    }
    input.close().await;
}

async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let mut head = [0u8; frame::HEADER_LEN];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]).await? {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let (kind, len) = frame::check_header(head)?;
    let mut payload = vec![0u8; len];
    reader.read_exact(&mut payload).await?;
    Ok(Some((kind, payload)))
}

async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    kind: Kind,
    payload: &[u8],
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(frame::HEADER_LEN + payload.len());
    buf.extend_from_slice(&frame::header(kind, payload.len()));
    buf.extend_from_slice(payload);
    writer.write_all(&buf).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_env_overrides_the_defaults() {
        let env = super::environment(&["PATH=/x".into(), "A=b=c".into(), "junk".into()], true);
        assert!(env.contains(&("PATH".into(), "/x".into())));
        assert!(env.contains(&("A".into(), "b=c".into())));
        assert!(env.iter().any(|(k, _)| k == "TERM"));
        assert_eq!(env.iter().filter(|(k, _)| k == "PATH").count(), 1);
    }
}
