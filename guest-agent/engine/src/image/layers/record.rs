//! `layers/<chainid-hex>/layer.json`: what a layer directory holds, written into the
//! temporary directory before it is renamed into place, so a visible layer always has one.

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use oci_spec::image::Digest;
use serde::{Deserialize, Serialize};

use super::error::{io_err, LayersError, Result};

pub(super) const RECORD: &str = "layer.json";

/// The largest layer.json read back; a real one is a few hundred bytes.
const RECORD_CAP: u64 = 64 * 1024;

/// One unpacked layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// This layer with everything below it (the directory name).
    pub chain_id: Digest,
    /// sha256 of the layer's uncompressed tar, as the image config lists it.
    pub diff_id: Digest,
    /// The chain id of the layer below, `None` for a bottom layer.
    pub parent: Option<Digest>,
    /// Bytes of the uncompressed tar.
    pub size: u64,
    /// Bytes the unpacked diff occupies on disk (allocated blocks, hard links once).
    pub disk_size: u64,
    /// When it was unpacked, in seconds since the Unix epoch.
    pub created: u64,
}

impl LayerRecord {
    pub(super) fn new(
        chain_id: Digest,
        diff_id: Digest,
        parent: Option<Digest>,
        size: u64,
        disk_size: u64,
    ) -> Self {
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        LayerRecord {
            chain_id,
            diff_id,
            parent,
            size,
            disk_size,
            created,
        }
    }

    /// Reads `<layer_dir>/layer.json`.
    pub(super) fn read(layer_dir: &Path) -> Result<Self> {
        let path = layer_dir.join(RECORD);
        let mut bytes = Vec::new();
        fs::File::open(&path)
            .and_then(|f| f.take(RECORD_CAP).read_to_end(&mut bytes))
            .map_err(io_err("read", &path))?;
        serde_json::from_slice(&bytes).map_err(|source| LayersError::Corrupt { path, source })
    }

    /// Writes `<layer_dir>/layer.json` (a directory not yet visible, so no rename needed).
    pub(super) fn write(&self, layer_dir: &Path) -> Result<()> {
        let path = layer_dir.join(RECORD);
        let bytes = serde_json::to_vec_pretty(self).expect("a layer record serialises");
        fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(io_err("write", &path))
    }
}

/// Bytes `dir` occupies on disk: allocated blocks of everything below it, symlinks not
/// followed, each hard-linked inode counted once. Iterative, so a hostile layer's deep
/// tree cannot exhaust the stack.
pub(super) fn disk_size(dir: &Path) -> Result<u64> {
    let mut total = 0u64;
    let mut seen = HashSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).map_err(io_err("read the directory", &current))? {
            let entry = entry.map_err(io_err("read the directory", &current))?;
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).map_err(io_err("inspect", &path))?;
            if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            total += meta.blocks() * 512;
            if meta.is_dir() {
                pending.push(path);
            }
        }
    }
    Ok(total)
}
