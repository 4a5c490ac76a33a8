//! `docker push`: the image's manifests, configs and layers to a registry. An image
//! pulled from a multi-platform index whose every platform is here (each pulled with
//! `--platform`) goes whole: every platform's blobs, each platform manifest by digest,
//! then the index under the tag, so the registry gets the same index digest. When some
//! platform is missing, the image's own platform manifest goes under the tag and the
//! progress says only that single-platform image was pushed (docker's behaviour).
//! Blobs the repository already has are skipped, blobs another repository of the same
//! registry has (an image pulled from, or pushed to, there) are mounted across
//! repositories where the registry allows it, the rest are uploaded from the store in
//! chunks (a layer is never held whole in memory); the manifest goes last, under the tag.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};
use oci_spec::image::{Descriptor, ImageManifest};

use super::auth::{self, Credentials};
use super::client::{self, Endpoint};
use super::config::RegistryConfig;
use super::pull::StoreAccess;
use super::{RegistryError, Result};
use crate::image::reference::ImageRef;
use crate::image::store::media::Kind;
use crate::image::store::{content, BlobError};

/// Blobs uploaded at once.
const CONCURRENT_BLOBS: usize = 3;
/// One upload request (a PATCH of the chunked upload) carries at most this much.
const CHUNK: usize = 4 * 1024 * 1024;

/// What to push and how.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// The local image's name, which says where it goes: `127.0.0.1:5000/x:1`.
    pub reference: String,
    /// From the client; when absent, the daemon user's docker config is consulted.
    pub credentials: Option<Credentials>,
    pub config: RegistryConfig,
}

