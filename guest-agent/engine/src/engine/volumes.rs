//! Volumes as containers see them: which containers use which volume (named mounts and the
//! anonymous volumes made for image VOLUMEs), so `volume rm` and `volume prune` refuse or
//! skip a volume any container (running or not) still references, as docker does.

use std::collections::BTreeMap;

use super::Engine;
use crate::container::config::MountConfig;
use crate::container::prepare::anonymous_volume_names;
use crate::volume::{LabelFilter, PruneReport, VolumeError};

/// Why a volume removal was refused, with the containers in the way.
#[derive(Debug, thiserror::Error)]
pub enum VolumeRemoveError {
    #[error("remove {name}: volume is in use - [{}]", containers.join(", "))]
    InUse {
        name: String,
        containers: Vec<String>,
    },
    #[error(transparent)]
    Volume(#[from] VolumeError),
}

impl Engine {
    /// Volume name -> IDs of the containers that reference it, whatever their state.
    pub fn volume_users(&self) -> BTreeMap<String, Vec<String>> {
        let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for record in self.inner.containers.list() {
            let dir = self.inner.containers.container_dir(&record.id);
            let named = record.config.mounts.iter().filter_map(|m| match m {
                MountConfig::Volume { name, .. } => Some(name.clone()),
                _ => None,
            });
            for name in named.chain(anonymous_volume_names(&dir)) {
                let ids = users.entry(name).or_default();
                if !ids.contains(&record.id) {
                    ids.push(record.id.clone());
                }
            }
        }
        users
    }

    /// `docker volume rm [-f]`: refused while a container references the volume; `force`
    /// only makes a missing volume not an error.
    pub fn remove_volume(&self, name: &str, force: bool) -> Result<(), VolumeRemoveError> {
        // A volume containers name but that does not exist (yet) is not found, not in use.
        match self.inner.volumes.inspect(name) {
            Err(VolumeError::NotFound(_)) if force => return Ok(()),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        let users = self.volume_users();
        if let Some(containers) = users.get(name).filter(|c| !c.is_empty()) {
            return Err(VolumeRemoveError::InUse {
                name: name.to_string(),
                containers: containers.clone(),
            });
        }
        // Checked again by the store against a fresh view, for a container created since.
        let in_use = |n: &str| self.volume_users().contains_key(n);
        Ok(self.inner.volumes.remove(name, force, &in_use)?)
    }

    /// `docker volume prune`: volumes no container references carrying the labels asked
    /// for; only anonymous ones unless `all`.
    pub fn prune_volumes(
        &self,
        all: bool,
        labels: &[LabelFilter],
    ) -> Result<PruneReport, VolumeError> {
        let users = self.volume_users();
        let in_use = |n: &str| users.contains_key(n);
        self.inner.volumes.prune(&in_use, all, labels)
    }
}
