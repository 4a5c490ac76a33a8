//! Image references as users type them (`busybox`, `ghcr.io/o/app:1.2`, `x@sha256:…`),
//! normalised the way docker does (`docker.io/library/busybox:latest`).
//!
//! Parsing is delegated to `oci_spec::distribution::Reference`; this module only adds the
//! checks whose failure deserves a precise message (uppercase repository, bad tag
//! characters, a bare 64-hex name) before the generic "invalid reference format". The
//! common shapes take a fast path first (`reference_fast`): the crate compiles a large
//! Unicode regex on first use, about 45 ms — most of a `run` from the command line.

use std::fmt;
use std::str::FromStr;

use oci_spec::distribution::Reference;

/// Why a string is not a usable image reference.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("Image reference is empty")]
    Empty,
    #[error("Invalid reference {input:?}: repository name must be lowercase")]
    Uppercase { input: String },
    #[error(
        "Invalid reference {input:?}: tag {tag:?} must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}"
    )]
    InvalidTag { input: String, tag: String },
    #[error("Invalid reference {input:?}: a 64-character hex string is an image ID, not a repository name")]
    HexName { input: String },
    #[error("Invalid reference format {input:?}: {reason}")]
    Format { input: String, reason: String },
}

/// A normalised image reference: always has a registry and a repository, and a tag
/// (`latest` by default) unless it names a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    inner: Reference,
}

impl ImageRef {
    /// Parses and normalises `input`.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if input.trim().is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (name, tag) = split_tag(input);
        if let Some(tag) = tag {
            if !valid_tag(tag) {
                return Err(ReferenceError::InvalidTag {
                    input: input.to_owned(),
                    tag: tag.to_owned(),
                });
            }
        }
        // The registry part may have capitals (DNS names are case-insensitive); the
        // repository path may not.
        let path = match name.split_once('/') {
            Some((first, rest)) if is_domain(first) => rest,
            _ => name,
        };
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase {
                input: input.to_owned(),
            });
        }
        if name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ReferenceError::HexName {
                input: input.to_owned(),
            });
        }
        if let Some(inner) = super::reference_fast::parse(input) {
            return Ok(Self { inner });
        }
        let inner = Reference::try_from(input).map_err(|e| ReferenceError::Format {
            input: input.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self { inner })
    }

    /// `registry/repository`, e.g. `docker.io/library/busybox`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.inner.registry(), self.inner.repository())
    }

    pub fn tag(&self) -> Option<&str> {
        self.inner.tag()
    }

    pub fn digest(&self) -> Option<&str> {
        self.inner.digest()
    }

    /// The full normalised form, e.g. `docker.io/library/busybox:latest`.
    pub fn full(&self) -> String {
        self.inner.whole()
    }

    /// The short form docker prints and writes into `RepoTags`: `busybox:latest`,
    /// `user/app:1`, `ghcr.io/o/app:1`.
    pub fn familiar(&self) -> String {
        let repo = if self.inner.registry() == "docker.io" {
            let r = self.inner.repository();
            match r.strip_prefix("library/") {
                Some(short) if !short.contains('/') => short.to_owned(),
                _ => r.to_owned(),
            }
        } else {
            self.repository()
        };
        let mut out = repo;
        if let Some(tag) = self.inner.tag() {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = self.inner.digest() {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    pub fn reference(&self) -> &Reference {
        &self.inner
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full())
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Splits `name[:tag][@digest]` into the name and the tag; a `:` before the last `/` is a
/// registry port, not a tag.
fn split_tag(input: &str) -> (&str, Option<&str>) {
    let without_digest = input.split_once('@').map_or(input, |(n, _)| n);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest[last_slash..].rfind(':') {
        Some(i) => (
            &without_digest[..last_slash + i],
            Some(&without_digest[last_slash + i + 1..]),
        ),
        None => (without_digest, None),
    }
}

/// Docker's rule: the first path component is a registry when it looks like a host.
fn is_domain(component: &str) -> bool {
    component.contains('.') || component.contains(':') || component == "localhost"
}

fn valid_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    matches!(chars.next(), Some(c) if word(c))
        && tag.len() <= 128
        && chars.all(|c| word(c) || c == '.' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_table() {
        let cases = [
            (
                "busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "busybox:1.36",
                "docker.io/library/busybox:1.36",
                "busybox:1.36",
            ),
            (
                "library/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "docker.io/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "index.docker.io/library/busybox:x",
                "docker.io/library/busybox:x",
                "busybox:x",
            ),
            ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
            (
                "ghcr.io/o/app:1.2",
                "ghcr.io/o/app:1.2",
                "ghcr.io/o/app:1.2",
            ),
            (
                "localhost:5000/app",
                "localhost:5000/app:latest",
                "localhost:5000/app:latest",
            ),
            (
                "localhost/app:dev",
                "localhost/app:dev",
                "localhost/app:dev",
            ),
            (
                "berth/hello",
                "docker.io/berth/hello:latest",
                "berth/hello:latest",
            ),
            (
                "Registry.Example.com/app",
                "Registry.Example.com/app:latest",
                "Registry.Example.com/app:latest",
            ),
        ];
        for (input, full, familiar) in cases {
            let r = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.full(), full, "{input}");
            assert_eq!(r.familiar(), familiar, "{input}");
        }
        let digest = format!("sha256:{}", "ab".repeat(32));
        let r = ImageRef::parse(&format!("busybox@{digest}")).unwrap();
        assert_eq!(r.repository(), "docker.io/library/busybox");
        assert_eq!(r.digest(), Some(digest.as_str()));
        assert_eq!(r.tag(), None);
    }

    #[test]
    fn invalid_references_are_clear_errors() {
        assert_eq!(ImageRef::parse(""), Err(ReferenceError::Empty));
        assert_eq!(ImageRef::parse("  "), Err(ReferenceError::Empty));
        assert!(matches!(
            ImageRef::parse("BusyBox"),
            Err(ReferenceError::Uppercase { .. })
        ));
        assert!(matches!(
            ImageRef::parse("ghcr.io/Owner/app"),
            Err(ReferenceError::Uppercase { .. })
        ));
        for bad_tag in ["busybox:bad tag", "busybox:-x", "busybox:a/b@", "busybox:"] {
            let err = ImageRef::parse(bad_tag).unwrap_err();
            assert!(
                matches!(
                    err,
                    ReferenceError::InvalidTag { .. } | ReferenceError::Format { .. }
                ),
                "{bad_tag}: {err}"
            );
        }
        let err = ImageRef::parse("busybox:bad!tag").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid reference \"busybox:bad!tag\": tag \"bad!tag\" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
        );
        assert!(matches!(
            ImageRef::parse(&"a".repeat(64)),
            Err(ReferenceError::HexName { .. })
        ));
        for bad in ["a//b", "/abs", "x y", "app@sha256:123", "-app"] {
            assert!(ImageRef::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
