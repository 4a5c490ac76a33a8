//! The control socket's client, for the CLI and the GUI.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;

use super::proto::{DaemonEvent, DaemonRequest, DaemonResponse, ErrorCode, StatusReport};
use super::Paths;
use crate::state::StateDirs;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("Berth is not running: run `berth start`")]
    NotRunning,
    #[error("The Berth daemon did not answer within {0:?}")]
    Timeout(Duration),
    #[error("The Berth daemon closed the connection without an answer")]
    Closed,
    #[error("Bad answer from the Berth daemon")]
    Protocol(#[from] serde_json::Error),
    #[error("{message}")]
    Daemon { code: ErrorCode, message: String },
    #[error("The Berth daemon answered {0} unexpectedly")]
    Unexpected(String),
    #[error("Cannot talk to the Berth daemon")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone)]
pub struct DaemonClient {
    socket: PathBuf,
}

impl DaemonClient {
    pub fn new(dirs: &StateDirs) -> DaemonClient {
        DaemonClient {
            socket: Paths::new(dirs).control_socket,
        }
    }

    /// Sends one request and reads the first answer line (bounded by `timeout`).
    pub async fn request(
        &self,
        request: &DaemonRequest,
        timeout: Duration,
    ) -> Result<DaemonResponse, ClientError> {
        let exchange = async {
            let mut lines = self.open(request).await?;
            let line = lines.next_line().await?.ok_or(ClientError::Closed)?;
            match serde_json::from_str(&line)? {
                DaemonResponse::Error { code, message } => {
                    Err(ClientError::Daemon { code, message })
                }
                answer => Ok(answer),
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }

    pub async fn status(&self) -> Result<StatusReport, ClientError> {
        match self
            .request(&DaemonRequest::Status, Duration::from_secs(15))
            .await?
        {
            DaemonResponse::Status(report) => Ok(*report),
            other => Err(unexpected(&other)),
        }
    }

    /// Sends a request answered by `ok` (start, restart, stop).
    pub async fn expect_ok(
        &self,
        request: &DaemonRequest,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        match self.request(request, timeout).await? {
            DaemonResponse::Ok => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// The daemon's recent events, then (with `follow`) new ones as they happen.
    pub async fn events(&self, follow: bool) -> Result<EventStream, ClientError> {
        Ok(EventStream {
            lines: self.open(&DaemonRequest::Events { follow }).await?,
        })
    }

    async fn open(
        &self,
        request: &DaemonRequest,
    ) -> Result<Lines<BufReader<UnixStream>>, ClientError> {
        let conn = UnixStream::connect(&self.socket)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                    ClientError::NotRunning
                }
                _ => ClientError::Io(e),
            })?;
        let mut conn = conn;
        conn.write_all(&berth_protocol::to_line(request)).await?;
        conn.flush().await?;
        Ok(BufReader::new(conn).lines())
    }
}

/// Events as the daemon sends them.
#[derive(Debug)]
pub struct EventStream {
    lines: Lines<BufReader<UnixStream>>,
}

impl EventStream {
    pub async fn next(&mut self) -> Option<Result<DaemonEvent, ClientError>> {
        let line = match self.lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return None,
            Err(e) => return Some(Err(e.into())),
        };
        Some(match serde_json::from_str(&line) {
            Ok(DaemonResponse::Event(event)) => Ok(event),
            Ok(DaemonResponse::Error { code, message }) => {
                Err(ClientError::Daemon { code, message })
            }
            Ok(other) => Err(unexpected(&other)),
            Err(e) => Err(e.into()),
        })
    }
}

fn unexpected(response: &DaemonResponse) -> ClientError {
    ClientError::Unexpected(serde_json::to_string(response).unwrap_or_default())
}
