//! Encoding one entry as a JSON line, straight into the writer's reusable buffer: no
//! intermediate `String` per line, so the monitor's memory does not depend on its output.

use std::time::SystemTime;

use super::time::write_rfc3339_nano;
use super::Stream;

/// Appends `{"log":"<text>[\n]","stream":"...","time":"..."}\n` to `out`. Bytes that are not
/// UTF-8 become U+FFFD, as Docker does, because JSON strings must be Unicode.
pub(super) fn entry(out: &mut Vec<u8>, stream: Stream, text: &[u8], newline: bool, t: SystemTime) {
    out.extend_from_slice(b"{\"log\":\"");
    for chunk in text.utf8_chunks() {
        escape(out, chunk.valid());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    if newline {
        out.extend_from_slice(b"\\n");
    }
    out.extend_from_slice(b"\",\"stream\":\"");
    out.extend_from_slice(stream.as_str().as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    write_rfc3339_nano(out, t);
    out.extend_from_slice(b"\"}\n");
}

/// JSON string escaping: quote, backslash and control characters; everything else as is.
fn escape(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    let mut plain = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let short: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        plain = i + 1;
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
    }
    out.extend_from_slice(&bytes[plain..]);
}

/// The longest prefix of `buf` that does not end inside a UTF-8 sequence, so a line split
/// at the buffer limit keeps its characters whole. Bytes that cannot start a valid
/// sequence do not hold anything back.
pub(super) fn char_boundary(buf: &[u8]) -> usize {
    let len = buf.len();
    for back in 1..=3.min(len) {
        let c = buf[len - back];
        if c & 0xc0 == 0x80 {
            continue; // a continuation byte: look further back for the lead byte
        }
        let needed = match c {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => return len,
        };
        return if needed > back { len - back } else { len };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn escapes_json_and_replaces_invalid_utf8() {
        let mut out = Vec::new();
        entry(
            &mut out,
            Stream::Stdout,
            b"a\"b\\c\td\x01\xff\xc3\xa9",
            true,
            UNIX_EPOCH,
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"log\":\"a\\\"b\\\\c\\td\\u0001\u{fffd}é\\n\",\"stream\":\"stdout\",\
             \"time\":\"1970-01-01T00:00:00.000000000Z\"}\n"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["log"], "a\"b\\c\td\u{1}\u{fffd}é\n");
    }

    #[test]
    fn splits_keep_characters_whole() {
        let euro = "€".as_bytes(); // three bytes
        assert_eq!(char_boundary(b"abc"), 3);
        assert_eq!(char_boundary(&[b'a', euro[0]]), 1);
        assert_eq!(char_boundary(&[b'a', euro[0], euro[1]]), 1);
        assert_eq!(char_boundary(&[b'a', euro[0], euro[1], euro[2]]), 4);
        assert_eq!(char_boundary(&[b'a', 0xff]), 2);
        assert_eq!(char_boundary(&[0x80, 0x80, 0x80, 0x80]), 4);
    }
}
