//! `POST /exec/{id}/start`: runs the session's command. Detached, it runs in the background
//! and the answer is immediate; otherwise the connection is hijacked and carries the
//! process's input and output (framed without a tty, raw with one) until the process ends
//! (or the client detaches from a terminal with the detach keys). The exit code is
//! recorded before the stream ends: the client inspects the session right after.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use berth_engine::container::record::Status;
use berth_engine::engine::{
    parse_detach_keys, DetachWatch, Engine, ExecConfig as EngineExec, ExecError, ExecStdio,
};
use bollard_stubs::models::ExecStartConfig;
use nix::fcntl::OFlag;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::fd_io::FdStream;
use super::registry::Session;
use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::MAX_JSON_BODY;
use crate::api::hijack::{self, Conn};
use crate::api::mux::{self, Stream};
use crate::api::state::AppState;

/// Output still read once the process ended, when something it left behind holds the
/// pipes or the terminal open.
const DRAIN: Duration = Duration::from_millis(200);

const CHUNK: usize = 32 * 1024;

/// How the process ended: its exit code, and what to tell the client when it never ran.
type Outcome = (i64, Option<String>);

pub async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_JSON_BODY)
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
    let start: ExecStartConfig = if bytes.iter().all(u8::is_ascii_whitespace) {
        ExecStartConfig::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?
    };
    let mut request = Request::from_parts(parts, Body::empty());
    let session = state.execs.get(&id)?;
    let container = session.container_id.clone();
    state
        .run(move |engine| {
            let (record, status) = engine.inspect(&container)?;
            match status.status {
                Status::Running => Ok(()),
                _ => Err(ApiError::conflict(format!(
                    "Container {} is not running",
                    record.id
                ))),
            }
        })
        .await?;
    let config = engine_config(&session, &start);
    let keys = match session
        .config
        .detach_keys
        .as_deref()
        .filter(|k| !k.is_empty())
    {
        keys if config.tty => {
            parse_detach_keys(keys).map_err(|e| ApiError::bad_request(e.to_string()))?
        }
        _ => Vec::new(),
    };
    session.begin()?;
    let engine = state.engine.clone();
    if start.detach.unwrap_or(false) {
        run_detached(engine, session, config);
        return Ok(().into_response());
    }
    let tty = config.tty;
    hijack::upgrade(&mut request, !tty, move |conn| async move {
        if tty {
            run_tty(engine, session, config, keys, conn).await;
        } else {
            run_pipes(engine, session, config, conn).await;
        }
    })
}

fn engine_config(session: &Session, start: &ExecStartConfig) -> EngineExec {
    let config = &session.config;
    let size = start
        .console_size
        .as_ref()
        .or(config.console_size.as_ref())
        .and_then(|size| match size.as_slice() {
            [h, w] if *h > 0 && *w > 0 => Some((*h as u16, *w as u16)),
            _ => None,
        });
    EngineExec {
        cmd: config.cmd.clone().unwrap_or_default(),
        env: config.env.clone().unwrap_or_default(),
        user: config.user.clone().filter(|u| !u.is_empty()),
        working_dir: config.working_dir.clone().filter(|d| !d.is_empty()),
        tty: config.tty.unwrap_or(false),
        console_size: size,
    }
}

/// The exit code docker reports, and the message for a process that never ran (126: it
/// could not be run; 127: not found).
fn outcome(result: Result<Result<i32, ExecError>, tokio::task::JoinError>) -> Outcome {
    match result {
        Ok(Ok(code)) => (i64::from(code), None),
        Ok(Err(e)) => {
            let text = crate::api::error::chain(&e);
            let lower = text.to_ascii_lowercase();
            let code = if lower.contains("not found") || lower.contains("no such") {
                127
            } else {
                126
            };
            (code, Some(format!("OCI runtime exec failed: {text}\n")))
        }
        Err(e) => (126, Some(format!("exec failed: {e}\n"))),
    }
}

/// Runs `exec` on a blocking thread; the receiver gets the outcome once it is recorded in
/// the session.
fn spawn_exec(
    session: Arc<Session>,
    exec: impl FnOnce() -> Result<i32, ExecError> + Send + 'static,
) -> oneshot::Receiver<Outcome> {
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let outcome = outcome(tokio::task::spawn_blocking(exec).await);
        session.finish(outcome.0);
        let _ = tx.send(outcome);
    });
    rx
}

