//! Which bind mount sources a container may name. In the VM only the folders shared from
//! the host (mounted at their host paths) and a few of Berth's own paths (volumes, the API
//! socket) mean anything to the user; any other path is the VM's own filesystem, which a
//! `docker run -v /etc:/x` on the host never meant. Such a bind is refused, as Docker
//! Desktop refuses it ("Mounts denied"). Natively on Linux no policy is set and every path
//! is allowed.
//!
//! Sources are resolved before the check (symlinks, `..`), so `/Users/me/../../etc` or a
//! symlink inside a share pointing out of it is refused too.

use std::path::{Component, Path, PathBuf};

use super::{ConfigError, ContainerConfig, MountConfig};

/// The folders bind sources must lie in (resolved once, when the policy is made).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedPaths {
    allowed: Vec<PathBuf>,
}

impl SharedPaths {
    /// `shared`: the host folders the VM mounted; `internal`: Berth's own paths a bind may
    /// name.
    pub fn new(shared: &[PathBuf], internal: &[PathBuf]) -> SharedPaths {
        SharedPaths {
            allowed: shared.iter().chain(internal).map(|p| resolve(p)).collect(),
        }
    }

    /// Refuses the first bind mount whose source lies outside every allowed folder.
    pub fn check(&self, config: &ContainerConfig) -> Result<(), ConfigError> {
        for mount in &config.mounts {
            if let MountConfig::Bind { source, .. } = mount {
                if !self.allows(source) {
                    return Err(ConfigError::MountDenied(source.clone()));
                }
            }
        }
        Ok(())
    }

    pub fn allows(&self, source: &Path) -> bool {
        let resolved = resolve(source);
        self.allowed.iter().any(|dir| resolved.starts_with(dir))
    }
}

/// `path` with symlinks and `..` resolved: its longest existing prefix canonicalized, the
/// rest (which does not exist yet, so holds no symlink) cleaned lexically.
pub fn resolve(path: &Path) -> PathBuf {
    let components: Vec<Component> = path.components().collect();
    let (mut base, rest) = (1..=components.len())
        .rev()
        .find_map(|split| {
            let prefix: PathBuf = components[..split].iter().collect();
            Some((prefix.canonicalize().ok()?, &components[split..]))
        })
        .unwrap_or((PathBuf::from("/"), &components[..]));
    for component in rest {
        match component {
            Component::Normal(name) => base.push(name),
            Component::ParentDir => {
                base.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(source: &str) -> ContainerConfig {
        ContainerConfig {
            image: "x".into(),
            mounts: vec![MountConfig::Bind {
                source: source.into(),
                target: "/x".into(),
                readonly: false,
                propagation: Default::default(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn sources_are_resolved_before_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let share = dir.path().join("share");
        std::fs::create_dir_all(share.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc", share.join("out")).unwrap();
        std::os::unix::fs::symlink("sub", share.join("in")).unwrap();
        let policy = SharedPaths::new(std::slice::from_ref(&share), &["/var/lib/v".into()]);
        let s = share.display();
        let cases = [
            (format!("{s}"), true),
            (format!("{s}/sub"), true),
            (format!("{s}/in"), true),
            (format!("{s}/not/yet/there"), true),
            (format!("{s}/sub/../sub"), true),
            ("/var/lib/v/data".into(), true),
            ("/etc".into(), false),
            (format!("{s}/out"), false),
            (format!("{s}/out/passwd"), false),
            (format!("{s}/../../etc"), false),
            (format!("{s}/missing/../../.."), false),
            (format!("{s}-sibling"), false),
            ("/".into(), false),
            ("/var/lib".into(), false),
        ];
        for (source, allowed) in cases {
            let got = policy.check(&bind(&source));
            assert_eq!(got.is_ok(), allowed, "{source}: {got:?}");
            if let Err(e) = got {
                assert_eq!(
                    e.to_string(),
                    format!(
                        "Mounts denied: the path {source} is not shared from the host and is not known to Berth"
                    )
                );
            }
        }
    }

    #[test]
    fn named_volumes_and_tmpfs_are_not_binds() {
        let policy = SharedPaths::new(&[], &[]);
        let config = ContainerConfig {
            image: "x".into(),
            mounts: vec![
                MountConfig::Volume {
                    name: "data".into(),
                    target: "/data".into(),
                    readonly: false,
                },
                MountConfig::Tmpfs {
                    target: "/t".into(),
                    size: None,
                    mode: None,
                },
            ],
            ..Default::default()
        };
        assert!(policy.check(&config).is_ok());
        assert!(policy.check(&bind("/home")).is_err());
    }

    #[test]
    fn resolve_cleans_what_does_not_exist() {
        assert_eq!(
            resolve(Path::new("/no/such/../thing/.")),
            Path::new("/no/thing")
        );
        assert_eq!(resolve(Path::new("/no/such/../../..")), Path::new("/"));
    }
}
