//! The client of the agent's control service ([`berth_protocol::CONTROL_PORT`]). Every call
//! opens its own connection over the [`Transport`], writes one request line and reads one
//! response line; exec and port events then keep the connection as their stream.

mod exec;

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use berth_protocol::halfclose::HalfClose;
use berth_protocol::{
    ExecRequest, Health, Hello, PortEvent, Proto, Request, Response, CONTROL_PORT, MAX_LINE,
    PROTOCOL_VERSION,
};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

pub use exec::ExecIo;

use crate::transport::{BoxStream, Transport};

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("Cannot reach the agent")]
    Connect(#[source] std::io::Error),
    #[error(
        "The agent speaks protocol {agent}, this host speaks {host}; update Berth so both match"
    )]
    ProtocolMismatch { host: u32, agent: u32 },
    #[error("The agent refused: {0}")]
    Refused(String),
    #[error("The agent answered {0} unexpectedly")]
    Unexpected(String),
    #[error("The agent did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Bad message from the agent")]
    Protocol(#[from] berth_protocol::LineError),
    #[error("Agent connection")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, AgentError>;

/// Port events as they arrive; ends when the agent closes the stream.
pub type PortEvents = Pin<Box<dyn Stream<Item = Result<PortEvent>> + Send>>;

#[derive(Debug, Clone)]
pub struct AgentClient {
    transport: Arc<dyn Transport>,
    /// Bounds one request/response exchange (not the streams that follow).
    timeout: Duration,
}

impl AgentClient {
    pub fn new(transport: Arc<dyn Transport>) -> AgentClient {
        AgentClient {
            transport,
            timeout: Duration::from_secs(10),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> AgentClient {
        self.timeout = timeout;
        self
    }

    /// Versions and capabilities; refuses an agent of another protocol version.
    pub async fn hello(&self) -> Result<Hello> {
        let request = Request::Hello {
            host_version: env!("CARGO_PKG_VERSION").into(),
            protocol: PROTOCOL_VERSION,
        };
        match self.call(&request).await?.0 {
            Response::Hello(hello) if hello.protocol == PROTOCOL_VERSION => Ok(hello),
            Response::Hello(hello) => Err(AgentError::ProtocolMismatch {
                host: PROTOCOL_VERSION,
                agent: hello.protocol,
            }),
            other => Err(unexpected(other)),
        }
    }

    pub async fn health(&self) -> Result<Health> {
        match self.call(&Request::Health).await?.0 {
            Response::Health(health) => Ok(health),
            other => Err(unexpected(other)),
        }
    }

    /// Sets the guest clock to this host's.
    pub async fn time_sync(&self) -> Result<()> {
        let unix_nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        self.expect_ok(&Request::TimeSync { unix_nanos }).await
    }

    /// Stops the containers, syncs the disk and powers the VM off; returns once the agent
    /// accepted (the VM then goes away by itself).
    pub async fn shutdown(&self, stop_timeout_secs: u32) -> Result<()> {
        self.expect_ok(&Request::Shutdown { stop_timeout_secs })
            .await
    }

    /// Published ports: a snapshot, then changes, for as long as the stream is held.
    pub async fn port_events(&self) -> Result<PortEvents> {
        let stream = self.open(&Request::PortEvents).await?;
        Ok(Box::pin(futures_util::stream::unfold(
            Some(stream),
            |stream| async move {
                let mut stream = stream?;
                match read_line_opt(&mut stream).await {
                    Ok(None) => None,
                    Ok(Some(line)) => match berth_protocol::from_line::<PortEvent>(&line) {
                        Ok(event) => Some((Ok(event), Some(stream))),
                        Err(e) => Some((Err(e.into()), None)),
                    },
                    Err(e) => Some((Err(e), None)),
                }
            },
        )))
    }

    /// Runs a command in the VM, wiring its stdio to `io`; returns how it ended.
    pub async fn exec(
        &self,
        request: ExecRequest,
        io: ExecIo<'_>,
    ) -> Result<berth_protocol::ExitStatus> {
        let stream = self.open(&Request::Exec(request)).await?;
        exec::run(stream, io).await
    }

    /// A connection to `port` published in the VM: its bytes, with each direction's end
    /// carried through (half-close frames on the wire).
    pub async fn forward(&self, proto: Proto, port: u16) -> Result<HalfClose<BoxStream>> {
        let stream = self.open(&Request::Forward { proto, port }).await?;
        Ok(HalfClose::new(stream))
    }

    /// One UDP flow to `port` published in the VM: datagrams both ways, each in a
    /// [`berth_protocol::datagram`] frame; the flow ends when either side closes.
    pub async fn forward_udp(&self, port: u16) -> Result<BoxStream> {
        self.open(&Request::Forward {
            proto: Proto::Udp,
            port,
        })
        .await
    }

    /// A connection on which the agent echoes every byte (the raw channel, for
    /// `bench/forward`), each direction's end carried through like a forwarded one.
    pub async fn echo(&self) -> Result<HalfClose<BoxStream>> {
        let stream = self.open(&Request::Echo).await?;
        Ok(HalfClose::new(stream))
    }

    /// A raw connection to a guest port (the Docker API, a forwarded port).
    pub async fn connect(&self, port: u32) -> Result<BoxStream> {
        self.transport
            .connect(port)
            .await
            .map_err(AgentError::Connect)
    }

    async fn expect_ok(&self, request: &Request) -> Result<()> {
        match self.call(request).await?.0 {
            Response::Ok => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Sends a request whose `Ok` answer turns the connection into a stream.
    async fn open(&self, request: &Request) -> Result<BoxStream> {
        let (response, stream) = self.call(request).await?;
        match response {
            Response::Ok => Ok(stream),
            other => Err(unexpected(other)),
        }
    }

    /// One request line out, one response line back, within the timeout. An agent error
    /// answer becomes [`AgentError::Refused`].
    async fn call(&self, request: &Request) -> Result<(Response, BoxStream)> {
        let exchange = async {
            let mut stream = self.connect(CONTROL_PORT).await?;
            stream.write_all(&berth_protocol::to_line(request)).await?;
            stream.flush().await?;
            let line = read_line_opt(&mut stream)
                .await?
                .ok_or(berth_protocol::LineError::Closed)?;
            let response: Response = berth_protocol::from_line(&line)?;
            Ok::<_, AgentError>((response, stream))
        };
        let (response, stream) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| AgentError::Timeout(self.timeout))??;
        match response {
            Response::Error { message } => Err(AgentError::Refused(message)),
            response => Ok((response, stream)),
        }
    }
}

fn unexpected(response: Response) -> AgentError {
    AgentError::Unexpected(serde_json::to_string(&response).unwrap_or_default())
}

/// Reads one line byte by byte (the bytes after it belong to the stream); `None` at a clean
/// end before any byte.
async fn read_line_opt(stream: &mut (impl AsyncRead + Unpin)) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    loop {
        if stream.read(&mut byte).await? == 0 {
            return match line.is_empty() {
                true => Ok(None),
                false => Err(berth_protocol::LineError::Closed.into()),
            };
        }
        if byte[0] == b'\n' {
            return Ok(Some(line));
        }
        if line.len() == MAX_LINE {
            return Err(berth_protocol::LineError::TooLong.into());
        }
        line.push(byte[0]);
    }
}

#[cfg(test)]
mod tests;
