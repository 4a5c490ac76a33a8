//! Docker's stream multiplexing for containers without a TTY: each chunk is preceded by an
//! 8-byte header `[stream, 0, 0, 0, len (u32 big-endian)]`: 1 stdout, 2 stderr (0 is
//! stdin and 3 a system message in docker's scheme; Berth sends neither).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stream {
    Stdout = 1,
    Stderr = 2,
}

/// One frame; chunks larger than `u32::MAX` are split.
pub fn frame(stream: Stream, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    for chunk in data.chunks(u32::MAX as usize) {
        out.push(stream as u8);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_has_docker_header() {
        assert_eq!(
            frame(Stream::Stderr, b"hi"),
            [2, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']
        );
        assert!(frame(Stream::Stdout, b"").is_empty() || frame(Stream::Stdout, b"").len() == 8);
    }
}
