//! A fast path for the reference shapes people type (`busybox`, `user/app:1.2`,
//! `registry.example:5000/team/app@sha256:<64 hex>`): accepted only when every part is in a
//! deliberately narrow subset of the distribution grammar, and then normalised exactly as
//! `oci_spec::distribution::Reference` does. Anything else returns `None` and goes to the
//! crate's full parser, so this path can only ever accept a subset of what the crate
//! accepts (the test below checks that they agree).

use oci_spec::distribution::Reference;

const DOCKER_HUB: &str = "docker.io";
const MAX_NAME: usize = 255;

pub fn parse(input: &str) -> Option<Reference> {
    let (rest, digest) = match input.split_once('@') {
        Some((name, digest)) => (name, Some(sha256_digest(digest)?)),
        None => (input, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let first_ok = tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        let rest_ok = tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !(first_ok && rest_ok && tag.len() <= 128) {
            return None;
        }
    }
    let (registry, path) = match name.split_once('/') {
        Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => {
            (domain(first)?, path)
        }
        _ => (DOCKER_HUB.to_string(), name),
    };
    if !path.split('/').all(path_component) {
        return None;
    }
    let repository = if registry == DOCKER_HUB && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_string()
    };
    if repository.len() > MAX_NAME {
        return None;
    }
    Some(match (tag, digest) {
        (Some(tag), Some(digest)) => {
            Reference::with_tag_and_digest(registry, repository, tag.into(), digest)
        }
        (Some(tag), None) => Reference::with_tag(registry, repository, tag.into()),
        (None, Some(digest)) => Reference::with_digest(registry, repository, digest),
        (None, None) => Reference::with_tag(registry, repository, "latest".into()),
    })
}

/// `[a-z0-9]+` separated by single `.`, `_` or `-` (a subset of the grammar's separators).
fn path_component(part: &str) -> bool {
    !part.is_empty()
        && part.split(['.', '_', '-']).all(|run| {
            !run.is_empty()
                && run
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// DNS labels of letters, digits and inner hyphens, dot-separated, with an optional port.
fn domain(text: &str) -> Option<String> {
    let (host, port) = match text.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (host.split('.').all(label_ok) && port_ok).then(|| {
        // The legacy Docker Hub host is the same registry.
        if text == "index.docker.io" {
            DOCKER_HUB.to_string()
        } else {
            text.to_string()
        }
    })
}

fn sha256_digest(text: &str) -> Option<String> {
    let hex = text.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_agrees_with_the_crate_or_declines() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let inputs = [
            "busybox".to_string(),
            "busybox:1.36".into(),
            "library/busybox".into(),
            "user/app".into(),
            "user/app:v1.2-rc_3".into(),
            "ghcr.io/o/app:1".into(),
            "localhost/app".into(),
            "localhost:5000/team/app:latest".into(),
            "registry.example:5000/a/b/c".into(),
            "index.docker.io/library/alpine".into(),
            "docker.io/nginx".into(),
            "my-app.v2".into(),
            format!("busybox@{digest}"),
            format!("busybox:1@{digest}"),
            // Shapes the fast path declines; the crate decides.
            "a__b".into(),
            "a---b".into(),
            "UPPER.example/app".into(),
            "app:".into(),
            "app:-x".into(),
            "/app".into(),
            "app//x".into(),
            "app@sha512:abc".into(),
            "ex ample".into(),
        ];
        for input in &inputs {
            let fast = parse(input);
            let full = Reference::try_from(input.as_str()).ok();
            if let Some(fast) = fast {
                let full = full.unwrap_or_else(|| {
                    panic!("{input}: fast path accepted what the crate refuses")
                });
                assert_eq!(fast.whole(), full.whole(), "{input}");
                assert_eq!(fast.registry(), full.registry(), "{input}");
                assert_eq!(fast.repository(), full.repository(), "{input}");
                assert_eq!(fast.tag(), full.tag(), "{input}");
                assert_eq!(fast.digest(), full.digest(), "{input}");
            }
        }
        // The common shapes really take the fast path.
        for common in [
            "busybox",
            "user/app:1",
            "ghcr.io/o/app:1",
            "localhost:5000/a:b",
        ] {
            assert!(parse(common).is_some(), "{common}");
        }
    }
}