fn run_detached(engine: Arc<Engine>, session: Arc<Session>, config: EngineExec) {
    let container = session.container_id.clone();
    let keeper = session.clone();
    // Nobody waits for the outcome: the session records it.
    drop(spawn_exec(session, move || {
        if config.tty {
            return engine.exec_with_terminal(&container, &config, move |master| {
                // Nobody reads the terminal: drain it so the process never blocks writing.
                if let Ok(copy) = master.try_clone() {
                    keeper.set_terminal(copy);
                }
                let _ = std::thread::Builder::new()
                    .name("exec-drain".into())
                    .spawn(move || {
                        let mut master = File::from(master);
                        let mut buf = [0u8; 4096];
                        while matches!(master.read(&mut buf), Ok(n) if n > 0) {}
                    });
            });
        }
        let null = || -> Result<OwnedFd, ExecError> {
            File::options()
                .read(true)
                .write(true)
                .open("/dev/null")
                .map(OwnedFd::from)
                .map_err(|e| ExecError::Sys("open /dev/null", e))
        };
        engine.exec(
            &container,
            &config,
            ExecStdio::Fds([null()?, null()?, null()?]),
        )
    }));
}

/// A pipe for one stdio stream of the process: its end and ours.
fn pipe(ours_reads: bool) -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    Ok(if ours_reads {
        (write, read)
    } else {
        (read, write)
    })
}

fn null() -> std::io::Result<OwnedFd> {
    Ok(File::options()
        .read(true)
        .write(true)
        .open("/dev/null")?
        .into())
}

/// The process's end and ours of each stream the client attached (ours `None` otherwise:
/// the process gets /dev/null).
type Ends = ([OwnedFd; 3], [Option<OwnedFd>; 3]);

fn make_stdio(session: &Session) -> std::io::Result<Ends> {
    let config = &session.config;
    let wanted = [
        config.attach_stdin.unwrap_or(false),
        config.attach_stdout.unwrap_or(false),
        config.attach_stderr.unwrap_or(false),
    ];
    let mut theirs = Vec::with_capacity(3);
    let mut ours: [Option<OwnedFd>; 3] = [None, None, None];
    for (i, want) in wanted.into_iter().enumerate() {
        if want {
            let (child, mine) = pipe(i > 0)?;
            theirs.push(child);
            ours[i] = Some(mine);
        } else {
            theirs.push(null()?);
        }
    }
    let theirs: [OwnedFd; 3] = theirs
        .try_into()
        .map_err(|_| std::io::Error::other("stdio"))?;
    Ok((theirs, ours))
}

async fn run_pipes(engine: Arc<Engine>, session: Arc<Session>, config: EngineExec, conn: Conn) {
    let (conn_r, mut conn_w) = tokio::io::split(conn);
    let (theirs, [stdin, stdout, stderr]) = match make_stdio(&session) {
        Ok(ends) => ends,
        Err(e) => {
            session.finish(126);
            let message = format!("Cannot set up the exec's stdio: {e}\n");
            let _ = conn_w
                .write_all(&mux::frame(Stream::Stderr, message.as_bytes()))
                .await;
            let _ = conn_w.shutdown().await;
            return;
        }
    };
    let container = session.container_id.clone();
    let done = spawn_exec(session, move || {
        engine.exec(&container, &config, ExecStdio::Fds(theirs))
    });
    let input = stdin.map(|fd| tokio::spawn(copy_input(conn_r, fd)));
    let (tx, rx) = mpsc::channel::<Vec<u8>>(16);
    for (stream, fd) in [(Stream::Stdout, stdout), (Stream::Stderr, stderr)] {
        if let Some(fd) = fd {
            tokio::spawn(read_output(fd, tx.clone(), move |data| {
                mux::frame(stream, data)
            }));
        }
    }
    drop(tx);
    let (_, message) = forward(rx, &mut conn_w, done).await;
    if let Some(message) = message {
        let _ = conn_w
            .write_all(&mux::frame(Stream::Stderr, message.as_bytes()))
            .await;
    }
    let _ = conn_w.shutdown().await;
    if let Some(input) = input {
        input.abort();
    }
}

/// The client's input to the process's stdin; the client's EOF closes it.
async fn copy_input(mut conn: impl AsyncRead + Unpin, stdin: OwnedFd) {
    let Ok(mut stdin) = FdStream::new(stdin) else {
        return;
    };
    let _ = tokio::io::copy(&mut conn, &mut stdin).await;
}

