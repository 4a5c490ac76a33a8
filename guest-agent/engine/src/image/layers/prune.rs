//! Listing, measuring and removing unpacked layers (for `image prune`, `system df`).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;

use oci_spec::image::Digest;

use super::chain::from_dir_name;
use super::error::{io_err, Result};
use super::lock;
use super::record::LayerRecord;
use super::{LayerStore, LOCKS, STORE_LOCK, TMP};

impl LayerStore {
    /// Every unpacked layer. Directories that are not chain ids, or lack a record (which a
    /// completed unpack always writes), are not layers and are skipped.
    pub fn list(&self) -> Result<Vec<LayerRecord>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err("read the directory", &self.dir))? {
            let entry = entry.map_err(io_err("read the directory", &self.dir))?;
            let name = entry.file_name();
            let Some(chain_id) = name.to_str().and_then(from_dir_name) else {
                continue;
            };
            if let Some(record) = self.get(&chain_id)? {
                out.push(record);
            }
        }
        out.sort_by(|a, b| a.chain_id.as_ref().cmp(b.chain_id.as_ref()));
        Ok(out)
    }

    /// Bytes the unpacked layers occupy on disk.
    pub fn disk_usage(&self) -> Result<u64> {
        Ok(self.list()?.iter().map(|r| r.disk_size).sum())
    }

    /// Removes every layer that neither is in `in_use` nor lies below one that is (a
    /// layer needs its parents), and returns the chain ids removed. The caller passes the
    /// chain ids of every image it keeps, including those of images containers use.
    /// Waits for running `ensure` calls to finish and blocks new ones meanwhile.
    pub fn remove_unused(&self, in_use: &[Digest]) -> Result<Vec<Digest>> {
        let _exclusive = lock::lock(&self.dir.join(STORE_LOCK), lock::Kind::Exclusive)?;
        let layers = self.list()?;
        let parents: HashMap<&str, Option<&Digest>> = layers
            .iter()
            .map(|r| (r.chain_id.as_ref(), r.parent.as_ref()))
            .collect();
        let mut keep: HashSet<&str> = HashSet::new();
        for id in in_use {
            let mut next = Some(id);
            // Stops at a layer already kept: records come from disk, and even a corrupt
            // one that made the chain loop cannot make this loop.
            while let Some(id) = next {
                if !keep.insert(id.as_ref()) {
                    break;
                }
                next = parents.get(id.as_ref()).copied().flatten();
            }
        }
        let mut removed = Vec::new();
        for record in &layers {
            if keep.contains(record.chain_id.as_ref()) {
                continue;
            }
            self.remove(&record.chain_id)?;
            removed.push(record.chain_id.clone());
        }
        Ok(removed)
    }

    /// Takes a layer out of view with one rename (so no half-deleted layer is ever seen
    /// as complete), then deletes it.
    fn remove(&self, chain_id: &Digest) -> Result<()> {
        let hex = chain_id.digest();
        let dir = self.dir.join(hex);
        let doomed = self.dir.join(TMP).join(format!("removing-{hex}"));
        // A leftover of an earlier removal that failed half-way would block the rename.
        if doomed.exists() {
            fs::remove_dir_all(&doomed).map_err(io_err("remove", &doomed))?;
        }
        fs::rename(&dir, &doomed).map_err(io_err("move aside", &dir))?;
        fs::remove_dir_all(&doomed).map_err(io_err("remove", &doomed))?;
        let lock_file = self.dir.join(LOCKS).join(hex);
        match fs::remove_file(&lock_file) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err("remove", &lock_file)(e)),
            _ => Ok(()),
        }?;
        tracing::info!(%chain_id, "layer removed");
        Ok(())
    }
}
