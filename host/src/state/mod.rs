//! Where Berth keeps its files. Data that must survive (the VM's disk, settings) goes in the
//! data directory; sockets, pid files and the console log go in the runtime directory,
//! which may be a tmpfs cleared at logout.
//!
//! `BERTH_HOME` puts everything under one directory (tests, portable installs):
//! data in `$BERTH_HOME`, runtime files in `$BERTH_HOME/run`.

mod lock;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use lock::{LockError, VmLock};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("Cannot find a home directory for Berth's files; set BERTH_HOME")]
    NoHome,
    #[error("Cannot create {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Which platform's conventions to follow (a value, so all three are testable anywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
}

impl Platform {
    pub fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }
}

/// Berth's two directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDirs {
    /// Kept forever: the data disk, settings.
    pub data: PathBuf,
    /// Sockets, pid files, the console log, the VM lock.
    pub run: PathBuf,
}

impl StateDirs {
    /// The directories for this user on this platform, honouring `BERTH_HOME`.
    pub fn from_env() -> Result<StateDirs, StateError> {
        StateDirs::resolve(Platform::current(), |name| std::env::var_os(name))
    }

    /// Everything under one directory, as `BERTH_HOME` does.
    pub fn at(home: impl Into<PathBuf>) -> StateDirs {
        let data = home.into();
        StateDirs {
            run: data.join("run"),
            data,
        }
    }

    /// The path rules, with the environment passed in.
    pub fn resolve(
        platform: Platform,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<StateDirs, StateError> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(home) = var("BERTH_HOME") {
            return Ok(StateDirs::at(home));
        }
        match platform {
            Platform::Linux => {
                let data = var("XDG_DATA_HOME")
                    .or_else(|| var("HOME").map(|h| h.join(".local/share")))
                    .ok_or(StateError::NoHome)?
                    .join("berth");
                // XDG_RUNTIME_DIR is short and private: the best home for sockets, whose
                // paths must stay under 108 bytes.
                let run = var("XDG_RUNTIME_DIR")
                    .map(|r| r.join("berth"))
                    .unwrap_or_else(|| data.join("run"));
                Ok(StateDirs { data, run })
            }
            Platform::MacOs => Ok(StateDirs::at(
                var("HOME")
                    .ok_or(StateError::NoHome)?
                    .join("Library/Application Support/Berth"),
            )),
            Platform::Windows => Ok(StateDirs::at(
                var("LOCALAPPDATA").ok_or(StateError::NoHome)?.join("Berth"),
            )),
        }
    }

    /// Creates both directories (the runtime one private to the user).
    pub fn create(&self) -> Result<(), StateError> {
        for dir in [&self.data, &self.run] {
            create_private_dir(dir)?;
        }
        Ok(())
    }

    /// The VM's data disk.
    pub fn disk(&self) -> PathBuf {
        self.data.join("data.img")
    }

    /// Takes the VM lock (see [`VmLock`]).
    pub fn lock_vm(&self) -> Result<VmLock, LockError> {
        VmLock::acquire(&self.run.join("vm.lock"))
    }
}

fn create_private_dir(dir: &Path) -> Result<(), StateError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| StateError::Create {
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn platform_rules() {
        type Case<'a> = (Platform, &'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                Platform::Linux,
                &[("HOME", "/home/a")],
                "/home/a/.local/share/berth",
                "/home/a/.local/share/berth/run",
            ),
            (
                Platform::Linux,
                &[
                    ("HOME", "/home/a"),
                    ("XDG_DATA_HOME", "/d"),
                    ("XDG_RUNTIME_DIR", "/run/user/1"),
                ],
                "/d/berth",
                "/run/user/1/berth",
            ),
            (
                Platform::Linux,
                &[("HOME", "/home/a"), ("BERTH_HOME", "/b")],
                "/b",
                "/b/run",
            ),
            (
                Platform::MacOs,
                &[("HOME", "/Users/a")],
                "/Users/a/Library/Application Support/Berth",
                "/Users/a/Library/Application Support/Berth/run",
            ),
            (
                Platform::Windows,
                &[("LOCALAPPDATA", "C:/Users/a/AppData/Local")],
                "C:/Users/a/AppData/Local/Berth",
                "C:/Users/a/AppData/Local/Berth/run",
            ),
        ];
        for (platform, vars, data, run) in cases {
            let dirs = StateDirs::resolve(*platform, env(vars)).unwrap();
            assert_eq!(dirs.data, PathBuf::from(data), "{platform:?} {vars:?}");
            assert_eq!(dirs.run, PathBuf::from(run), "{platform:?} {vars:?}");
        }
        assert!(matches!(
            StateDirs::resolve(Platform::Linux, env(&[])),
            Err(StateError::NoHome)
        ));
    }
}
