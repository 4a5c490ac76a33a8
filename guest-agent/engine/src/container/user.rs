//! `--user` resolved the way docker does, against the container's own /etc/passwd and
//! /etc/group: `name`, `uid`, `name:group`, `uid:gid`. Numeric ids need no file; names
//! must exist. With no group given, the user's primary group comes from passwd and the
//! supplementary groups are the /etc/group entries that list the user by name.
//!
//! Both files belong to the image and are hostile: they are opened below an fd of the
//! rootfs with RESOLVE_IN_ROOT (a symlink `/etc/passwd -> /host/etc/shadow` stays
//! inside), must be regular files (a FIFO would block the engine), and are read up to
//! [`MAX_FILE`] bytes; malformed lines are skipped.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use berth_runtime::rootfs::safe_path::RootFs;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

/// Larger passwd/group files are refused rather than read into the engine's memory.
pub const MAX_FILE: u64 = 1024 * 1024;

/// The largest id docker accepts (ids are signed 32-bit in much of userspace).
const MAX_ID: u32 = i32::MAX as u32;

/// Why a user could not be resolved. The "unable to find" texts are docker's own.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
    #[error("Invalid user {0:?}: uids and gids must be in range 0-2147483647")]
    OutOfRange(String),
    #[error("Cannot open the container's root filesystem")]
    Root(#[source] berth_runtime::RuntimeError),
    #[error("Cannot read {0} in the container")]
    Read(&'static str, #[source] std::io::Error),
    #[error("{0} in the container is not a regular file")]
    NotAFile(&'static str),
    #[error("{0} in the container is larger than 1 MiB")]
    TooLarge(&'static str),
}

type Result<T> = std::result::Result<T, UserError>;

/// The ids and home directory the container's process runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    /// From passwd; `/` when the user has no entry (docker's default for HOME).
    pub home: String,
}

#[derive(Debug)]
struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

#[derive(Debug)]
struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// Resolves `user` (`""` means root) inside the container rooted at `rootfs`.
pub fn resolve(rootfs: &Path, user: &str) -> Result<ResolvedUser> {
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let root = RootFs::open(rootfs).map_err(UserError::Root)?;
    let passwd = parse_passwd(&read_file(&root, "/etc/passwd")?.unwrap_or_default());
    let numeric = parse_id(user_part, user)?;
    let entry = passwd.iter().find(|e| match (user_part, numeric) {
        ("", _) => e.uid == 0,
        (_, Some(uid)) => e.uid == uid,
        (name, None) => e.name == name,
    });
    let mut out = match (entry, numeric) {
        (Some(e), _) => ResolvedUser {
            uid: e.uid,
            gid: e.gid,
            additional_gids: Vec::new(),
            home: e.home.clone(),
        },
        (None, Some(uid)) => ResolvedUser {
            uid,
            gid: 0,
            additional_gids: Vec::new(),
            home: "/".into(),
        },
        (None, None) if user_part.is_empty() => ResolvedUser {
            uid: 0,
            gid: 0,
            additional_gids: Vec::new(),
            home: "/".into(),
        },
        (None, None) => return Err(UserError::NoUser(user_part.to_string())),
    };
    let groups = || -> Result<Vec<GroupEntry>> {
        Ok(parse_group(
            &read_file(&root, "/etc/group")?.unwrap_or_default(),
        ))
    };
    match group_part {
        Some(group) if !group.is_empty() => out.gid = lookup_group(&groups()?, group, user)?,
        // Supplementary groups only in the implicit form, as docker does: an explicit
        // group means "exactly this group".
        _ => {
            if let Some(e) = entry {
                out.additional_gids = groups()?
                    .iter()
                    .filter(|g| g.members.contains(&e.name))
                    .map(|g| g.gid)
                    .collect();
            }
        }
    }
    Ok(out)
}

/// Resolves `--group-add` entries (names or ids) against the container's /etc/group.
pub fn resolve_groups(rootfs: &Path, names: &[String]) -> Result<Vec<u32>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let root = RootFs::open(rootfs).map_err(UserError::Root)?;
    let groups = parse_group(&read_file(&root, "/etc/group")?.unwrap_or_default());
    names
        .iter()
        .map(|name| lookup_group(&groups, name, name))
        .collect()
}

fn lookup_group(groups: &[GroupEntry], group: &str, whole: &str) -> Result<u32> {
    let numeric = parse_id(group, whole)?;
    let found = groups.iter().find(|g| match numeric {
        Some(gid) => g.gid == gid,
        None => g.name == group,
    });
    match (found, numeric) {
        (Some(g), _) => Ok(g.gid),
        (None, Some(gid)) => Ok(gid),
        (None, None) => Err(UserError::NoGroup(group.to_string())),
    }
}

/// `Some(id)` for a decimal id in docker's range, `None` for a name.
fn parse_id(text: &str, whole: &str) -> Result<Option<u32>> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(id) if id <= MAX_ID => Ok(Some(id)),
        _ => Err(UserError::OutOfRange(whole.to_string())),
    }
}

