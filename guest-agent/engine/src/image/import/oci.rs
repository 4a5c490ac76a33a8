//! Planning the import of an OCI image layout (`oci-layout`, `index.json`, `blobs/`),
//! including the one `docker save` has written inside its archives since docker 25.
//!
//! Every document is verified against its descriptor before it is parsed. Manifests of a
//! multi-platform index that the layout does not carry are skipped (docker saves only
//! the host's platform); the index itself is what gets the name.

use oci_spec::image::{Descriptor, ImageIndex, OciLayout};

use super::plan::{blob_path, check_image, sha256_only, Plan, PlanError};
use super::staging::{Staging, StagingError};
use crate::image::reference::{ImageRef, ReferenceError};
use crate::image::store::content::{self, ContentError};
use crate::image::store::media::{Kind, JSON_CAP};
use crate::image::store::{platform, BlobError, ImageRecord};

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("Malformed oci-layout file")]
    LayoutFile(#[source] serde_json::Error),
    #[error("Blob {digest} ({what}) is missing from the image")]
    Missing { digest: String, what: &'static str },
    #[error("{what} {digest} is {size} bytes, over the {JSON_CAP}-byte limit")]
    TooLarge {
        what: &'static str,
        digest: String,
        size: u64,
    },
    #[error("Index {digest} has none of its manifests in the image")]
    NoManifest { digest: String },
    #[error("Indexes nested deeper than {MAX_DEPTH} levels at {digest}")]
    TooDeep { digest: String },
    #[error("Invalid image name {name:?} in index.json")]
    Name {
        name: String,
        #[source]
        source: ReferenceError,
    },
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

type Result<T> = std::result::Result<T, LayoutError>;

const MAX_DEPTH: usize = 4;
const NAME_ANNOTATION: &str = "io.containerd.image.name";
const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// A runnable manifest found under an index entry.
struct Found {
    manifest: Descriptor,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

/// Plans every image `index.json` lists. `base` names images whose only name is a bare
/// `org.opencontainers.image.ref.name` tag (as umoci and `skopeo copy oci:dir:tag` write).
pub fn plan(staging: &mut Staging<'_>, base: Option<&ImageRef>, plan: &mut Plan) -> Result<()> {
    let layout = staging.read("oci-layout", 64 * 1024)?.unwrap_or_default();
    serde_json::from_slice::<OciLayout>(&layout).map_err(LayoutError::LayoutFile)?;
    let index_bytes = staging.read("index.json", JSON_CAP)?.unwrap_or_default();
    let index: ImageIndex = content::parse_index(&index_bytes, || "index.json".into())?;
    let single = index.manifests().len() == 1;
    let mut walker = Walker { staging, plan };
    for entry in index.manifests() {
        let Some(found) = walker.visit(entry, 0)? else {
            tracing::warn!(digest = %entry.digest(), media_type = %entry.media_type(),
                "index.json entry is not a container image; skipped");
            continue;
        };
        let config_bytes = walker.json(&found.config, "image config")?;
        let what = || format!("image config {}", found.config.digest());
        let config = content::parse_config(&config_bytes, what)?;
        check_image(&config, found.config.digest(), &found.layers)?;
        let names = names(entry, base, single)?;
        walker.plan.images.push(ImageRecord {
            target: bare(entry),
            manifest: bare(&found.manifest),
            config: found.config.digest().clone(),
            names,
        });
    }
    Ok(())
}

struct Walker<'a, 's> {
    staging: &'a mut Staging<'s>,
    plan: &'a mut Plan,
}

impl Walker<'_, '_> {
    fn visit(&mut self, desc: &Descriptor, depth: usize) -> Result<Option<Found>> {
        match Kind::of(desc.media_type()) {
            Kind::Manifest => self.manifest(desc),
            Kind::Index if depth < MAX_DEPTH => self.index(desc, depth),
            Kind::Index => Err(LayoutError::TooDeep {
                digest: desc.digest().to_string(),
            }),
            Kind::Config | Kind::Content => Ok(None),
        }
    }

    fn manifest(&mut self, desc: &Descriptor) -> Result<Option<Found>> {
        let bytes = self.json(desc, "manifest")?;
        let what = || format!("manifest {}", desc.digest());
        let manifest = content::parse_manifest(&bytes, what)?;
        let config = manifest.config();
        if Kind::of(config.media_type()) != Kind::Config {
            return Ok(None); // an artifact (signature, SBOM...), not an image
        }
        for layer in manifest.layers() {
            self.require(layer, "layer")?;
        }
        self.require(config, "image config")?;
        self.plan.add_blob(blob_path(desc.digest()), desc);
        Ok(Some(Found {
            manifest: desc.clone(),
            config: config.clone(),
            layers: manifest.layers().clone(),
        }))
    }

    fn index(&mut self, desc: &Descriptor, depth: usize) -> Result<Option<Found>> {
        let bytes = self.json(desc, "index")?;
        let index = content::parse_index(&bytes, || format!("index {}", desc.digest()))?;
        let mut found: Vec<(Descriptor, Found)> = Vec::new();
        for child in index.manifests() {
            if !self.present(child)? {
                continue;
            }
            if let Some(f) = self.visit(child, depth + 1)? {
                found.push((child.clone(), f));
            }
        }
        let candidates: Vec<&Descriptor> = found.iter().map(|(d, _)| d).collect();
        let chosen = platform::choose(&candidates).ok_or_else(|| LayoutError::NoManifest {
            digest: desc.digest().to_string(),
        })?;
        self.plan.add_blob(blob_path(desc.digest()), desc);
        Ok(Some(found.swap_remove(chosen).1))
    }

    /// Reads a verified JSON document from the layout (or the store, which may already
    /// hold it).
    fn json(&mut self, desc: &Descriptor, what: &'static str) -> Result<Vec<u8>> {
        sha256_only(desc)?;
        if desc.size() > JSON_CAP {
            return Err(LayoutError::TooLarge {
                what,
                digest: desc.digest().to_string(),
                size: desc.size(),
            });
        }
        let path = blob_path(desc.digest());
        if self.staging.verify(&path, desc)? {
            return Ok(self.staging.read(&path, JSON_CAP)?.unwrap_or_default());
        }
        let blobs = self.staging.blobs();
        if blobs.has(desc.digest()) {
            return Ok(blobs.read_json(desc.digest())?);
        }
        Err(LayoutError::Missing {
            digest: desc.digest().to_string(),
            what,
        })
    }

    fn present(&mut self, desc: &Descriptor) -> Result<bool> {
        sha256_only(desc)?;
        let path = blob_path(desc.digest());
        Ok(self.staging.stat(&path)?.is_some() || self.staging.blobs().has(desc.digest()))
    }

    fn require(&mut self, desc: &Descriptor, what: &'static str) -> Result<()> {
        if !self.present(desc)? {
            return Err(LayoutError::Missing {
                digest: desc.digest().to_string(),
                what,
            });
        }
        self.plan.add_blob(blob_path(desc.digest()), desc);
        Ok(())
    }
}

/// The names an index.json entry carries: containerd's full name, else the OCI ref name
/// (a full reference, or a tag for `base`'s repository). A lone unnamed image gets `base`.
fn names(entry: &Descriptor, base: Option<&ImageRef>, single: bool) -> Result<Vec<String>> {
    let annotation = |key| entry.annotations().as_ref().and_then(|a| a.get(key));
    let parse = |name: &str| {
        ImageRef::parse(name).map_err(|source| LayoutError::Name {
            name: name.to_owned(),
            source,
        })
    };
    let reference = if let Some(name) = annotation(NAME_ANNOTATION) {
        Some(parse(name)?)
    } else if let Some(name) = annotation(REF_ANNOTATION) {
        if name.contains(['/', ':', '@']) {
            Some(parse(name)?)
        } else if let Some(base) = base {
            Some(parse(&format!("{}:{name}", base.repository()))?)
        } else {
            None
        }
    } else if single {
        base.cloned()
    } else {
        None
    };
    // A digest reference pins content; it is not a name that can be moved.
    Ok(reference
        .filter(|r| r.tag().is_some() && r.digest().is_none())
        .map(|r| vec![r.full()])
        .unwrap_or_default())
}

/// A descriptor without the annotations of the layout it came from (they describe the
/// layout, not the image).
fn bare(desc: &Descriptor) -> Descriptor {
    let mut d = Descriptor::new(
        desc.media_type().clone(),
        desc.size(),
        desc.digest().clone(),
    );
    d.set_platform(desc.platform().clone());
    d
}
