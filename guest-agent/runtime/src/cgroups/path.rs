//! Turns the spec's `linux.cgroupsPath` into a cgroup path relative to a hierarchy root.
//!
//! The path comes from a bundle, so it is hostile input: it must never climb out of the
//! hierarchy (`..`), smuggle a NUL, or name the root cgroup itself — destroying the root
//! would kill every process on the machine.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::CgroupError;

/// Where containers live when the spec gives no path or a relative one.
pub(crate) const DEFAULT_PARENT: &str = "/berth";

/// The normalised absolute cgroup path, e.g. `/berth/abc`.
pub(crate) fn resolve(cgroups_path: Option<&Path>, id: &str) -> Result<PathBuf, CgroupError> {
    let Some(requested) = cgroups_path else {
        check_id(id)?;
        return Ok(Path::new(DEFAULT_PARENT).join(id));
    };
    let bytes = requested.as_os_str().as_bytes();
    let invalid = |reason| CgroupError::InvalidPath {
        path: requested.to_path_buf(),
        reason,
    };
    if bytes.contains(&0) {
        return Err(invalid("it contains a NUL byte"));
    }
    if is_systemd_form(requested) {
        return Err(CgroupError::SystemdPath(requested.to_path_buf()));
    }
    let mut resolved = PathBuf::from("/");
    if requested.is_relative() {
        resolved.push(&DEFAULT_PARENT[1..]);
    }
    for component in requested.components() {
        match component {
            Component::Normal(name) => resolved.push(name),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => return Err(invalid("it contains a '..' component")),
            Component::Prefix(_) => return Err(invalid("it has a path prefix")),
        }
    }
    if resolved == Path::new("/") {
        return Err(invalid("it names the root cgroup"));
    }
    if resolved == Path::new(DEFAULT_PARENT) {
        return Err(invalid(
            "it names the parent cgroup shared by all containers",
        ));
    }
    Ok(resolved)
}

/// "slice:prefix:name", the form runc's systemd cgroup driver takes.
fn is_systemd_form(path: &Path) -> bool {
    let bytes = path.as_os_str().as_bytes();
    path.is_relative() && !bytes.contains(&b'/') && bytes.split(|b| *b == b':').count() == 3
}

/// A container id becomes one directory name.
fn check_id(id: &str) -> Result<(), CgroupError> {
    let bad = id.is_empty() || id == "." || id == ".." || id.contains(['/', '\0']);
    if bad {
        return Err(CgroupError::InvalidId(id.to_owned()));
    }
    Ok(())
}

/// The path below a hierarchy mount: `root` joined with `relative` minus its leading '/'.
pub(crate) fn under(root: &Path, relative: &Path) -> PathBuf {
    let inner = relative.strip_prefix("/").unwrap_or(relative);
    root.join(inner)
}

/// `relative` and its ancestors below the root, outermost first: `/a/b` => [`/a`, `/a/b`].
pub(crate) fn ancestry(relative: &Path) -> Vec<PathBuf> {
    let mut levels: Vec<PathBuf> = relative
        .ancestors()
        .filter(|p| p.as_os_str() != OsStr::new("/") && !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .collect();
    levels.reverse();
    levels
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    fn ok(path: Option<&str>, id: &str) -> String {
        let resolved = resolve(path.map(Path::new), id).expect("path accepted");
        resolved.to_string_lossy().into_owned()
    }

    #[test]
    fn default_relative_and_absolute_paths() {
        assert_eq!(ok(None, "abc"), "/berth/abc");
        assert_eq!(ok(Some("/custom/x"), "abc"), "/custom/x");
        assert_eq!(ok(Some("/custom//x/./"), "abc"), "/custom/x");
        assert_eq!(ok(Some("pods/x"), "abc"), "/berth/pods/x");
        assert_eq!(ok(Some("./x"), "abc"), "/berth/x");
    }

    #[test]
    fn hostile_paths_are_rejected() {
        for bad in [
            "/a/../../etc",
            "..",
            "x/../..",
            "/",
            "",
            "//",
            "./",
            "/berth/",
        ] {
            let err = resolve(Some(Path::new(bad)), "id").expect_err(bad);
            assert!(
                matches!(err, CgroupError::InvalidPath { .. }),
                "{bad}: {err}"
            );
        }
        let nul = OsString::from_vec(b"/a\0b".to_vec());
        assert!(resolve(Some(Path::new(&nul)), "id").is_err());
    }

    #[test]
    fn hostile_ids_are_rejected() {
        for bad in ["", ".", "..", "a/b", "a\0"] {
            assert!(matches!(resolve(None, bad), Err(CgroupError::InvalidId(_))));
        }
    }

    #[test]
    fn systemd_form_is_explained() {
        let err = resolve(Some(Path::new("system.slice:berth:abc")), "abc").unwrap_err();
        assert!(matches!(err, CgroupError::SystemdPath(_)));
        assert!(err.to_string().contains("cgroupfs"), "{err}");
        // A colon inside an ordinary path stays a cgroupfs name.
        assert_eq!(ok(Some("/a:b:c"), "x"), "/a:b:c");
    }

    #[test]
    fn ancestry_and_under() {
        let levels = ancestry(Path::new("/berth/pod/abc"));
        let expected = ["/berth", "/berth/pod", "/berth/pod/abc"].map(PathBuf::from);
        assert_eq!(levels, expected);
        let full = under(Path::new("/sys/fs/cgroup/memory"), Path::new("/berth/abc"));
        assert_eq!(full, Path::new("/sys/fs/cgroup/memory/berth/abc"));
    }
}
