//! Planning the import of a `docker save` archive from its `manifest.json`
//! (`[{"Config": path, "RepoTags": [...], "Layers": [paths]}]`).
//!
//! Older archives have no OCI manifest, so one is built: the config and each layer file
//! become blobs under their own digests, with the layer media type read from the file's
//! magic bytes. Where a path encodes a digest (`blobs/sha256/<hex>`, `<hex>.json`), the
//! content must match it.

use std::collections::HashMap;

use oci_spec::image::{Descriptor, Digest, ImageManifestBuilder, MediaType};
use serde::Deserialize;

use super::plan::{check_image, Plan, PlanError};
use super::staging::{Staging, StagingError};
use crate::image::reference::{ImageRef, ReferenceError};
use crate::image::store::blobs::digest_of;
use crate::image::store::content::{self, ContentError};
use crate::image::store::media::{layer_type_from_magic, JSON_CAP};
use crate::image::store::ImageRecord;

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("Malformed manifest.json")]
    Json(#[source] serde_json::Error),
    #[error("{path}, named in manifest.json, is missing from the archive")]
    Missing { path: String },
    #[error("{path}: content has digest {found}, but its name says {expected}")]
    Mismatch {
        path: String,
        expected: String,
        found: String,
    },
    #[error("Invalid RepoTags entry {name:?} in manifest.json")]
    Name {
        name: String,
        #[source]
        source: ReferenceError,
    },
    #[error("Cannot build the manifest for {config}")]
    Build {
        config: String,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

type Result<T> = std::result::Result<T, DockerError>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

fn entries(staging: &mut Staging<'_>) -> Result<Vec<Entry>> {
    let bytes = staging.read("manifest.json", JSON_CAP)?.unwrap_or_default();
    serde_json::from_slice(&bytes).map_err(DockerError::Json)
}

/// Plans every image manifest.json lists.
pub fn plan(staging: &mut Staging<'_>, plan: &mut Plan) -> Result<()> {
    for entry in entries(staging)? {
        let (config_digest, config_size) = stat(staging, &entry.config)?;
        let bytes = staging
            .read(&entry.config, JSON_CAP)?
            .ok_or_else(|| DockerError::Missing {
                path: entry.config.clone(),
            })?;
        let what = || format!("image config {}", entry.config);
        let config = content::parse_config(&bytes, what)?;

        let mut layers = Vec::with_capacity(entry.layers.len());
        for path in &entry.layers {
            let (digest, size) = stat(staging, path)?;
            let media_type = layer_type_from_magic(&staging.head(path, 4)?);
            let layer = Descriptor::new(media_type, size, digest);
            plan.add_blob(path.clone(), &layer);
            layers.push(layer);
        }
        check_image(&config, &config_digest, &layers)?;

        let config_desc = Descriptor::new(MediaType::ImageConfig, config_size, config_digest);
        plan.add_blob(entry.config.clone(), &config_desc);
        let built = |source| DockerError::Build {
            config: config_desc.digest().to_string(),
            source,
        };
        let manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(config_desc.clone())
            .layers(layers)
            .build()
            .map_err(built)?;
        let manifest_bytes =
            serde_json::to_vec(&manifest).map_err(|e| built(oci_spec::OciSpecError::SerDe(e)))?;
        let manifest_desc = Descriptor::new(
            MediaType::ImageManifest,
            manifest_bytes.len() as u64,
            digest_of(&manifest_bytes),
        );
        plan.add_generated(&manifest_desc, manifest_bytes);
        plan.images.push(ImageRecord {
            target: manifest_desc.clone(),
            manifest: manifest_desc,
            config: config_desc.digest().clone(),
            names: repo_tags(&entry)?,
        });
    }
    Ok(())
}

/// RepoTags of each config in manifest.json, to name images of a docker 25+ archive
/// whose index.json entries carry no name.
pub fn names_by_config(staging: &mut Staging<'_>) -> Result<HashMap<Digest, Vec<String>>> {
    let mut out = HashMap::new();
    for entry in entries(staging)? {
        let (digest, _) = stat(staging, &entry.config)?;
        out.insert(digest, repo_tags(&entry)?);
    }
    Ok(out)
}

fn repo_tags(entry: &Entry) -> Result<Vec<String>> {
    let tags = entry.repo_tags.as_deref().unwrap_or_default();
    tags.iter()
        .map(|name| {
            ImageRef::parse(name)
                .map(|r| r.full())
                .map_err(|source| DockerError::Name {
                    name: name.clone(),
                    source,
                })
        })
        .collect()
}

/// Digest and size of an archive file, checked against the digest its name encodes.
fn stat(staging: &mut Staging<'_>, path: &str) -> Result<(Digest, u64)> {
    let (found, size) = staging.stat(path)?.ok_or_else(|| DockerError::Missing {
        path: path.to_owned(),
    })?;
    if let Some(expected) = digest_in_name(path) {
        if expected != found {
            return Err(DockerError::Mismatch {
                path: path.to_owned(),
                expected: expected.to_string(),
                found: found.to_string(),
            });
        }
    }
    Ok((found, size))
}

/// `blobs/sha256/<hex>` (docker 25+) and `<hex>.json` (older configs) name their digest.
fn digest_in_name(path: &str) -> Option<Digest> {
    let hex = path
        .strip_prefix("blobs/sha256/")
        .or_else(|| path.strip_suffix(".json").filter(|p| !p.contains('/')))?;
    Digest::try_from(format!("sha256:{hex}")).ok()
}
