//! Archive paths are hostile: they are reduced to clean relative names before any use,
//! and a name that is absolute or climbs with `..` is refused rather than "fixed".

use std::path::{Component, Path};

/// An archive entry name (or link target) that was refused.
#[derive(Debug, thiserror::Error)]
#[error("Refused archive entry {name:?}: {reason}")]
pub struct BadName {
    pub name: String,
    pub reason: &'static str,
}

/// A hostile-safe archive path: relative, no `..`, UTF-8, `./` prefixes dropped.
pub fn clean_name(raw: &Path) -> Result<String, BadName> {
    let bad = |reason| BadName {
        name: raw.display().to_string(),
        reason,
    };
    let mut parts = Vec::new();
    for c in raw.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().ok_or(bad("name is not UTF-8"))?),
            Component::CurDir => {}
            Component::ParentDir => return Err(bad("name contains '..'")),
            Component::RootDir | Component::Prefix(_) => return Err(bad("name is absolute")),
        }
    }
    Ok(parts.join("/"))
}

/// The archive path a symlink at `link` points to. Its target is relative to the link's
/// directory and may use `..` (legacy `docker save` writes `../<id>/layer.tar`), but
/// never to climb out of the archive, and it is never absolute.
pub fn symlink_target(link: &str, target: &Path) -> Result<String, BadName> {
    let bad = |reason| BadName {
        name: link.to_owned(),
        reason,
    };
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for c in target.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().ok_or(bad("target is not UTF-8"))?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts
                    .pop()
                    .ok_or(bad("symlink points outside the archive"))?;
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(bad("symlink target is absolute"))
            }
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_or_refused() {
        let ok = [
            ("./manifest.json", "manifest.json"),
            ("blobs/sha256/ab", "blobs/sha256/ab"),
            ("./", ""),
        ];
        for (raw, clean) in ok {
            assert_eq!(clean_name(Path::new(raw)).unwrap(), clean, "{raw}");
        }
        for raw in ["../x", "a/../../x", "/etc/passwd", "a/.."] {
            assert!(clean_name(Path::new(raw)).is_err(), "{raw}");
        }
    }

    #[test]
    fn symlink_targets_stay_inside() {
        let t = |link, target: &str| symlink_target(link, Path::new(target));
        assert_eq!(
            t("l2/layer.tar", "../l1/layer.tar").unwrap(),
            "l1/layer.tar"
        );
        assert_eq!(t("a/b/c", "./d").unwrap(), "a/b/d");
        assert!(t("l2/layer.tar", "../../etc/passwd").is_err());
        assert!(t("x", "/etc/passwd").is_err());
    }
}
