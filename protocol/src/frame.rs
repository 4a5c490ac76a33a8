//! Frames of an exec stream: a kind byte, a big-endian u32 length, the payload.
//!
//! Separate kinds keep stdout and stderr apart and let resize and exit travel beside the
//! data without an escape scheme. A frame longer than [`MAX_PAYLOAD`] is an error.

use std::io::{self, Read, Write};

/// The largest payload either side sends or accepts.
pub const MAX_PAYLOAD: usize = 1024 * 1024;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
    /// The host's stdin reached its end: the agent closes the command's stdin.
    StdinClosed = 3,
    /// JSON [`crate::TtySize`].
    Resize = 4,
    /// A big-endian i32 signal number for the command (for example the user's Ctrl-C
    /// without a TTY).
    Signal = 5,
    /// JSON [`crate::ExitStatus`]; the last frame the agent sends.
    Exit = 6,
}

impl Kind {
    pub fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            0 => Kind::Stdin,
            1 => Kind::Stdout,
            2 => Kind::Stderr,
            3 => Kind::StdinClosed,
            4 => Kind::Resize,
            5 => Kind::Signal,
            6 => Kind::Exit,
            _ => return None,
        })
    }
}

/// A frame header that cannot be accepted.
pub fn check_header(header: [u8; HEADER_LEN]) -> io::Result<(Kind, usize)> {
    let kind = Kind::from_byte(header[0]).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown frame kind {}", header[0]),
        )
    })?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_PAYLOAD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds {MAX_PAYLOAD}"),
        ));
    }
    Ok((kind, len))
}

/// The header for a payload of `len` bytes.
pub fn header(kind: Kind, len: usize) -> [u8; HEADER_LEN] {
    assert!(len <= MAX_PAYLOAD, "frame payloads are split by the sender");
    let n = (len as u32).to_be_bytes();
    [kind as u8, n[0], n[1], n[2], n[3]]
}

/// Writes one frame (blocking).
pub fn write(out: &mut impl Write, kind: Kind, payload: &[u8]) -> io::Result<()> {
    for chunk in payload.chunks(MAX_PAYLOAD).chain(
        // An empty payload is still one frame (StdinClosed, for instance).
        payload.is_empty().then_some(&[][..]),
    ) {
        let mut buf = Vec::with_capacity(HEADER_LEN + chunk.len());
        buf.extend_from_slice(&header(kind, chunk.len()));
        buf.extend_from_slice(chunk);
        out.write_all(&buf)?;
    }
    Ok(())
}

/// Reads one frame (blocking); `None` at a clean end of stream between frames.
pub fn read(input: &mut impl Read) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let mut head = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match input.read(&mut head[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let (kind, len) = check_header(head)?;
    let mut payload = vec![0u8; len];
    input.read_exact(&mut payload)?;
    Ok(Some((kind, payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_keep_their_kinds() {
        let mut wire = Vec::new();
        write(&mut wire, Kind::Stdout, b"out").unwrap();
        write(&mut wire, Kind::Stderr, b"err").unwrap();
        write(&mut wire, Kind::StdinClosed, b"").unwrap();
        let mut r = wire.as_slice();
        assert_eq!(read(&mut r).unwrap(), Some((Kind::Stdout, b"out".to_vec())));
        assert_eq!(read(&mut r).unwrap(), Some((Kind::Stderr, b"err".to_vec())));
        assert_eq!(read(&mut r).unwrap(), Some((Kind::StdinClosed, vec![])));
        assert_eq!(read(&mut r).unwrap(), None);
    }

    #[test]
    fn hostile_headers_are_refused_before_any_allocation() {
        let mut huge = vec![1u8];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        let err = read(&mut huge.as_slice()).unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
        let unknown = [9u8, 0, 0, 0, 0];
        assert!(read(&mut &unknown[..]).is_err());
        let truncated = [1u8, 0, 0];
        assert!(read(&mut &truncated[..]).is_err());
    }

    #[test]
    fn large_payloads_are_split() {
        let mut wire = Vec::new();
        write(&mut wire, Kind::Stdin, &vec![7u8; MAX_PAYLOAD + 3]).unwrap();
        let mut r = wire.as_slice();
        assert_eq!(read(&mut r).unwrap().unwrap().1.len(), MAX_PAYLOAD);
        assert_eq!(read(&mut r).unwrap().unwrap().1.len(), 3);
    }
}
