//! The user's settings: `settings.json` in the data directory, read by the daemon when it
//! boots the VM and edited by `berth config`. A missing file means the defaults; a field
//! missing from the file takes its default, so files written by older versions still load.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::Share;
use crate::state::StateDirs;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("Cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid settings")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("Cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Unknown setting {0:?}; the settings are: {keys}", keys = KEYS.join(", "))]
    UnknownKey(String),
    #[error("Invalid value for {key}: {reason}")]
    Invalid { key: String, reason: String },
}

/// Every key `berth config` knows, in display order.
pub const KEYS: &[&str] = &[
    "cpus",
    "memory_mib",
    "disk_size_gib",
    "shares",
    "bind_address",
    "vm_image",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub cpus: u32,
    pub memory_mib: u64,
    /// The data disk's size when it is created (an existing disk is never resized).
    pub disk_size_gib: u64,
    /// Host folders mounted in the VM at the same absolute path.
    pub shares: Vec<PathBuf>,
    /// Where published ports listen on the host when the container asked for the default
    /// (loopback). `0.0.0.0` exposes them to the LAN: an opt-in, never the default.
    pub bind_address: IpAddr,
    /// The guest image directory (vmlinuz + initramfs.cpio); unset = the built-in search.
    pub vm_image: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            cpus: 2,
            memory_mib: 2048,
            disk_size_gib: 64,
            shares: home_dir().into_iter().collect(),
            bind_address: IpAddr::from([127, 0, 0, 1]),
            vm_image: None,
        }
    }
}

/// What a `set` changed, for the CLI's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The running VM keeps the old value until `berth restart`.
    pub needs_restart: bool,
    /// Said once: e.g. the disk size applies only to a new disk.
    pub note: Option<String>,
}

impl Settings {
    pub fn path(dirs: &StateDirs) -> PathBuf {
        dirs.data.join("settings.json")
    }

    /// The settings in `dirs`, or the defaults when there is no file yet.
    pub fn load(dirs: &StateDirs) -> Result<Settings, SettingsError> {
        Settings::load_from(&Settings::path(dirs))
    }

    pub fn load_from(path: &Path) -> Result<Settings, SettingsError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| SettingsError::Parse {
                path: path.to_path_buf(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(source) => Err(SettingsError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes the file atomically (a temp file renamed over it): a crash never leaves
    /// half a settings file.
    pub fn save(&self, dirs: &StateDirs) -> Result<(), SettingsError> {
        let path = Settings::path(dirs);
        let write_err = |source| SettingsError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let mut text = serde_json::to_vec_pretty(self).expect("settings always serialize");
        text.push(b'\n');
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(write_err)?;
        std::fs::rename(&tmp, &path).map_err(write_err)
    }

    /// One setting as `berth config get` prints it.
    pub fn get(&self, key: &str) -> Result<String, SettingsError> {
        Ok(match key {
            "cpus" => self.cpus.to_string(),
            "memory_mib" => self.memory_mib.to_string(),
            "disk_size_gib" => self.disk_size_gib.to_string(),
            "shares" => join_paths(&self.shares),
            "bind_address" => self.bind_address.to_string(),
            "vm_image" => self
                .vm_image
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            other => return Err(SettingsError::UnknownKey(other.into())),
        })
    }

    /// Sets one setting from its text form (`shares` is a comma-separated list of absolute
    /// paths, empty for none; an empty `vm_image` restores the default search).
    pub fn set(&mut self, key: &str, value: &str) -> Result<Change, SettingsError> {
        let invalid = |reason: &str| SettingsError::Invalid {
            key: key.into(),
            reason: reason.into(),
        };
        let restart = Change {
            needs_restart: true,
            note: None,
        };
        match key {
            "cpus" => {
                self.cpus = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or_else(|| invalid("a number of CPUs from 1 to 256"))?;
            }
            "memory_mib" => {
                self.memory_mib = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n >= 256)
                    .ok_or_else(|| invalid("a size in MiB, at least 256"))?;
            }
            "disk_size_gib" => {
                self.disk_size_gib = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| invalid("a size in GiB, at least 1"))?;
                return Ok(Change {
                    needs_restart: false,
                    note: Some(
                        "The size applies when the data disk is created: after `berth reset`"
                            .into(),
                    ),
                });
            }
            "shares" => self.shares = parse_shares(value).map_err(|r| invalid(&r))?,
            "bind_address" => {
                self.bind_address = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid("an IP address such as 127.0.0.1"))?;
                // The daemon reads it when it opens each port's listener.
                return Ok(Change {
                    needs_restart: true,
                    note: Some("Ports already published keep their listeners".into()),
                });
            }
            "vm_image" => {
                let value = value.trim();
                self.vm_image = (!value.is_empty()).then(|| PathBuf::from(value));
            }
            other => return Err(SettingsError::UnknownKey(other.into())),
        }
        Ok(restart)
    }

