//! Volume names: docker's rule for the local driver, `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, which
//! already keeps out `/`, an empty name and `.`/`..`; Berth also refuses `..` anywhere and
//! names longer than a file name may be. Names come from API clients and become directory
//! names under the volumes directory, so they are checked before any path is built.

use std::io::{self, Read};

use super::error::VolumeError;

/// A file name's limit (NAME_MAX).
const MAX_LEN: usize = 255;

pub(super) fn validate(name: &str) -> Result<(), VolumeError> {
    let invalid = |reason| {
        Err(VolumeError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return invalid("is empty");
    };
    if name.len() < 2 {
        return invalid("is too short: at least 2 characters are needed");
    }
    if name.len() > MAX_LEN {
        return invalid("is longer than 255 characters");
    }
    if !first.is_ascii_alphanumeric() {
        return invalid("must start with a letter or a digit");
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return invalid(
            "includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
        );
    }
    if name.contains("..") {
        return invalid("must not contain \"..\"");
    }
    Ok(())
}

/// 32 random bytes as 64 hex digits: the name of an anonymous volume (like docker's) and of
/// temporary directories.
pub(super) fn random_hex() -> io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        let valid = ["ab", "db-data", "my_vol.1", "A9", &"a".repeat(255)];
        for name in valid {
            validate(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let long = "a".repeat(256);
        let invalid = [
            "", "a", "..", ".hidden", "-x", "_x", "a/b", "../etc", "a..b", "a b", "vol\0", "ü-vol",
            "a\\b", &long,
        ];
        for name in invalid {
            assert!(
                matches!(validate(name), Err(VolumeError::InvalidName { .. })),
                "{name:?} accepted"
            );
        }
    }

    #[test]
    fn random_names_are_64_hex_digits_and_differ() {
        let a = random_hex().unwrap();
        let b = random_hex().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        validate(&a).unwrap();
    }
}