/// Reads `fd` to its end, sending each chunk as `wrap` makes it.
async fn read_output(fd: OwnedFd, tx: mpsc::Sender<Vec<u8>>, wrap: impl Fn(&[u8]) -> Vec<u8>) {
    let Ok(mut reader) = FdStream::new(fd) else {
        return;
    };
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send(wrap(&buf[..n])).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Writes output chunks to the client until every output ends, or the process has ended
/// and [`DRAIN`] passed; then the outcome (already recorded in the session).
async fn forward(
    mut rx: mpsc::Receiver<Vec<u8>>,
    conn: &mut (impl AsyncWrite + Unpin),
    done: oneshot::Receiver<Outcome>,
) -> Outcome {
    tokio::pin!(done);
    let mut ended: Option<Outcome> = None;
    let mut client_gone = false;
    let drain = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(drain);
    loop {
        tokio::select! {
            chunk = rx.recv(), if !client_gone => match chunk {
                Some(chunk) => client_gone = conn.write_all(&chunk).await.is_err(),
                None => break,
            },
            outcome = &mut done, if ended.is_none() => {
                ended = Some(outcome.unwrap_or((126, None)));
                drain.as_mut().reset(tokio::time::Instant::now() + DRAIN);
            }
            _ = &mut drain, if ended.is_some() => break,
        }
        if client_gone && ended.is_some() {
            break;
        }
    }
    match ended {
        Some(outcome) => outcome,
        None => done.await.unwrap_or((126, None)),
    }
}

async fn run_tty(
    engine: Arc<Engine>,
    session: Arc<Session>,
    config: EngineExec,
    keys: Vec<u8>,
    conn: Conn,
) {
    let (conn_r, mut conn_w) = tokio::io::split(conn);
    let stdin = session.config.attach_stdin.unwrap_or(false);
    let (master_tx, master_rx) = oneshot::channel::<OwnedFd>();
    let container = session.container_id.clone();
    let keeper = session.clone();
    let done = spawn_exec(session, move || {
        engine.exec_with_terminal(&container, &config, move |master| {
            if let Ok(copy) = master.try_clone() {
                keeper.set_terminal(copy);
            }
            let _ = master_tx.send(master);
        })
    });
    // No terminal: the process never ran (the outcome says why).
    let master = master_rx.await.ok();
    let streams = master.and_then(|m| {
        let copy = m.try_clone().ok()?;
        Some((FdStream::new(m).ok()?, FdStream::new(copy).ok()?))
    });
    let (detach_tx, mut detach_rx) = oneshot::channel::<()>();
    let (tx, rx) = mpsc::channel::<Vec<u8>>(16);
    let mut input = None;
    if let Some((reader, writer)) = streams {
        tokio::spawn(read_output_stream(reader, tx));
        if stdin {
            input = Some(tokio::spawn(terminal_input(
                conn_r, writer, keys, detach_tx,
            )));
        }
    } else {
        drop(tx);
    }
    let message = tokio::select! {
        (_, message) = forward(rx, &mut conn_w, done) => message,
        // Detached: the process keeps running; its session records the exit later.
        Ok(()) = &mut detach_rx => None,
    };
    if let Some(message) = message {
        let _ = conn_w.write_all(message.as_bytes()).await;
    }
    let _ = conn_w.shutdown().await;
    if let Some(input) = input {
        input.abort();
    }
}

async fn read_output_stream(mut reader: FdStream, tx: mpsc::Sender<Vec<u8>>) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send(buf[..n].to_vec()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The client's keys to the terminal, up to the detach sequence (then `detached` fires).
async fn terminal_input(
    mut conn: impl AsyncRead + Unpin,
    mut master: FdStream,
    keys: Vec<u8>,
    detached: oneshot::Sender<()>,
) {
    let mut watch = DetachWatch::new(&keys);
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::with_capacity(buf.len() + keys.len());
    loop {
        let n = match conn.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        out.clear();
        let seen = watch.feed(&buf[..n], &mut out);
        if !out.is_empty() && master.write_all(&out).await.is_err() {
            return;
        }
        if seen {
            let _ = detached.send(());
            return;
        }
    }
    let _ = master.write_all(watch.pending()).await;
    // Without a detach the sender stays alive: the session ends with the process.
    std::future::pending::<()>().await;
}
