//! Container ids and names: ids are 64 random hex digits; names follow docker's rules and,
//! when not given, are made from two short word lists.

use std::io::Read;

/// docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (a leading `/` is accepted and dropped).
pub fn validate_name(name: &str) -> Result<String, String> {
    let name = name.strip_prefix('/').unwrap_or(name);
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if first_ok && rest_ok && name.len() >= 2 && name.len() <= 253 {
        Ok(name.to_string())
    } else {
        Err(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        ))
    }
}

/// 32 bytes from the kernel's CSPRNG, as 64 hex digits (docker's id shape).
pub fn new_id() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

const ADJECTIVES: &[&str] = &[
    "brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "keen", "lively", "merry",
    "nimble", "proud", "quiet", "sharp", "steady", "swift", "tidy", "vivid", "witty", "zen",
];
const NOUNS: &[&str] = &[
    "anchor", "beacon", "buoy", "cove", "dock", "ferry", "harbor", "jetty", "keel", "lagoon",
    "mast", "mooring", "pier", "quay", "reef", "rudder", "schooner", "sloop", "tide", "wharf",
];

/// A readable name such as `swift_harbor`, picked from the id's bytes; `taken` decides
/// whether a candidate is free (a numeric suffix is added after collisions).
pub fn generate_name(id: &str, taken: impl Fn(&str) -> bool) -> String {
    let bytes = hex::decode(&id[..8.min(id.len())]).unwrap_or_default();
    let a = bytes.first().copied().unwrap_or(0) as usize;
    let n = bytes.get(1).copied().unwrap_or(0) as usize;
    let base = format!(
        "{}_{}",
        ADJECTIVES[a % ADJECTIVES.len()],
        NOUNS[n % NOUNS.len()]
    );
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|i| format!("{base}{i}"))
        .find(|candidate| !taken(candidate))
        .expect("an unbounded range always yields a free name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        for good in ["web", "/web", "a1", "my_app.v2-x"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        assert_eq!(validate_name("/web").unwrap(), "web");
        for bad in ["", "a", "_x", "-x", "a/b", "../x", "a b", "ä1"] {
            let err = validate_name(bad).unwrap_err();
            assert!(err.contains("Invalid container name"), "{bad}: {err}");
        }
    }

    #[test]
    fn ids_are_64_hex_and_generated_names_avoid_collisions() {
        let id = new_id().unwrap();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, new_id().unwrap());
        let first = generate_name(&id, |_| false);
        let second = generate_name(&id, |n| n == first);
        assert_ne!(first, second);
        assert!(second.starts_with(&first));
        assert!(validate_name(&first).is_ok());
    }
}
