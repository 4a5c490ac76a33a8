//! Entry names as a layer may spell them, and what they mean. A name is relative to the
//! layer root: `./`-prefixes, repeated and trailing slashes are tolerated (tar writers produce
//! them), and `/` alone names the root; any other absolute name, a `..` component or a NUL
//! byte is refused outright rather than clamped, because no honest layer contains one.
//!
//! Whiteouts (OCI image-spec, "Whiteouts"): `.wh.NAME` deletes NAME of the lower layers and
//! `.wh..wh..opq` makes its directory opaque. Any other `.wh..wh.` name, `.wh.` with nothing,
//! `.` or `..` after it, and a whiteout name used as a directory are invalid.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const META_PREFIX: &[u8] = b".wh..wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";

/// What a validated name asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Meaning {
    /// An ordinary entry at this path (empty for the layer root itself).
    Entry,
    /// Delete `NAME` (the payload) in the entry's parent directory.
    Whiteout(OsString),
    /// Hide the lower content of the entry's parent directory.
    Opaque,
}

/// Validates a raw tar name and returns it normalised: relative, no `.`, no empty components.
pub(super) fn parse(raw: &[u8]) -> Result<PathBuf, &'static str> {
    if raw.is_empty() {
        return Err("has an empty name");
    }
    if raw.contains(&0) {
        return Err("has a NUL byte in its name");
    }
    // `/` alone is the layer root itself (umoci and some other writers emit it, and docker
    // applies it to the root); any other absolute name is refused.
    if raw.iter().all(|b| *b == b'/') {
        return Ok(PathBuf::new());
    }
    if raw.starts_with(b"/") {
        return Err("has an absolute name");
    }
    let mut out = PathBuf::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err("has a `..` component in its name"),
            _ => out.push(OsStr::from_bytes(part)),
        }
    }
    Ok(out)
}

/// Classifies a normalised name as an entry, a whiteout or an opaque marker.
pub(super) fn meaning(path: &Path) -> Result<Meaning, &'static str> {
    let mut parts = path.iter().map(OsStr::as_bytes).peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if !part.starts_with(WHITEOUT_PREFIX) {
            continue;
        }
        if !last {
            return Err("a whiteout name is used as a directory");
        }
        if part == OPAQUE_MARKER {
            return Ok(Meaning::Opaque);
        }
        if part.starts_with(META_PREFIX) {
            return Err("only .wh..wh..opq is defined with the .wh..wh. prefix");
        }
        let target = &part[WHITEOUT_PREFIX.len()..];
        return match target {
            b"" => Err("it names nothing after .wh."),
            b"." | b".." => Err("it would delete a parent directory"),
            _ => Ok(Meaning::Whiteout(OsString::from_vec(target.to_vec()))),
        };
    }
    Ok(Meaning::Entry)
}

/// The parent directory and final component of a non-root normalised name.
pub(super) fn split(path: &Path) -> (&Path, &OsStr) {
    let parent = path.parent().unwrap_or(Path::new(""));
    let base = path.file_name().unwrap_or(OsStr::new(""));
    (parent, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        assert_eq!(parse(b"./usr//bin/").unwrap(), PathBuf::from("usr/bin"));
        assert_eq!(parse(b"./").unwrap(), PathBuf::new());
        assert_eq!(parse(b"a/./b").unwrap(), PathBuf::from("a/b"));
    }

    #[test]
    fn hostile_names_are_refused() {
        for raw in [
            &b""[..],
            b"/etc/passwd",
            b"../x",
            b"a/../../x",
            b"a/..",
            b"..",
            b"a\0b",
        ] {
            assert!(parse(raw).is_err(), "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn whiteouts_are_classified() {
        let m = |s: &str| meaning(&parse(s.as_bytes()).unwrap());
        assert_eq!(m("etc/passwd"), Ok(Meaning::Entry));
        assert_eq!(m("etc/.wh.passwd"), Ok(Meaning::Whiteout("passwd".into())));
        assert_eq!(m("etc/.wh..wh..opq"), Ok(Meaning::Opaque));
        assert_eq!(m(".wh..wh..opq"), Ok(Meaning::Opaque));
        assert_eq!(m("a/.wh..hidden"), Ok(Meaning::Whiteout(".hidden".into())));
        for bad in [
            ".wh.",
            ".wh..",
            ".wh...",
            "etc/.wh..",
            ".wh..wh.x",
            ".wh.etc/file",
        ] {
            assert!(m(bad).is_err(), "{bad}");
        }
    }
}
