//! Creating, listing, inspecting and removing volumes.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::error::{io_err, VolumeError};
use super::meta::{self, Meta};
use super::name::{random_hex, validate};
use super::{LabelFilter, PruneReport, Volume, ANONYMOUS_LABEL, LOCAL_DRIVER};

pub(super) const DATA_DIR: &str = "_data";

/// The volumes under `<root>/volumes`.
#[derive(Debug, Clone)]
pub struct VolumeStore {
    dir: PathBuf,
}

impl VolumeStore {
    /// Opens (creating it if needed) the volumes directory of the engine root `root`, and
    /// removes what interrupted creations and removals left behind.
    pub fn open(root: &Path) -> Result<VolumeStore, VolumeError> {
        let dir = root.join("volumes");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o701)
            .create(&dir)
            .map_err(io_err("create", &dir))?;
        let store = VolumeStore { dir };
        store.clean_leftovers()?;
        Ok(store)
    }

    /// Creates a volume; without a name, an anonymous one with a random 64-hex name. Creating
    /// a name that exists returns the existing volume unchanged, as docker does.
    pub fn create(
        &self,
        name: Option<&str>,
        driver: &str,
        labels: BTreeMap<String, String>,
    ) -> Result<Volume, VolumeError> {
        if !(driver.is_empty() || driver == LOCAL_DRIVER) {
            return Err(VolumeError::UnsupportedDriver(driver.to_string()));
        }
        let (name, anonymous) = match name.filter(|n| !n.is_empty()) {
            Some(name) => {
                validate(name)?;
                (name.to_string(), false)
            }
            None => (
                random_hex().map_err(io_err("read", Path::new("/dev/urandom")))?,
                true,
            ),
        };
        if let Some(existing) = self.find(&name)? {
            return Ok(existing);
        }
        let mut labels = labels;
        if anonymous {
            labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
        }
        let meta = Meta {
            name: name.clone(),
            driver: LOCAL_DRIVER.to_string(),
            created_at: SystemTime::now(),
            labels,
            anonymous,
            copied_up: false,
        };
        let tmp = self.temp_dir(".tmp-")?;
        let built = self.build(&tmp, &meta);
        let renamed = built.and_then(|()| {
            std::fs::rename(&tmp, self.volume_dir(&name)).map_err(io_err("create", &tmp))
        });
        if let Err(e) = renamed {
            let _ = std::fs::remove_dir_all(&tmp);
            // Another creation of the same name won the race: that volume is the answer.
            return self.find(&name)?.ok_or(e);
        }
        self.load(&name)
    }

    /// `docker volume inspect`.
    pub fn inspect(&self, name: &str) -> Result<Volume, VolumeError> {
        validate(name).map_err(|_| VolumeError::NotFound(name.to_string()))?;
        self.find(name)?
            .ok_or_else(|| VolumeError::NotFound(name.to_string()))
    }

    /// `docker volume ls`: every volume carrying all the labels asked for, by name.
    pub fn list(&self, labels: &[LabelFilter]) -> Result<Vec<Volume>, VolumeError> {
        let entries = std::fs::read_dir(&self.dir).map_err(io_err("list", &self.dir))?;
        let mut volumes = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("list", &self.dir))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if validate(&name).is_err() {
                continue;
            }
            if let Some(volume) = self.find(&name)? {
                if labels.iter().all(|f| f.matches(&volume.labels)) {
                    volumes.push(volume);
                }
            }
        }
        volumes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(volumes)
    }

    /// `docker volume rm [-f]`. A volume in use is never removed; `force` only makes a
    /// missing volume not an error, as in docker.
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        in_use: &dyn Fn(&str) -> bool,
    ) -> Result<(), VolumeError> {
        let exists = validate(name).is_ok() && self.volume_dir(name).join(DATA_DIR).is_dir();
        if !exists {
            return if force {
                Ok(())
            } else {
                Err(VolumeError::NotFound(name.to_string()))
            };
        }
        if in_use(name) {
            return Err(VolumeError::InUse {
                name: name.to_string(),
            });
        }
        // Renamed away first, so the name is gone at once and a crash mid-delete leaves a
        // `.rm-*` directory that the next open cleans, not a half-deleted volume.
        let doomed = self.dir.join(format!(
            ".rm-{}",
            random_hex().map_err(io_err("read", Path::new("/dev/urandom")))?
        ));
        match std::fs::rename(self.volume_dir(name), &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound && force => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(VolumeError::NotFound(name.to_string()))
            }
            Err(e) => return Err(io_err("remove", &self.volume_dir(name))(e)),
        }
        // remove_dir_all never follows symlinks, whatever a container left in _data.
        std::fs::remove_dir_all(&doomed).map_err(io_err("remove", &doomed))
    }

    /// `docker volume prune`: unused volumes carrying the labels asked for; only anonymous
    /// ones unless `all` (docker 23+).
    pub fn prune(
        &self,
        in_use: &dyn Fn(&str) -> bool,
        all: bool,
        labels: &[LabelFilter],
    ) -> Result<PruneReport, VolumeError> {
        let mut report = PruneReport::default();
        for volume in self.list(labels)? {
            if in_use(&volume.name) || !(all || volume.anonymous) {
                continue;
            }
            let size = self.usage(&volume.name).unwrap_or(0);
            match self.remove(&volume.name, false, in_use) {
                Ok(()) => {
                    report.deleted.push(volume.name);
                    report.space_reclaimed += size;
                }
                // Removed or taken into use meanwhile: not pruned, not an error.
                Err(VolumeError::NotFound(_) | VolumeError::InUse { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    pub(super) fn volume_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The volume if its directory exists. A volume whose metadata is missing or unreadable
    /// is still listed (content is never hidden), with what the directory tells.
    fn find(&self, name: &str) -> Result<Option<Volume>, VolumeError> {
        let dir = self.volume_dir(name);
        if !dir.join(DATA_DIR).is_dir() {
            return Ok(None);
        }
        match self.load(name) {
            Ok(volume) => Ok(Some(volume)),
            Err(e) => {
                tracing::warn!(volume = name, error = %e, "volume metadata unreadable; using defaults");
                let created_at = std::fs::metadata(&dir)
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                Ok(Some(Volume {
                    name: name.to_string(),
                    driver: LOCAL_DRIVER.to_string(),
                    mountpoint: dir.join(DATA_DIR),
                    created_at,
                    labels: BTreeMap::new(),
                    anonymous: false,
                }))
            }
        }
    }

    fn load(&self, name: &str) -> Result<Volume, VolumeError> {
        let dir = self.volume_dir(name);
        let meta = meta::read(&dir)?;
        Ok(Volume {
            name: name.to_string(),
            driver: meta.driver,
            mountpoint: dir.join(DATA_DIR),
            created_at: meta.created_at,
            labels: meta.labels,
            anonymous: meta.anonymous,
        })
    }

    fn build(&self, tmp: &Path, meta: &Meta) -> Result<(), VolumeError> {
        let data = tmp.join(DATA_DIR);
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&data)
            .map_err(io_err("create", &data))?;
        meta::write(tmp, meta)
    }

    fn temp_dir(&self, prefix: &str) -> Result<PathBuf, VolumeError> {
        let hex = random_hex().map_err(io_err("read", Path::new("/dev/urandom")))?;
        let tmp = self.dir.join(format!("{prefix}{hex}"));
        std::fs::DirBuilder::new()
            .mode(0o701)
            .create(&tmp)
            .map_err(io_err("create", &tmp))?;
        Ok(tmp)
    }

    fn clean_leftovers(&self) -> Result<(), VolumeError> {
        let entries = std::fs::read_dir(&self.dir).map_err(io_err("list", &self.dir))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".tmp-") || name.starts_with(".rm-") {
                let path = entry.path();
                if let Err(e) = std::fs::remove_dir_all(&path) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove a leftover");
                }
            }
        }
        Ok(())
    }
}