/// Reads a file of the image through the rootfs fd; `None` when it does not exist.
fn read_file(root: &RootFs, path: &'static str) -> Result<Option<String>> {
    // O_NONBLOCK: opening a FIFO planted by the image must not wait for a writer.
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
    let fd = match root.resolve(Path::new(path), flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ENOTDIR) => return Ok(None),
        Err(e) => return Err(UserError::Read(path, e.into())),
    };
    let file = File::from(fd);
    let meta = file.metadata().map_err(|e| UserError::Read(path, e))?;
    if !meta.is_file() {
        return Err(UserError::NotAFile(path));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| UserError::Read(path, e))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(UserError::TooLarge(path));
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// `name:password:uid:gid:gecos:home:shell`.
fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            Some(PasswdEntry {
                name: f.first()?.to_string(),
                uid: f.get(2)?.parse().ok().filter(|id| *id <= MAX_ID)?,
                gid: f.get(3)?.parse().ok().filter(|id| *id <= MAX_ID)?,
                home: f
                    .get(5)
                    .filter(|h| !h.is_empty())
                    .unwrap_or(&"/")
                    .to_string(),
            })
        })
        .collect()
}

/// `name:password:gid:member,member`.
fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            Some(GroupEntry {
                name: f.first()?.to_string(),
                gid: f.get(2)?.parse().ok().filter(|id| *id <= MAX_ID)?,
                members: f
                    .get(3)
                    .map(|m| m.split(',').filter(|s| !s.is_empty()).map(String::from))
                    .into_iter()
                    .flatten()
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        # a comment\n\
        broken line\n\
        app:x:1000:1000::/home/app:/bin/sh\n\
        svc:x:999:998:::/bin/false\n";
    const GROUP: &str = "root:x:0:\nwheel:x:10:app,other\napp:x:1000:\ndocker:x:998:app\n";

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/passwd"), PASSWD).unwrap();
        fs::write(dir.path().join("etc/group"), GROUP).unwrap();
        dir
    }

    #[test]
    fn user_specs_resolve_like_docker() {
        let root = rootfs();
        // (spec, uid, gid, additional gids, home)
        let cases: &[(&str, u32, u32, &[u32], &str)] = &[
            ("", 0, 0, &[], "/root"),
            ("root", 0, 0, &[], "/root"),
            ("app", 1000, 1000, &[10, 998], "/home/app"),
            ("1000", 1000, 1000, &[10, 998], "/home/app"),
            ("app:docker", 1000, 998, &[], "/home/app"),
            ("app:5", 1000, 5, &[], "/home/app"),
            ("4242", 4242, 0, &[], "/"),
            ("4242:4343", 4242, 4343, &[], "/"),
            ("svc", 999, 998, &[], "/"),
        ];
        for &(spec, uid, gid, extra, home) in cases {
            let got = resolve(root.path(), spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            let want = ResolvedUser {
                uid,
                gid,
                additional_gids: extra.to_vec(),
                home: home.into(),
            };
            assert_eq!(got, want, "{spec:?}");
        }
    }

    #[test]
    fn unknown_names_and_bad_ids_are_refused() {
        let root = rootfs();
        let err = resolve(root.path(), "nobody").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unable to find user nobody: no matching entries in passwd file"
        );
        assert!(
            matches!(resolve(root.path(), "app:staff"), Err(UserError::NoGroup(g)) if g == "staff")
        );
        assert!(matches!(
            resolve(root.path(), "2147483648"),
            Err(UserError::OutOfRange(_))
        ));
        assert_eq!(
            resolve_groups(root.path(), &["wheel".into(), "77".into()]).unwrap(),
            [10, 77]
        );
        assert!(resolve_groups(root.path(), &["staff".into()]).is_err());
    }

    #[test]
    fn hostile_passwd_files_stay_inside_and_are_bounded() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(
            outside.path().join("passwd"),
            "evil:x:4711:4711::/:/bin/sh\n",
        )
        .unwrap();
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("etc")).unwrap();
        // An absolute symlink resolves inside the root, where it names nothing.
        std::os::unix::fs::symlink(
            outside.path().join("passwd"),
            root.path().join("etc/passwd"),
        )
        .unwrap();
        assert!(matches!(
            resolve(root.path(), "evil"),
            Err(UserError::NoUser(_))
        ));
        assert_eq!(resolve(root.path(), "12").unwrap().uid, 12);

        fs::remove_file(root.path().join("etc/passwd")).unwrap();
        nix::unistd::mkfifo(
            &root.path().join("etc/passwd"),
            Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        assert!(matches!(
            resolve(root.path(), "app"),
            Err(UserError::NotAFile(_))
        ));

        fs::remove_file(root.path().join("etc/passwd")).unwrap();
        fs::write(
            root.path().join("etc/passwd"),
            vec![b'#'; MAX_FILE as usize + 1],
        )
        .unwrap();
        assert!(matches!(
            resolve(root.path(), "app"),
            Err(UserError::TooLarge(_))
        ));
    }
}