/// What a push reports, in the order docker's progress has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushProgress {
    /// `The push refers to repository [127.0.0.1:5000/x]`.
    Repository(String),
    /// One blob (id: the first 12 hex digits of its digest).
    Blob { id: String, status: BlobStatus },
    /// A line of its own: what was left out and why.
    Note(String),
    /// `TAG: digest: sha256:... size: N`: the manifest is in.
    Done {
        tag: String,
        digest: String,
        size: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobStatus {
    Preparing,
    Pushing {
        current: u64,
        total: u64,
    },
    Pushed,
    AlreadyExists,
    /// Mounted from another repository of the registry (its path).
    MountedFrom(String),
}

pub type Progress = Arc<dyn Fn(PushProgress) + Send + Sync>;

/// Pushes the local image `options.reference`; returns (tag, manifest digest, size).
pub async fn push<S: StoreAccess>(
    store: Arc<S>,
    options: PushOptions,
    progress: Progress,
) -> Result<(String, String, u64)> {
    let reference = ImageRef::parse(&options.reference)?;
    let tag = reference.tag().unwrap_or("latest").to_string();
    let remote = Reference::with_tag(
        reference.reference().registry().into(),
        reference.reference().repository().into(),
        tag.clone(),
    );
    let (plan, siblings) = {
        let store = store.clone();
        let name = options.reference.clone();
        let host = remote.registry().to_string();
        let repository = remote.repository().to_string();
        tokio::task::spawn_blocking(move || local_image(store.store(), &name, &host, &repository))
            .await
            .map_err(|_| RegistryError::Cancelled)??
    };

    let host = remote.resolve_registry().to_string();
    let endpoint = Endpoint::discover(&host, &options.config).await?;
    let credentials = match &options.credentials {
        Some(c) => Some(c.clone()),
        None => auth::from_docker_config(&[remote.registry(), &host])?,
    };
    let auth = credentials.map_or(RegistryAuth::Anonymous, |c| c.to_registry_auth());
    let client = Arc::new(endpoint.oci());
    for operation in [RegistryOperation::Pull, RegistryOperation::Push] {
        client::retry(|| client.auth(&remote, &auth, operation))
            .await
            .map_err(|(e, attempts)| push_error(e, attempts, &remote))?;
    }
    progress(PushProgress::Repository(reference.repository()));
    if let Some(note) = &plan.note {
        progress(PushProgress::Note(note.clone()));
    }

    // Layers bottom first, as docker lists them, then the configs; each blob once.
    let mut blobs: Vec<Descriptor> = Vec::new();
    for (_, _, manifest) in &plan.manifests {
        for desc in manifest.layers() {
            if !blobs.iter().any(|b| b.digest() == desc.digest()) {
                blobs.push(desc.clone());
            }
        }
    }
    let layers = blobs.len();
    for (_, _, manifest) in &plan.manifests {
        let desc = manifest.config();
        if !blobs.iter().any(|b| b.digest() == desc.digest()) {
            blobs.push(desc.clone());
        }
    }
    for desc in &blobs[..layers] {
        progress(PushProgress::Blob {
            id: short(desc),
            status: BlobStatus::Preparing,
        });
    }
    let siblings = Arc::new(siblings);
    futures_util::stream::iter(blobs)
        .map(|desc| {
            let (store, client, remote, progress, siblings) = (
                store.clone(),
                client.clone(),
                remote.clone(),
                progress.clone(),
                siblings.clone(),
            );
            async move { push_blob(store, &client, &remote, &desc, &siblings, &progress).await }
        })
        .buffer_unordered(CONCURRENT_BLOBS)
        .try_collect::<Vec<()>>()
        .await?;

    // The platform manifests of an index by digest first: the index refers to them.
    let mut documents: Vec<(Reference, &Descriptor, &Bytes)> = Vec::new();
    if let Some((index_desc, index_bytes)) = &plan.index {
        for (desc, bytes, _) in &plan.manifests {
            let by_digest = Reference::with_digest(
                remote.registry().into(),
                remote.repository().into(),
                desc.digest().to_string(),
            );
            documents.push((by_digest, desc, bytes));
        }
        documents.push((remote.clone(), index_desc, index_bytes));
    } else {
        let (desc, bytes, _) = &plan.manifests[0];
        documents.push((remote.clone(), desc, bytes));
    }
    for (target, desc, bytes) in &documents {
        push_document(&client, target, desc, bytes, &reference.familiar()).await?;
    }
    let (_, top_desc, top_bytes) = documents[documents.len() - 1];
    let size = top_bytes.len() as u64;
    let digest = top_desc.digest().to_string();
    progress(PushProgress::Done {
        tag: tag.clone(),
        digest: digest.clone(),
        size,
    });
    Ok((tag, digest, size))
}

/// One manifest or index, under `target` (a tag or its digest).
async fn push_document(
    client: &oci_client::Client,
    target: &Reference,
    desc: &Descriptor,
    bytes: &Bytes,
    show: &str,
) -> Result<()> {
    let media_type = desc.media_type().to_string();
    let content_type: reqwest::header::HeaderValue =
        media_type.parse().map_err(|_| RegistryError::Malformed {
            reference: show.to_string(),
            message: format!("media type {media_type}"),
        })?;
    client::retry(|| client.push_manifest_raw(target, bytes.clone(), content_type.clone()))
        .await
        .map_err(|(e, attempts)| push_error(e, attempts, target))?;
    Ok(())
}

/// What goes: the manifests (one, or every platform of the index) and the index.
struct Plan {
    /// The index under the tag, when every platform of it is here.
    index: Option<(Descriptor, Bytes)>,
    /// Platform manifests: descriptor, bytes, parsed.
    manifests: Vec<(Descriptor, Bytes, ImageManifest)>,
    /// Why the index stays behind, when it does.
    note: Option<String>,
}

/// What of the image goes (see [`Plan`]) and the other repositories of `host` its
/// names point at (mount sources).
fn local_image(
    store: &crate::image::store::Store,
    name: &str,
    host: &str,
    repository: &str,
) -> Result<(Plan, Vec<Reference>)> {
    let record = store.resolve(name)?;
    let manifest =
        read_manifest(store, name, &record.manifest)?.ok_or_else(|| RegistryError::Blob {
            digest: record.manifest.digest().to_string(),
            source: BlobError::NotFound {
                digest: record.manifest.digest().to_string(),
            },
        })?;
    let mut plan = Plan {
        index: None,
        manifests: vec![manifest],
        note: None,
    };
    if Kind::of(record.target.media_type()) == Kind::Index {
        let (index, platforms, missing) = read_index(store, name, &record.target)?;
        if missing.is_empty() {
            plan.index = Some((record.target.clone(), index));
            plan.manifests = platforms;
        } else {
            plan.note = Some(format!(
                "Not all multiplatform-content is present and only the available \
                 single-platform image was pushed ({} of the index {} is not here): \
                 {} -> {}",
                missing.join(", "),
                record.target.digest(),
                record.target.digest(),
                record.manifest.digest()
            ));
        }
    }
    let siblings = record
        .names
        .iter()
        .filter_map(|n| Reference::try_from(n.as_str()).ok())
        .filter(|r| r.registry() == host && r.repository() != repository)
        .collect();
    Ok((plan, siblings))
}

type Document = (Descriptor, Bytes, ImageManifest);

/// A platform manifest whose config and layers are all in the store, else `None`.
fn read_manifest(
    store: &crate::image::store::Store,
    name: &str,
    desc: &Descriptor,
) -> Result<Option<Document>> {
    let blobs = store.blobs();
    if !blobs.has(desc.digest()) {
        return Ok(None);
    }
    let bytes = blobs
        .read_json(desc.digest())
        .map_err(|e| RegistryError::Blob {
            digest: desc.digest().to_string(),
            source: e,
        })?;
    let manifest =
        content::parse_manifest(&bytes, || format!("manifest of {name}")).map_err(|e| {
            RegistryError::Malformed {
                reference: name.to_string(),
                message: e.to_string(),
            }
        })?;
    let complete = blobs.has(manifest.config().digest())
        && manifest.layers().iter().all(|l| blobs.has(l.digest()));
    Ok(complete.then(|| (desc.clone(), Bytes::from(bytes), manifest)))
}

/// The index's bytes, the platforms that are here whole, and the platforms (as
/// `os/arch[/variant]`, or the digest) that are not.
fn read_index(
    store: &crate::image::store::Store,
    name: &str,
    desc: &Descriptor,
) -> Result<(Bytes, Vec<Document>, Vec<String>)> {
    let bytes = store
        .blobs()
        .read_json(desc.digest())
        .map_err(|e| RegistryError::Blob {
            digest: desc.digest().to_string(),
            source: e,
        })?;
    let index = content::parse_index(&bytes, || format!("index of {name}")).map_err(|e| {
        RegistryError::Malformed {
            reference: name.to_string(),
            message: e.to_string(),
        }
    })?;
    let (mut present, mut missing) = (Vec::new(), Vec::new());
    for entry in index.manifests() {
        let found = if Kind::of(entry.media_type()) == Kind::Manifest {
            read_manifest(store, name, entry)?
        } else {
            None
        };
        match found {
            Some(document) => present.push(document),
            None => missing.push(match entry.platform() {
                Some(p) => {
                    let mut text = format!("{}/{}", p.os(), p.architecture());
                    if let Some(variant) = p.variant() {
                        text = format!("{text}/{variant}");
                    }
                    text
                }
                None => entry.digest().to_string(),
            }),
        }
    }
    Ok((Bytes::from(bytes), present, missing))
}

async fn push_blob<S: StoreAccess>(
    store: Arc<S>,
    client: &oci_client::Client,
    remote: &Reference,
    desc: &Descriptor,
    siblings: &[Reference],
    progress: &Progress,
) -> Result<()> {
    let digest = desc.digest().to_string();
    let id = short(desc);
    let report = |status: BlobStatus| {
        progress(PushProgress::Blob {
            id: id.clone(),
            status,
        })
    };
    let is_config = desc.media_type().to_string().contains("config");
    let exists = client::retry(|| client.blob_exists(remote, &digest))
        .await
        .map_err(|(e, attempts)| push_error(e, attempts, remote))?;
    if exists {
        if !is_config {
            report(BlobStatus::AlreadyExists);
        }
        return Ok(());
    }
    for source in siblings {
        if client.mount_blob(remote, source, &digest).await.is_ok()
            && client.blob_exists(remote, &digest).await.unwrap_or(false)
        {
            if !is_config {
                report(BlobStatus::MountedFrom(source.repository().to_string()));
            }
            return Ok(());
        }
    }
    let path = store
        .store()
        .blobs()
        .path(desc.digest())
        .map_err(|e| RegistryError::Blob {
            digest: digest.clone(),
            source: e,
        })?;
    let file = std::fs::File::open(&path).map_err(|e| RegistryError::Download {
        digest: digest.clone(),
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    let total = desc.size();
    let chunks = chunks(file, total, {
        let progress = progress.clone();
        let id = id.clone();
        move |current| {
            if !is_config {
                progress(PushProgress::Blob {
                    id: id.clone(),
                    status: BlobStatus::Pushing { current, total },
                })
            }
        }
    });
    client
        .push_blob_stream(remote, chunks, &digest, Some(total))
        .await
        .map_err(|e| push_error(e, 1, remote))?;
    if !is_config {
        report(BlobStatus::Pushed);
    }
    Ok(())
}

/// The file as a stream of [`CHUNK`]-sized pieces, read on blocking threads; `sent` is
/// told the running total after each piece.
fn chunks(
    file: std::fs::File,
    total: u64,
    sent: impl Fn(u64) + Send + 'static,
) -> impl futures_util::Stream<Item = std::result::Result<Bytes, OciDistributionError>> + Send {
    futures_util::stream::unfold(Some((file, 0u64, sent)), move |state| async move {
        let (mut file, done, sent) = state?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = Vec::with_capacity(CHUNK);
            let result = (&mut file).take(CHUNK as u64).read_to_end(&mut buf);
            (file, result.map(|_| buf))
        })
        .await;
        match read {
            Ok((_, Ok(buf))) if buf.is_empty() => None,
            Ok((file, Ok(buf))) => {
                let done = done + buf.len() as u64;
                sent(done.min(total));
                Some((Ok(Bytes::from(buf)), Some((file, done, sent))))
            }
            Ok((_, Err(e))) => Some((Err(e.into()), None)),
            Err(e) => Some((Err(std::io::Error::other(e).into()), None)),
        }
    })
}

/// The first 12 hex digits of a blob's digest, docker's progress id.
fn short(desc: &Descriptor) -> String {
    desc.digest().digest().chars().take(12).collect()
}

fn push_error(e: OciDistributionError, attempts: u32, remote: &Reference) -> RegistryError {
    let registry = remote.resolve_registry().to_string();
    let mut message = client::message(&e);
    let denied = match &e {
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|x| matches!(x.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)),
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 401 || *code == 403,
        _ => false,
    };
    if denied {
        message = format!("denied: requested access to the resource is denied ({message})");
    }
    if client::transient(&e) {
        return RegistryError::Unreachable {
            registry,
            attempts,
            message,
        };
    }
    RegistryError::Registry { registry, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn chunks_cover_the_file_and_report_progress() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let data: Vec<u8> = (0..2 * CHUNK + 5).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reported = seen.clone();
        let total = data.len() as u64;
        let stream = chunks(std::fs::File::open(&path).unwrap(), total, move |n| {
            reported.lock().unwrap().push(n)
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let pieces: Vec<Bytes> = runtime.block_on(stream.try_collect()).unwrap();
        assert_eq!(
            pieces.iter().map(Bytes::len).collect::<Vec<_>>(),
            [CHUNK, CHUNK, 5]
        );
        assert_eq!(pieces.concat(), data);
        assert_eq!(
            *seen.lock().unwrap(),
            [CHUNK as u64, 2 * CHUNK as u64, total]
        );
    }

    #[test]
    fn an_empty_blob_is_an_empty_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty");
        std::fs::write(&path, b"").unwrap();
        let stream = chunks(std::fs::File::open(&path).unwrap(), 0, |_| {});
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let pieces: Vec<Bytes> = runtime.block_on(stream.try_collect()).unwrap();
        assert!(pieces.is_empty());
    }
}
