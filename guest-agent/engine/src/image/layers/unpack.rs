//! Unpacking one layer into place: stream the blob into `layers/.tmp/<hex>-XXXX/diff`,
//! verify its diff_id, write layer.json, flush, and only then rename the directory to
//! `layers/<hex>`. Any error drops the temporary directory, so `layers/<hex>` either is
//! complete or does not exist.

use std::fs::{self, DirBuilder, File};
use std::io::BufReader;
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use oci_spec::image::{Descriptor, Digest};

use super::error::{io_err, LayersError, Result};
use super::record::{self, LayerRecord};
use crate::image::layer::{self, Compression, Limits, WhiteoutMode};
use crate::image::store::Store;

/// What to unpack and where.
pub(super) struct Job<'a> {
    pub blob: &'a Descriptor,
    pub diff_id: &'a Digest,
    pub chain_id: &'a Digest,
    pub parent: Option<&'a Digest>,
    /// `layers/.tmp`, on the same filesystem as `dest` so the final rename is atomic.
    pub tmp: &'a Path,
    /// `layers/<chainid-hex>`, which must not exist yet.
    pub dest: &'a Path,
}

pub(super) fn run(store: &Store, job: &Job<'_>, limits: &Limits) -> Result<LayerRecord> {
    let unpack_err = |source| LayersError::Unpack {
        diff_id: job.diff_id.to_string(),
        source,
    };
    let staging = tempfile::Builder::new()
        .prefix(&format!("{}-", job.chain_id.digest()))
        .tempdir_in(job.tmp)
        .map_err(io_err("create a directory in", job.tmp))?;
    let diff = staging.path().join("diff");
    // The diff's own mode is ours to choose (the unpacker skips `./` entries); 0755 like
    // any root directory, so an overlay whose top layer this is looks right.
    DirBuilder::new()
        .mode(0o755)
        .create(&diff)
        .map_err(io_err("create", &diff))?;

    let compression = Compression::from_media_type(job.blob.media_type()).map_err(unpack_err)?;
    let blob = store.blobs().open(job.blob.digest())?;
    let unpacked = layer::unpack_verified(
        BufReader::with_capacity(256 * 1024, blob),
        compression,
        &diff,
        WhiteoutMode::Overlay,
        limits,
        job.diff_id,
    )
    .map_err(unpack_err)?;

    let record = LayerRecord::new(
        job.chain_id.clone(),
        job.diff_id.clone(),
        job.parent.cloned(),
        unpacked.size,
        record::disk_size(&diff)?,
    );
    record.write(staging.path())?;
    // Everything written so far reaches the disk before the rename makes it visible: a
    // crash must not leave a complete-looking layer with empty files. syncfs flushes the
    // whole filesystem once instead of an fsync per file of a large layer.
    let dir = File::open(staging.path()).map_err(io_err("open", staging.path()))?;
    nix::unistd::syncfs(dir.as_raw_fd()).map_err(io_err("flush", staging.path()))?;
    fs::rename(staging.path(), job.dest).map_err(io_err("move a layer into", job.dest))?;
    // The temporary name is gone: nothing is left for the guard to clean up.
    let _ = staging.keep();
    // The rename itself is durable once the parent directory is.
    let parent = job.dest.parent().unwrap_or(job.tmp);
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(io_err("flush", parent))?;
    Ok(record)
}
