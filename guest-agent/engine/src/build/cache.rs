//! The legacy builder's step cache: `<root>/build-cache.json` maps a step key (the parent
//! image, the instruction, and for COPY/ADD the hash of what is copied) to the image the
//! step produced. An entry whose image is gone is simply a miss.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::container::record::{read_json, write_json_atomic};

/// Serialises read-modify-write cycles of the index within the engine.
static LOCK: Mutex<()> = Mutex::new(());

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    /// Step key -> image ID.
    entries: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Cache {
    path: PathBuf,
}

impl Cache {
    pub fn open(root: &Path) -> Cache {
        Cache {
            path: root.join("build-cache.json"),
        }
    }

    /// The key of a step.
    pub fn key(parent: &str, instruction: &str, content: &str) -> String {
        let mut hasher = Sha256::new();
        for part in [parent, instruction, content] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        hex::encode(hasher.finalize())
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        read_json::<Index>(&self.path)
            .ok()?
            .entries
            .get(key)
            .cloned()
    }

    pub fn put(&self, key: &str, image: &str) -> std::io::Result<()> {
        let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let mut index: Index = read_json(&self.path).unwrap_or_default();
        index.entries.insert(key.to_string(), image.to_string());
        write_json_atomic(&self.path, &index)
    }

    /// Forgets every entry; the image IDs it held.
    pub fn clear(&self) -> std::io::Result<Vec<String>> {
        let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let index: Index = read_json(&self.path).unwrap_or_default();
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(index.entries.into_values().collect())
    }
}