    /// The shares as the backend takes them. The home directory is tagged `home`; the
    /// others `share1`, `share2`... (tags are short and unique, as virtiofs wants).
    pub fn vm_shares(&self) -> Vec<Share> {
        let home = home_dir();
        self.shares
            .iter()
            .enumerate()
            .map(|(i, path)| Share {
                tag: match &home {
                    Some(h) if h == path => "home".into(),
                    _ => format!("share{}", i + 1),
                },
                host_path: path.clone(),
                read_only: false,
            })
            .collect()
    }

    /// The share that holds `dir`, if any (for mapping a cwd into the VM).
    pub fn share_holding(&self, dir: &Path) -> Option<&Path> {
        self.shares
            .iter()
            .map(PathBuf::as_path)
            .find(|share| dir.starts_with(share))
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_shares(value: &str) -> Result<Vec<PathBuf>, String> {
    let mut shares: Vec<PathBuf> = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(part);
        if !path.is_absolute() {
            return Err(format!("{part} is not an absolute path"));
        }
        // A share inside another is already visible through it.
        if shares
            .iter()
            .any(|s| path.starts_with(s) || s.starts_with(&path))
        {
            return Err(format!("{part} overlaps another share"));
        }
        shares.push(path);
    }
    Ok(shares)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_the_defaults_and_missing_fields_take_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        assert_eq!(Settings::load_from(&path).unwrap(), Settings::default());
        std::fs::write(&path, r#"{"cpus": 4, "shares": []}"#).unwrap();
        let s = Settings::load_from(&path).unwrap();
        assert_eq!((s.cpus, s.memory_mib, s.disk_size_gib), (4, 2048, 64));
        assert!(s.shares.is_empty());
        assert_eq!(s.bind_address.to_string(), "127.0.0.1");
        std::fs::write(&path, "{ not json").unwrap();
        let err = Settings::load_from(&path).unwrap_err();
        assert!(err.to_string().contains("is not valid settings"), "{err}");
    }

    #[test]
    fn set_validates_and_says_what_needs_a_restart() {
        let mut s = Settings::default();
        type Case<'a> = (&'a str, &'a str, Option<bool>);
        // (key, value, Some(needs_restart) or None for an error)
        let cases: &[Case] = &[
            ("cpus", "4", Some(true)),
            ("cpus", "0", None),
            ("cpus", "many", None),
            ("memory_mib", "4096", Some(true)),
            ("memory_mib", "100", None),
            ("disk_size_gib", "128", Some(false)),
            ("shares", "/a,/b", Some(true)),
            ("shares", "relative", None),
            ("shares", "/a,/a/b", None),
            ("bind_address", "0.0.0.0", Some(true)),
            ("bind_address", "localhost", None),
            ("vm_image", "/images", Some(true)),
            ("colour", "blue", None),
        ];
        for (key, value, expected) in cases {
            let got = s.set(key, value).map(|c| c.needs_restart).ok();
            assert_eq!(got, *expected, "{key}={value}");
        }
        assert_eq!(s.get("cpus").unwrap(), "4");
        assert_eq!(s.get("shares").unwrap(), "/a,/b");
        assert_eq!(s.get("bind_address").unwrap(), "0.0.0.0");
        s.set("shares", "").unwrap();
        assert!(s.shares.is_empty());
        s.set("vm_image", "").unwrap();
        assert_eq!(s.vm_image, None);
        assert!(matches!(s.get("x"), Err(SettingsError::UnknownKey(_))));
    }

    #[test]
    fn save_then_load_round_trips_and_shares_map_to_tags() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = StateDirs::at(dir.path());
        let mut s = Settings::default();
        s.set("shares", "/srv/a,/srv/b").unwrap();
        s.save(&dirs).unwrap();
        assert_eq!(Settings::load(&dirs).unwrap(), s);
        let tags: Vec<String> = s.vm_shares().into_iter().map(|sh| sh.tag).collect();
        assert_eq!(tags, ["share1", "share2"]);
        assert_eq!(
            s.share_holding(Path::new("/srv/b/x/y")),
            Some(Path::new("/srv/b"))
        );
        assert_eq!(s.share_holding(Path::new("/srv/c")), None);
    }
}
