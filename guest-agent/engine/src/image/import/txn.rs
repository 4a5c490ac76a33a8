//! Rollback of an import: the blobs it added are removed unless it completes. Blobs that
//! were already in the store are never touched.

use oci_spec::image::Digest;

use crate::image::store::BlobStore;

#[derive(Debug)]
pub struct Txn<'s> {
    blobs: &'s BlobStore,
    added: Vec<Digest>,
    done: bool,
}

impl<'s> Txn<'s> {
    pub fn new(blobs: &'s BlobStore) -> Self {
        Self {
            blobs,
            added: Vec::new(),
            done: false,
        }
    }

    /// Records a blob this import created.
    pub fn added(&mut self, digest: &Digest) {
        self.added.push(digest.clone());
    }

    /// The import succeeded: keep everything.
    pub fn finish(mut self) {
        self.done = true;
    }
}

impl Drop for Txn<'_> {
    // Runs on every failure path, including a panic mid-import.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for digest in self.added.iter().rev() {
            if let Err(e) = self.blobs.remove(digest) {
                tracing::error!(%digest, error = %e, "cannot roll back an imported blob");
            }
        }
    }
}
