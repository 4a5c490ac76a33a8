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
    "insecure_registries",
    "registry_mirrors",
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
    /// Registries the engine reaches over plain HTTP or unverified TLS (`host[:port]`),
    /// as docker's `insecure-registries`; loopback is always insecure. A registry on this
    /// computer is `host.berth.internal:PORT` from the VM.
    pub insecure_registries: Vec<String>,
    /// Tried before Docker Hub for its images (`http[s]://host[:port]`), as docker's
    /// `registry-mirrors`.
    pub registry_mirrors: Vec<String>,
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
            insecure_registries: Vec::new(),
            registry_mirrors: Vec::new(),
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
            "insecure_registries" => self.insecure_registries.join(","),
            "registry_mirrors" => self.registry_mirrors.join(","),
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
            "insecure_registries" => {
                self.insecure_registries =
                    parse_list(value, parse_registry_host).map_err(|r| invalid(&r))?;
            }
            "registry_mirrors" => {
                self.registry_mirrors = parse_list(value, parse_mirror).map_err(|r| invalid(&r))?;
            }
            "vm_image" => {
                let value = value.trim();
                self.vm_image = (!value.is_empty()).then(|| PathBuf::from(value));
            }
            other => return Err(SettingsError::UnknownKey(other.into())),
        }
        Ok(restart)
    }

    /// The registry settings as the guest's init reads them from the kernel command line
    /// (`berth.insecure=` and `berth.mirrors=`, comma-separated); empty when unset.
    /// Entries are checked again (a hand-edited settings file skips [`Settings::set`]):
    /// one with a space would add words of its own to the command line.
    pub fn registries_cmdline(&self) -> String {
        let valid = |entries: &[String], parse: fn(&str) -> Result<String, String>| {
            entries
                .iter()
                .filter(|e| match parse(e) {
                    Ok(_) => true,
                    Err(reason) => {
                        tracing::warn!("settings: {reason}; left out");
                        false
                    }
                })
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        };
        [
            (
                "berth.insecure",
                valid(&self.insecure_registries, parse_registry_host),
            ),
            ("berth.mirrors", valid(&self.registry_mirrors, parse_mirror)),
        ]
        .into_iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(key, list)| format!("{key}={list}"))
        .collect::<Vec<_>>()
        .join(" ")
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

/// A comma-separated list, each entry checked by `parse`; empty for none. At most 16
/// entries: they travel on the kernel command line, which is short.
fn parse_list(
    value: &str,
    parse: fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, String> {
    let entries: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(parse)
        .collect::<Result<_, _>>()?;
    if entries.len() > 16 {
        return Err("at most 16 entries".into());
    }
    Ok(entries)
}

/// `host[:port]`, `IPv4[:port]` or `[IPv6]:port`, as docker's `insecure-registries`
/// (no scheme, no path).
fn parse_registry_host(entry: &str) -> Result<String, String> {
    let bad = |why: &str| {
        Err(format!("{entry:?} is not a registry address ({why}); write host[:port], e.g. host.berth.internal:5000"))
    };
    if entry.contains("://") {
        return bad("no scheme");
    }
    if entry.contains('/') {
        return bad("no path");
    }
    let (host, port) = match entry.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, port)) if ip.parse::<std::net::Ipv6Addr>().is_ok() => {
                (ip, port.strip_prefix(':'))
            }
            _ => return bad("a bracketed IPv6 address"),
        },
        None => match entry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (entry, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |p| p == 0)) {
        return bad("the port is a number from 1 to 65535");
    }
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && (entry.starts_with('[')
            || host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    if !host_ok {
        return bad("a host name or IP address");
    }
    Ok(entry.to_string())
}

/// `http://host[:port]` or `https://host[:port]`, a trailing slash allowed.
fn parse_mirror(entry: &str) -> Result<String, String> {
    let rest = entry
        .strip_prefix("http://")
        .or_else(|| entry.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("{entry:?} is not a mirror URL: it starts with http:// or https://")
        })?;
    parse_registry_host(rest.trim_end_matches('/'))
        .map_err(|_| format!("{entry:?} is not a mirror URL: write http[s]://host[:port]"))?;
    Ok(entry.trim_end_matches('/').to_string())
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
            (
                "insecure_registries",
                "host.berth.internal:5000, 10.0.0.5",
                Some(true),
            ),
            ("insecure_registries", "[fd00::1]:5000", Some(true)),
            ("insecure_registries", "http://reg.lan", None),
            ("insecure_registries", "reg.lan/path", None),
            ("insecure_registries", "reg.lan:0", None),
            ("insecure_registries", "reg lan", None),
            (
                "insecure_registries",
                "reg.lan:5000\" berth.disk=none",
                None,
            ),
            ("registry_mirrors", "https://mirror.lan/", Some(true)),
            ("registry_mirrors", "mirror.lan", None),
            ("registry_mirrors", "ftp://mirror.lan", None),
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
        // The last good values, as the guest's command line gets them.
        assert_eq!(s.get("insecure_registries").unwrap(), "[fd00::1]:5000");
        assert_eq!(
            s.registries_cmdline(),
            "berth.insecure=[fd00::1]:5000 berth.mirrors=https://mirror.lan"
        );
        s.set("insecure_registries", "").unwrap();
        s.set("registry_mirrors", "").unwrap();
        assert_eq!(s.registries_cmdline(), "");
        // A hand-edited file cannot add words to the kernel command line.
        s.insecure_registries = vec!["a.lan berth.disk=none".into(), "b.lan".into()];
        assert_eq!(s.registries_cmdline(), "berth.insecure=b.lan");
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
