//! The wire between Berth's host (`berth-host`) and the VM's agent (`berth-agent` as PID 1).
//!
//! Every exchange opens its own vsock connection (see DESIGN.md: one connection per stream,
//! as Firecracker's and Kata's hybrid vsock do, never a multiplexed tunnel). The host writes
//! one line of JSON, a [`Request`]; the agent answers with one line of JSON, a [`Response`].
//! Some requests turn the connection into a stream afterwards:
//!
//! - [`Request::PortEvents`]: the agent writes one [`PortEvent`] per line, starting with the
//!   ports already published (`snapshot: true`), until either side closes.
//! - [`Request::Exec`]: both sides exchange [`frame`]s (stdin, stdout, stderr, resize,
//!   exit) until the agent sends [`frame::Kind::Exit`].
//! - [`Request::Forward`]: the connection becomes the bytes of one TCP connection to a port
//!   published in the VM (in [`halfclose`] frames), or one UDP flow's datagrams (in
//!   [`datagram`] frames).
//! - [`Request::Echo`]: the agent sends every byte back (in [`halfclose`] frames): the raw
//!   channel's ceiling, for benchmarks and diagnostics.
//!
//! The Docker Engine API has its own port ([`DOCKER_API_PORT`]) and speaks plain HTTP/1.1
//! with no header line, so the host passes a client's bytes through untouched, inside
//! [`halfclose`] frames (as on a forwarded connection after its `Ok` line), which carry
//! each direction's end over transports that cannot.

pub mod datagram;
pub mod frame;
pub mod halfclose;
mod messages;

pub use messages::*;

/// Bumped when a message changes incompatibly. The host refuses an agent whose `protocol`
/// differs (and says which versions each side speaks).
pub const PROTOCOL_VERSION: u32 = 1;

/// The agent's control service: hello, health, port events, exec, shutdown, time.
pub const CONTROL_PORT: u32 = 1024;
/// The Docker Engine API (HTTP/1.1), byte for byte what `/var/run/docker.sock` carries.
pub const DOCKER_API_PORT: u32 = 2375;

/// The host's port the agent connects to once its control service listens (a guest-initiated
/// connection, as Firecracker's hybrid vsock forwards to `<uds>_<port>`): the host then says
/// hello at once instead of finding the moment by polling. Nothing is sent on it; the
/// connection itself is the signal.
pub const HOST_READY_PORT: u32 = 1025;

/// vsock's well-known context ID of the host; the guest's is chosen by the VMM.
pub const HOST_CID: u32 = 2;
/// The guest context ID Berth's QEMU backend gives its VM.
pub const DEFAULT_GUEST_CID: u32 = 3;

/// The longest header line either side accepts: a line longer than this is an error, never
/// a reason to buffer without bound.
pub const MAX_LINE: usize = 64 * 1024;

/// A header line that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("the peer closed the connection before a complete line")]
    Closed,
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("malformed message: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Encodes a message as one JSON line (with its trailing newline).
pub fn to_line<T: serde::Serialize>(message: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(message).expect("protocol messages always serialize");
    line.push(b'\n');
    line
}

/// Decodes one JSON line (with or without its trailing newline).
pub fn from_line<T: serde::de::DeserializeOwned>(line: &[u8]) -> Result<T, LineError> {
    if line.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    Ok(serde_json::from_slice(line)?)
}

/// Reads one line from a blocking reader, byte by byte so nothing after the newline is
/// consumed (the bytes after a header belong to the stream that follows).
pub fn read_line_blocking<T: serde::de::DeserializeOwned>(
    reader: &mut impl std::io::Read,
) -> Result<T, LineError> {
    let mut line = Vec::with_capacity(128);
    let mut byte = [0u8; 1];
    loop {
        match reader.read(&mut byte)? {
            0 => return Err(LineError::Closed),
            _ if byte[0] == b'\n' => return from_line(&line),
            _ => {
                if line.len() == MAX_LINE {
                    return Err(LineError::TooLong);
                }
                line.push(byte[0]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips_as_one_line() {
        let request = Request::Exec(ExecRequest {
            command: vec!["uname".into(), "-a".into()],
            env: vec!["A=b".into()],
            cwd: Some("/tmp".into()),
            tty: Some(TtySize { rows: 24, cols: 80 }),
        });
        let line = to_line(&request);
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(line.last(), Some(&b'\n'));
        let back: Request = from_line(&line).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn the_stream_after_a_header_is_left_unread() {
        let mut bytes: &[u8] = b"{\"type\":\"health\"}\nRAW";
        let request: Request = read_line_blocking(&mut bytes).unwrap();
        assert_eq!(request, Request::Health);
        assert_eq!(bytes, b"RAW");
    }

    #[test]
    fn malformed_and_endless_lines_are_errors() {
        assert!(matches!(
            from_line::<Request>(b"{\"type\":\"launch-missiles\"}"),
            Err(LineError::Json(_))
        ));
        let endless = vec![b'x'; MAX_LINE + 10];
        assert!(matches!(
            read_line_blocking::<Request>(&mut endless.as_slice()),
            Err(LineError::TooLong)
        ));
        assert!(matches!(
            read_line_blocking::<Request>(&mut &b"{\"ty"[..]),
            Err(LineError::Closed)
        ));
    }
}
