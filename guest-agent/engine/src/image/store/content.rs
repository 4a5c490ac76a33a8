//! Parsing the JSON documents of an image (index, manifest, config) with errors that
//! name the document, and pairing layers with their diff_ids.

use oci_spec::image::{Descriptor, Digest, ImageConfiguration, ImageIndex, ImageManifest};
use serde::de::DeserializeOwned;

use super::blobs::{BlobError, BlobStore};

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("Malformed {what}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("Config {config} lists {diff_ids} diff_ids but the manifest has {layers} layers")]
    LayerCount {
        config: String,
        diff_ids: usize,
        layers: usize,
    },
    #[error("Config {config} has an invalid diff_id {value:?}")]
    BadDiffId { config: String, value: String },
    #[error("Unsupported schema version {version} in {what}")]
    Schema { what: String, version: u32 },
}

type Result<T> = std::result::Result<T, ContentError>;

fn parse<T: DeserializeOwned>(bytes: &[u8], what: impl FnOnce() -> String) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| ContentError::Json {
        what: what(),
        source,
    })
}

pub fn parse_manifest(bytes: &[u8], what: impl Fn() -> String) -> Result<ImageManifest> {
    let m: ImageManifest = parse(bytes, &what)?;
    if m.schema_version() != 2 {
        return Err(ContentError::Schema {
            what: what(),
            version: m.schema_version(),
        });
    }
    Ok(m)
}

pub fn parse_index(bytes: &[u8], what: impl Fn() -> String) -> Result<ImageIndex> {
    let i: ImageIndex = parse(bytes, &what)?;
    if i.schema_version() != 2 {
        return Err(ContentError::Schema {
            what: what(),
            version: i.schema_version(),
        });
    }
    Ok(i)
}

pub fn parse_config(bytes: &[u8], what: impl FnOnce() -> String) -> Result<ImageConfiguration> {
    parse(bytes, what)
}

/// Reads and parses a stored manifest.
pub fn manifest(blobs: &BlobStore, desc: &Descriptor) -> Result<ImageManifest> {
    let bytes = blobs.read_json(desc.digest())?;
    parse_manifest(&bytes, || format!("manifest {}", desc.digest()))
}

/// Reads and parses a stored image config.
pub fn config(blobs: &BlobStore, digest: &Digest) -> Result<ImageConfiguration> {
    let bytes = blobs.read_json(digest)?;
    parse_config(&bytes, || format!("image config {digest}"))
}

/// Pairs each layer with its diff_id; the counts must agree.
pub fn pair_layers(
    manifest: &ImageManifest,
    config: &ImageConfiguration,
    config_digest: &Digest,
) -> Result<Vec<(Descriptor, Digest)>> {
    let diff_ids = diff_ids(config, config_digest)?;
    if diff_ids.len() != manifest.layers().len() {
        return Err(ContentError::LayerCount {
            config: config_digest.to_string(),
            diff_ids: diff_ids.len(),
            layers: manifest.layers().len(),
        });
    }
    Ok(manifest.layers().iter().cloned().zip(diff_ids).collect())
}

/// The config's diff_ids as digests.
pub fn diff_ids(config: &ImageConfiguration, config_digest: &Digest) -> Result<Vec<Digest>> {
    config
        .rootfs()
        .diff_ids()
        .iter()
        .map(|v| {
            Digest::try_from(v.as_str()).map_err(|_| ContentError::BadDiffId {
                config: config_digest.to_string(),
                value: v.clone(),
            })
        })
        .collect()
}
