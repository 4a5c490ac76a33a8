//! A minimal, blocking QMP client: enough for `system_powerdown`, `quit` and
//! `query-status`. Every read and write has a timeout, so a wedged QEMU never hangs us.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    #[error("QMP I/O")]
    Io(#[from] std::io::Error),
    #[error("QMP answered {0}")]
    Refused(String),
    #[error("QMP closed the connection")]
    Closed,
}

#[derive(Debug)]
pub struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Connects, reads the greeting and leaves capabilities negotiation mode.
    pub fn connect(path: &Path) -> Result<Qmp, QmpError> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let mut qmp = Qmp {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        };
        qmp.read_value()?; // {"QMP": {...}}
        qmp.execute("qmp_capabilities")?;
        Ok(qmp)
    }

    /// Runs one command and returns its `return` value (events in between are skipped).
    pub fn execute(&mut self, command: &str) -> Result<Value, QmpError> {
        let mut line = serde_json::to_vec(&json!({ "execute": command })).unwrap_or_default();
        line.push(b'\n');
        self.writer.write_all(&line)?;
        loop {
            let value = self.read_value()?;
            if let Some(ret) = value.get("return") {
                return Ok(ret.clone());
            }
            if let Some(err) = value.get("error") {
                return Err(QmpError::Refused(err.to_string()));
            }
        }
    }

    fn read_value(&mut self) -> Result<Value, QmpError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(QmpError::Closed);
        }
        serde_json::from_str(&line)
            .map_err(|e| QmpError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }
}

/// One command on a fresh connection (QEMU serves one QMP client at a time, so holding a
/// connection would lock out other host processes).
pub fn command(path: &Path, command: &str) -> Result<Value, QmpError> {
    Qmp::connect(path)?.execute(command)
}
