//! An exec session's frames: the host's stdin, resizes and signals go out; the command's
//! stdout and stderr come back until its exit frame.

use berth_protocol::frame::{self, Kind, HEADER_LEN};
use berth_protocol::{ExitStatus, TtySize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::{AgentError, Result};
use crate::transport::BoxStream;

/// Where an exec's stdio goes. Without a TTY, stdout and stderr stay separate.
pub struct ExecIo<'a> {
    pub stdin: Box<dyn AsyncRead + Unpin + Send + 'a>,
    pub stdout: Box<dyn AsyncWrite + Unpin + Send + 'a>,
    pub stderr: Box<dyn AsyncWrite + Unpin + Send + 'a>,
    /// Terminal size changes to pass on (for a TTY exec).
    pub resize: Option<mpsc::UnboundedReceiver<TtySize>>,
    /// Signals to deliver to the command (Ctrl-C without a TTY).
    pub signals: Option<mpsc::UnboundedReceiver<i32>>,
}

impl std::fmt::Debug for ExecIo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecIo").finish_non_exhaustive()
    }
}

async fn send(out: &mut (impl AsyncWrite + Unpin), kind: Kind, payload: &[u8]) -> Result<()> {
    // frame::write does the header and the chunking; the buffer then goes out at once.
    let mut buf = Vec::with_capacity(HEADER_LEN + payload.len());
    frame::write(&mut buf, kind, payload)?;
    out.write_all(&buf).await?;
    Ok(out.flush().await?)
}

/// Takes the first complete frame out of `buf`, if there is one.
fn take_frame(buf: &mut Vec<u8>) -> Result<Option<(Kind, Vec<u8>)>> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&buf[..HEADER_LEN]);
    let (kind, len) = frame::check_header(header)?;
    if buf.len() < HEADER_LEN + len {
        return Ok(None);
    }
    let payload = buf[HEADER_LEN..HEADER_LEN + len].to_vec();
    buf.drain(..HEADER_LEN + len);
    Ok(Some((kind, payload)))
}

pub async fn run(stream: BoxStream, mut io: ExecIo<'_>) -> Result<ExitStatus> {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut inbox = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut stdin_buf = vec![0u8; 32 * 1024];
    let mut stdin_open = true;
    loop {
        // Every branch's future is cancel-safe (plain reads and channel receives); partial
        // frames wait in `inbox`, so losing a race never loses bytes.
        tokio::select! {
            n = reader.read(&mut chunk) => {
                let n = n?;
                if n == 0 {
                    return Err(AgentError::Unexpected("end of stream before the exit frame".into()));
                }
                inbox.extend_from_slice(&chunk[..n]);
                while let Some((kind, payload)) = take_frame(&mut inbox)? {
                    match kind {
                        Kind::Stdout => io.stdout.write_all(&payload).await?,
                        Kind::Stderr => io.stderr.write_all(&payload).await?,
                        Kind::Exit => {
                            io.stdout.flush().await?;
                            io.stderr.flush().await?;
                            return Ok(serde_json::from_slice(&payload).map_err(berth_protocol::LineError::from)?);
                        }
                        other => return Err(AgentError::Unexpected(format!("a {other:?} frame"))),
                    }
                }
            }
            n = io.stdin.read(&mut stdin_buf), if stdin_open => {
                match n? {
                    0 => {
                        stdin_open = false;
                        send(&mut writer, Kind::StdinClosed, &[]).await?;
                    }
                    n => send(&mut writer, Kind::Stdin, &stdin_buf[..n]).await?,
                }
            }
            Some(size) = recv(&mut io.resize) => {
                let json = serde_json::to_vec(&size).unwrap_or_default();
                send(&mut writer, Kind::Resize, &json).await?;
            }
            Some(sig) = recv(&mut io.signals) => {
                send(&mut writer, Kind::Signal, &sig.to_be_bytes()).await?;
            }
        }
    }
}

/// Receives from an optional channel; pends forever without one (or once it closed).
async fn recv<T>(rx: &mut Option<mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(r) => match r.recv().await {
            Some(v) => Some(v),
            None => {
                *rx = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}
