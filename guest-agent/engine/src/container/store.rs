//! The container table: one directory per container under `<root>/containers/<id>/`
//! holding `config.json` (the record) and `state.json` (its status), an in-memory index by
//! id and name, and docker's ways of naming a container (full id, unique id prefix, name).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::config::ContainerConfig;
use super::names::{generate_name, new_id, validate_name};
use super::record::{read_json, write_json_atomic, ContainerRecord, ContainerStatus};

const CONFIG: &str = "config.json";
const STATE: &str = "state.json";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("Multiple containers match {0:?}: use more of the id")]
    Ambiguous(String),
    #[error("Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.")]
    NameInUse { name: String, id: String },
    #[error("{0}")]
    InvalidName(String),
    #[error("Cannot {action} container {id}")]
    Io {
        action: &'static str,
        id: String,
        #[source]
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug)]
pub struct ContainerStore {
    dir: PathBuf,
    index: Mutex<BTreeMap<String, ContainerRecord>>,
}

impl ContainerStore {
    /// Loads every container found under `<root>/containers`. A directory without a
    /// readable config (a create interrupted before it wrote one) is removed: it never
    /// existed for anyone.
    pub fn open(root: &Path) -> Result<Self> {
        let dir = root.join("containers");
        let io = |source| StoreError::Io {
            action: "open the store of",
            id: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let mut index = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(io)?.flatten() {
            let path = entry.path();
            match read_json::<ContainerRecord>(&path.join(CONFIG)) {
                Ok(record) if entry.file_name().to_str() == Some(record.id.as_str()) => {
                    index.insert(record.id.clone(), record);
                }
                Ok(_) => tracing::warn!(
                    "{}: config names another container; ignored",
                    path.display()
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let _ = std::fs::remove_dir_all(&path);
                }
                Err(e) => tracing::warn!("{}: unreadable container config: {e}", path.display()),
            }
        }
        Ok(ContainerStore {
            dir,
            index: Mutex::new(index),
        })
    }

    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Records a new container. Its directory appears complete or not at all.
    pub fn create(
        &self,
        name: Option<&str>,
        image_id: &str,
        config: ContainerConfig,
        created: String,
    ) -> Result<ContainerRecord> {
        let id = new_id().map_err(|source| StoreError::Io {
            action: "create",
            id: "(new)".into(),
            source,
        })?;
        let mut index = self.index.lock().expect("container index lock");
        let name = match name {
            Some(n) => {
                let n = validate_name(n).map_err(StoreError::InvalidName)?;
                if let Some(other) = index.values().find(|r| r.name == n) {
                    return Err(StoreError::NameInUse {
                        name: n,
                        id: other.id.clone(),
                    });
                }
                n
            }
            None => generate_name(&id, |candidate| index.values().any(|r| r.name == candidate)),
        };
        let record = ContainerRecord {
            id: id.clone(),
            name,
            created,
            image_id: image_id.to_string(),
            config,
        };
        let dir = self.container_dir(&id);
        let written = std::fs::create_dir(&dir)
            .and_then(|_| write_json_atomic(&dir.join(STATE), &ContainerStatus::default()))
            .and_then(|_| write_json_atomic(&dir.join(CONFIG), &record));
        if let Err(source) = written {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(StoreError::Io {
                action: "create",
                id,
                source,
            });
        }
        index.insert(id, record.clone());
        Ok(record)
    }

    /// Full id, unique id prefix, or name (with or without '/'); names win over prefixes,
    /// as in docker.
    pub fn get(&self, reference: &str) -> Result<ContainerRecord> {
        let index = self.index.lock().expect("container index lock");
        Self::find(&index, reference).cloned()
    }

    fn find<'a>(
        index: &'a BTreeMap<String, ContainerRecord>,
        reference: &str,
    ) -> Result<&'a ContainerRecord> {
        if let Some(record) = index.get(reference) {
            return Ok(record);
        }
        let name = reference.strip_prefix('/').unwrap_or(reference);
        if let Some(record) = index.values().find(|r| r.name == name) {
            return Ok(record);
        }
        let mut matches = index
            .range(reference.to_string()..)
            .take_while(|(id, _)| id.starts_with(reference));
        match (reference.is_empty(), matches.next(), matches.next()) {
            (false, Some((_, record)), None) => Ok(record),
            (false, Some(_), Some(_)) => Err(StoreError::Ambiguous(reference.to_string())),
            _ => Err(StoreError::NotFound(reference.to_string())),
        }
    }

    pub fn list(&self) -> Vec<ContainerRecord> {
        self.index
            .lock()
            .expect("container index lock")
            .values()
            .cloned()
            .collect()
    }

    pub fn rename(&self, reference: &str, new_name: &str) -> Result<ContainerRecord> {
        let new_name = validate_name(new_name).map_err(StoreError::InvalidName)?;
        let mut index = self.index.lock().expect("container index lock");
        let id = Self::find(&index, reference)?.id.clone();
        if let Some(other) = index.values().find(|r| r.name == new_name && r.id != id) {
            return Err(StoreError::NameInUse {
                name: new_name,
                id: other.id.clone(),
            });
        }
        let mut record = index[&id].clone();
        record.name = new_name;
        write_json_atomic(&self.container_dir(&id).join(CONFIG), &record).map_err(|source| {
            StoreError::Io {
                action: "rename",
                id: id.clone(),
                source,
            }
        })?;
        index.insert(id, record.clone());
        Ok(record)
    }

    pub fn status(&self, id: &str) -> Result<ContainerStatus> {
        read_json(&self.container_dir(id).join(STATE)).map_err(|source| StoreError::Io {
            action: "read the state of",
            id: id.to_string(),
            source,
        })
    }

    pub fn set_status(&self, id: &str, status: &ContainerStatus) -> Result<()> {
        write_json_atomic(&self.container_dir(id).join(STATE), status).map_err(|source| {
            StoreError::Io {
                action: "save the state of",
                id: id.to_string(),
                source,
            }
        })
    }

    /// Forgets a container and deletes its directory (the caller stopped it first).
    pub fn remove(&self, id: &str) -> Result<()> {
        let mut index = self.index.lock().expect("container index lock");
        if index.remove(id).is_none() {
            return Err(StoreError::NotFound(id.to_string()));
        }
        // Renamed out of view first: a crash mid-delete leaves no half container behind.
        let dir = self.container_dir(id);
        let doomed = self.dir.join(format!(".removing-{id}"));
        std::fs::rename(&dir, &doomed)
            .and_then(|_| std::fs::remove_dir_all(&doomed))
            .map_err(|source| StoreError::Io {
                action: "remove",
                id: id.to_string(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::record::Status;

    fn store() -> (tempfile::TempDir, ContainerStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ContainerStore::open(dir.path()).unwrap();
        (dir, store)
    }

    fn create(store: &ContainerStore, name: Option<&str>) -> ContainerRecord {
        store
            .create(
                name,
                "sha256:abc",
                ContainerConfig::default(),
                "2026-01-01T00:00:00Z".into(),
            )
            .unwrap()
    }

    #[test]
    fn containers_are_found_by_id_prefix_and_name_and_survive_a_reopen() {
        let (dir, store) = store();
        let web = create(&store, Some("web"));
        let other = create(&store, None);
        assert_eq!(store.get("web").unwrap().id, web.id);
        assert_eq!(store.get("/web").unwrap().id, web.id);
        assert_eq!(store.get(&web.id[..12]).unwrap().id, web.id);
        assert_eq!(store.get(&other.name).unwrap().id, other.id);
        let err = store.get("nope").unwrap_err().to_string();
        assert_eq!(err, "No such container: nope");
        drop(store);
        let reopened = ContainerStore::open(dir.path()).unwrap();
        assert_eq!(reopened.list().len(), 2);
        assert_eq!(reopened.get("web").unwrap(), web);
    }

    #[test]
    fn name_conflicts_and_bad_names_are_refused_and_leave_nothing() {
        let (dir, store) = store();
        let web = create(&store, Some("web"));
        let err = store
            .create(
                Some("web"),
                "sha256:abc",
                ContainerConfig::default(),
                String::new(),
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("in use by container \"{}\"", web.id)),
            "{err}"
        );
        assert!(matches!(
            store.create(Some("../x"), "i", ContainerConfig::default(), String::new()),
            Err(StoreError::InvalidName(_))
        ));
        assert_eq!(
            std::fs::read_dir(dir.path().join("containers"))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn rename_checks_conflicts_and_persists() {
        let (dir, store) = store();
        let a = create(&store, Some("a1"));
        create(&store, Some("b1"));
        assert!(matches!(
            store.rename("a1", "b1"),
            Err(StoreError::NameInUse { .. })
        ));
        store.rename("a1", "c1").unwrap();
        drop(store);
        let reopened = ContainerStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get("c1").unwrap().id, a.id);
        assert!(reopened.get("a1").is_err());
    }

    #[test]
    fn status_round_trips_and_remove_forgets_the_container() {
        let (dir, store) = store();
        let c = create(&store, Some("s1"));
        assert_eq!(store.status(&c.id).unwrap().status, Status::Created);
        let running = ContainerStatus {
            status: Status::Running,
            pid: 42,
            ..Default::default()
        };
        store.set_status(&c.id, &running).unwrap();
        assert_eq!(store.status(&c.id).unwrap(), running);
        store.remove(&c.id).unwrap();
        assert!(store.get("s1").is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("containers"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn an_interrupted_create_without_config_is_cleaned_at_open() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("containers/deadbeef")).unwrap();
        let store = ContainerStore::open(dir.path()).unwrap();
        assert!(store.list().is_empty());
        assert!(!dir.path().join("containers/deadbeef").exists());
    }

    #[test]
    fn ambiguous_prefixes_are_an_error() {
        let (_dir, store) = store();
        let ids: Vec<String> = (0..40)
            .map(|i| create(&store, Some(&format!("n{i}"))).id)
            .collect();
        // With 40 random ids, some first hex digit is shared by two of them.
        let mut counts = BTreeMap::new();
        ids.iter()
            .for_each(|id| *counts.entry(&id[..1]).or_insert(0) += 1);
        let shared = counts
            .iter()
            .find(|(_, n)| **n > 1)
            .map(|(p, _)| p.to_string())
            .unwrap();
        assert!(matches!(store.get(&shared), Err(StoreError::Ambiguous(_))));
    }
}
