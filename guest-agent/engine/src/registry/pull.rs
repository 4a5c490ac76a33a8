//! `docker pull`: resolve a reference to one platform's manifest, then download the
//! config and layers (a few at a time) through the store's verified staging and name the
//! image. Nothing is named until every blob is in; a failed or abandoned pull removes
//! the blobs it added.
//!
//! Split in two so the API can answer an unknown image or refused credentials with a
//! status code before it starts streaming progress: [`resolve`] (manifests, in memory,
//! capped) and [`pull`] (blobs, streamed to disk).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest as mt;
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use oci_spec::image::{Descriptor, Digest, ImageManifest, MediaType};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::auth::{self, Credentials};
use super::client::{self, Endpoint};
use super::config::{strip_scheme, RegistryConfig};
use super::ingest::{self, Ingest};
use super::manifest::ManifestFetcher;
use super::platform::{self, Platform};
use super::{RegistryError, Result};
use crate::image::reference::ImageRef;
use crate::image::store::media::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST};
use crate::image::store::{content, BlobError, ImageRecord, Store};

/// Layers downloaded at once.
const CONCURRENT_LAYERS: usize = 3;
/// Body chunks queued between the network and the disk writer of one layer.
const IN_FLIGHT: usize = 8;
/// Progress is reported at most every this many bytes of a layer.
const PROGRESS_STEP: u64 = 256 * 1024;

const SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const ACCEPT: &[&str] = &[
    mt::OCI_IMAGE_INDEX_MEDIA_TYPE,
    mt::IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    mt::OCI_IMAGE_MEDIA_TYPE,
    mt::IMAGE_MANIFEST_MEDIA_TYPE,
    SCHEMA1_SIGNED,
    SCHEMA1,
];

/// Gives the puller's blocking threads the store (the engine, or a bare store in tests).
pub trait StoreAccess: Send + Sync + 'static {
    fn store(&self) -> &Store;
}

impl StoreAccess for Store {
    fn store(&self) -> &Store {
        self
    }
}

impl StoreAccess for crate::engine::Engine {
    fn store(&self) -> &Store {
        self.images()
    }
}

/// What to pull and how.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// As the user typed it: `busybox`, `127.0.0.1:5000/x:1`, `x@sha256:...`.
    pub reference: String,
    /// `os/arch[/variant]`; empty or absent is this host.
    pub platform: Option<String>,
    /// From the client; when absent, the daemon user's docker config is consulted.
    pub credentials: Option<Credentials>,
    pub config: RegistryConfig,
}

/// What a pull reports, in the order docker's progress has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullProgress {
    /// `Pulling from library/busybox` (id: the tag or digest).
    Pulling { repository: String, id: String },
    /// One layer (id: the first 12 hex digits of its digest).
    Layer { id: String, status: LayerStatus },
    /// `Digest: sha256:...` of what was pulled.
    Digest(String),
    /// The closing line: downloaded, or already up to date.
    Done { name: String, updated: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerStatus {
    Waiting,
    AlreadyExists,
    Downloading { current: u64, total: u64 },
    VerifyingChecksum,
    DownloadComplete,
    PullComplete,
}

pub type Progress = Arc<dyn Fn(PullProgress) + Send + Sync>;

/// A reference resolved to one platform's manifest, ready for [`pull`].
pub struct Resolved {
    pub reference: ImageRef,
    remote: Reference,
    client: Arc<oci_client::Client>,
    /// The tagged thing: the manifest itself, or the index holding it.
    target: (Descriptor, Bytes),
    /// The manifest for the platform (same as target for a single manifest).
    manifest: (Descriptor, Bytes),
    parsed: ImageManifest,
    /// Whether the platform is this host's. The store keeps one record per target, so
    /// an image pulled for another platform is recorded by its manifest, not the index
    /// (which would merge it with the host's record).
    for_host: bool,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("reference", &self.reference)
            .field("target", &self.target.0)
            .field("manifest", &self.manifest.0)
            .finish()
    }
}

impl Resolved {
    /// The digest docker prints (`Digest: ...`): the index's or the manifest's.
    pub fn digest(&self) -> &Digest {
        self.target.0.digest()
    }
}

/// Resolves `options.reference` to the manifest for the wanted platform, trying the
/// configured mirrors first for Docker Hub images.
pub async fn resolve(options: &PullOptions) -> Result<Resolved> {
    let reference = ImageRef::parse(&options.reference)?;
    let platform = Platform::parse(options.platform.as_deref().unwrap_or(""))?;
    let remote =
        Reference::try_from(reference.full().as_str()).map_err(|e| RegistryError::Malformed {
            reference: options.reference.clone(),
            message: e.to_string(),
        })?;
    let mut last = None;
    if remote.registry() == "docker.io" {
        for mirror in &options.config.registry_mirrors {
            let mirrored = match remote.digest() {
                Some(d) => Reference::with_digest(
                    strip_scheme(mirror).into(),
                    remote.repository().into(),
                    d.into(),
                ),
                None => Reference::with_tag(
                    strip_scheme(mirror).into(),
                    remote.repository().into(),
                    remote.tag().unwrap_or("latest").into(),
                ),
            };
            match resolve_at(&reference, mirrored, options, &platform).await {
                Ok(resolved) => return Ok(resolved),
                Err(e) => {
                    tracing::info!(%mirror, error = %e, "mirror failed, trying the next source");
                    last = Some(e);
                }
            }
        }
    }
    // The registry itself decides; the mirrors' errors were logged.
    let result = resolve_at(&reference, remote, options, &platform).await;
    if let (Err(e), Some(m)) = (&result, last) {
        tracing::info!(error = %e, mirror_error = %m, "every source failed");
    }
    result
}

async fn resolve_at(
    reference: &ImageRef,
    remote: Reference,
    options: &PullOptions,
    platform: &Platform,
) -> Result<Resolved> {
    let host = remote.resolve_registry().to_string();
    let mut config = options.config.clone();
    // A mirror given as http:// is plain HTTP, whatever its address.
    if let Some(m) = config
        .registry_mirrors
        .iter()
        .find(|m| m.starts_with("http://") && strip_scheme(m) == host)
    {
        config.insecure_registries.push(m.clone());
    }
    let endpoint = Endpoint::discover(&host, &config).await?;
    let credentials = match &options.credentials {
        Some(c) => Some(c.clone()),
        None => auth::from_docker_config(&[remote.registry(), &host])?,
    };
    let auth = credentials.map_or(RegistryAuth::Anonymous, |c| c.to_registry_auth());
    let client = Arc::new(endpoint.oci());
    let show = reference.familiar();
    let fetcher = ManifestFetcher::connect(&endpoint, &client, &remote, &auth, |e, attempts| {
        manifest_error(e, attempts, &remote, &show)
    })
    .await?;
    let (bytes, digest) = fetch_manifest(&fetcher, &remote, &show).await?;
    let (media_type, is_index) = classify(&bytes, &show)?;
    let target = (descriptor(&media_type, &bytes, &digest, &show)?, bytes);
    if !is_index {
        let parsed = parse_manifest(&target.1, &show)?;
        return Ok(Resolved {
            reference: reference.clone(),
            remote,
            client,
            manifest: target.clone(),
            target,
            parsed,
            for_host: true,
        });
    }
    let index = content::parse_index(&target.1, || format!("index of {show}")).map_err(|e| {
        RegistryError::Malformed {
            reference: show.clone(),
            message: crate_chain(&e),
        }
    })?;
    let entry = platform::choose(&index, platform).ok_or_else(|| RegistryError::NoPlatform {
        platform: platform.to_string(),
    })?;
    let child = Reference::with_digest(
        remote.registry().into(),
        remote.repository().into(),
        entry.digest().to_string(),
    );
    let (bytes, digest) = fetch_manifest(&fetcher, &child, &show).await?;
    let (media_type, child_is_index) = classify(&bytes, &show)?;
    if child_is_index || digest != entry.digest().to_string() {
        return Err(RegistryError::Malformed {
            reference: show,
            message: format!("the index entry {} is not that manifest", entry.digest()),
        });
    }
    let mut desc = descriptor(&media_type, &bytes, &digest, &show)?;
    desc.set_platform(entry.platform().clone());
    let parsed = parse_manifest(&bytes, &show)?;
    Ok(Resolved {
        reference: reference.clone(),
        remote,
        client,
        target,
        manifest: (desc, bytes),
        parsed,
        for_host: platform.os == "linux" && platform.arch == Platform::host().arch,
    })
}

async fn fetch_manifest(
    fetcher: &ManifestFetcher,
    remote: &Reference,
    show: &str,
) -> Result<(Bytes, String)> {
    fetcher
        .fetch(remote, ACCEPT, show, |e, attempts| {
            manifest_error(e, attempts, remote, show)
        })
        .await
}

fn manifest_error(
    e: OciDistributionError,
    attempts: u32,
    remote: &Reference,
    show: &str,
) -> RegistryError {
    let message = client::message(&e);
    let repository = show.split(['@']).next().unwrap_or(show);
    let repository = repository
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(repository, |(r, _)| r)
        .to_string();
    let codes = |want: &[OciErrorCode]| match &e {
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().any(|x| want.contains(&x.code))
        }
        _ => false,
    };
    if codes(&[OciErrorCode::ManifestUnknown, OciErrorCode::NameUnknown])
        || matches!(e, OciDistributionError::ImageManifestNotFoundError(_))
        || matches!(e, OciDistributionError::ServerError { code: 404, .. })
    {
        return RegistryError::ManifestUnknown {
            reference: show.into(),
            message,
        };
    }
    if codes(&[OciErrorCode::Unauthorized, OciErrorCode::Denied])
        || matches!(
            e,
            OciDistributionError::UnauthorizedError { .. }
                | OciDistributionError::AuthenticationFailure(_)
        )
    {
        return RegistryError::Unauthorized {
            repository,
            message,
        };
    }
    if client::transient(&e) {
        return RegistryError::Unreachable {
            registry: remote.resolve_registry().into(),
            attempts,
            message,
        };
    }
    RegistryError::Registry {
        registry: remote.resolve_registry().into(),
        message,
    }
}

/// The manifest's media type and whether it is an index; schema 1 is refused here.
fn classify(bytes: &[u8], show: &str) -> Result<(String, bool)> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        schema_version: Option<u32>,
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let head: Head = serde_json::from_slice(bytes).map_err(|e| RegistryError::Malformed {
        reference: show.into(),
        message: e.to_string(),
    })?;
    let media_type = head.media_type.unwrap_or_default();
    if head.schema_version == Some(1) || media_type == SCHEMA1 || media_type == SCHEMA1_SIGNED {
        return Err(RegistryError::Schema1 {
            reference: show.into(),
            media_type: if media_type.is_empty() {
                SCHEMA1.into()
            } else {
                media_type
            },
        });
    }
    let index_type = [mt::OCI_IMAGE_INDEX_MEDIA_TYPE, DOCKER_MANIFEST_LIST];
    let manifest_type = [mt::OCI_IMAGE_MEDIA_TYPE, DOCKER_MANIFEST];
    match media_type.as_str() {
        "" if head.manifests.is_some() => Ok((mt::OCI_IMAGE_INDEX_MEDIA_TYPE.into(), true)),
        "" => Ok((mt::OCI_IMAGE_MEDIA_TYPE.into(), false)),
        t if index_type.contains(&t) => Ok((media_type, true)),
        t if manifest_type.contains(&t) => Ok((media_type, false)),
        _ => Err(RegistryError::MediaType {
            reference: show.into(),
            media_type,
        }),
    }
}

fn descriptor(media_type: &str, bytes: &[u8], digest: &str, show: &str) -> Result<Descriptor> {
    let digest = Digest::try_from(digest).map_err(|e| RegistryError::Malformed {
        reference: show.into(),
        message: format!("bad digest {digest}: {e}"),
    })?;
    Ok(Descriptor::new(
        MediaType::from(media_type),
        bytes.len() as u64,
        digest,
    ))
}

fn parse_manifest(bytes: &[u8], show: &str) -> Result<ImageManifest> {
    content::parse_manifest(bytes, || format!("manifest of {show}")).map_err(|e| {
        RegistryError::Malformed {
            reference: show.into(),
            message: crate_chain(&e),
        }
    })
}

/// An error and its sources on one line.
fn crate_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The blobs a pull added, removed again unless the pull completes. Dropping the pull's
/// future (a client that went away) runs this too.
struct Rollback<S: StoreAccess> {
    store: Arc<S>,
    added: Added,
    done: bool,
}

/// Digests of the blobs a pull committed, shared with its downloads.
#[derive(Debug, Clone, Default)]
struct Added(Arc<Mutex<Vec<Digest>>>);

impl Added {
    fn add(&self, digest: &Digest) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(digest.clone());
    }
}

impl<S: StoreAccess> Drop for Rollback<S> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let added = std::mem::take(&mut *self.added.0.lock().unwrap_or_else(|p| p.into_inner()));
        for digest in added {
            if let Err(e) = self.store.store().blobs().remove(&digest) {
                tracing::warn!(%digest, error = %e, "cannot remove a blob of an abandoned pull");
            }
        }
    }
}

/// Downloads what `resolved` names into the store and tags it. Returns the image.
pub async fn pull<S: StoreAccess>(
    store: Arc<S>,
    resolved: Resolved,
    progress: Progress,
) -> Result<ImageRecord> {
    let show = resolved.reference.familiar();
    let full = resolved.reference.full();
    let id = resolved
        .reference
        .tag()
        .or(resolved.reference.digest())
        .unwrap_or("latest")
        .to_string();
    progress(PullProgress::Pulling {
        repository: resolved.remote.repository().to_string(),
        id,
    });
    // Downloads a dead engine left that no pull will continue.
    let root = store.store().root().to_path_buf();
    blocking(move || ingest::sweep(&root)).await?;
    let mut rollback = Rollback {
        store: store.clone(),
        added: Added::default(),
        done: false,
    };
    let config_desc = resolved.parsed.config().clone();
    let recorded = if resolved.for_host {
        resolved.target.0.clone()
    } else {
        resolved.manifest.0.clone()
    };
    let before = store.store().resolve(&full).ok();
    let up_to_date = before
        .as_ref()
        .is_some_and(|r| r.target.digest() == recorded.digest());
    let layers: Vec<Descriptor> = resolved.parsed.layers().clone();
    for layer in &layers {
        let status = if store.store().blobs().has(layer.digest()) {
            LayerStatus::AlreadyExists
        } else {
            LayerStatus::Waiting
        };
        progress(PullProgress::Layer {
            id: short(layer.digest()),
            status,
        });
    }
    let fetch = Fetcher {
        store: store.clone(),
        client: resolved.client.clone(),
        remote: resolved.remote.clone(),
        added: rollback.added.clone(),
    };
    fetch.blob(&config_desc, None).await?;
    let malformed = |e: content::ContentError| RegistryError::Malformed {
        reference: show.clone(),
        message: crate_chain(&e),
    };
    let config = content::config(store.store().blobs(), config_desc.digest()).map_err(malformed)?;
    content::pair_layers(&resolved.parsed, &config, config_desc.digest()).map_err(malformed)?;
    futures_util::stream::iter(layers)
        .map(|layer| {
            let fetch = fetch.clone();
            let progress = progress.clone();
            async move {
                let id = short(layer.digest());
                if fetch.blob(&layer, Some((&id, &progress))).await? {
                    progress(PullProgress::Layer {
                        id,
                        status: LayerStatus::PullComplete,
                    });
                }
                Ok::<_, RegistryError>(())
            }
        })
        .buffer_unordered(CONCURRENT_LAYERS)
        .try_collect::<Vec<()>>()
        .await?;
    for (desc, bytes) in [&resolved.manifest, &resolved.target] {
        let (store2, desc2, bytes2) = (store.clone(), desc.clone(), bytes.clone());
        let new = blocking(move || store2.store().blobs().put(&bytes2[..], &desc2))
            .await?
            .map_err(|source| RegistryError::Blob {
                digest: desc.digest().to_string(),
                source,
            })?;
        if new {
            rollback.added.add(desc.digest());
        }
    }
    let name = full;
    let record = ImageRecord {
        target: recorded,
        manifest: resolved.manifest.0.clone(),
        config: config_desc.digest().clone(),
        names: vec![name],
    };
    let store2 = store.clone();
    let added = blocking(move || store2.store().add_images(vec![record])).await??;
    rollback.done = true;
    progress(PullProgress::Digest(resolved.digest().to_string()));
    progress(PullProgress::Done {
        name: show,
        updated: !up_to_date,
    });
    added.into_iter().next().ok_or(RegistryError::Cancelled)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| RegistryError::Cancelled)
}

/// `sha256:0123456789abcdef...` -> `0123456789ab`, as docker names layers.
fn short(digest: &Digest) -> String {
    digest.digest().chars().take(12).collect()
}

struct Fetcher<S: StoreAccess> {
    store: Arc<S>,
    client: Arc<oci_client::Client>,
    remote: Reference,
    added: Added,
}

impl<S: StoreAccess> Clone for Fetcher<S> {
    fn clone(&self) -> Self {
        Fetcher {
            store: self.store.clone(),
            client: self.client.clone(),
            remote: self.remote.clone(),
            added: self.added.clone(),
        }
    }
}

/// What the network side tells the disk writer of one blob.
enum Feed {
    Data(Bytes),
    /// The registry sent the whole blob to a Range request: start over.
    Restart,
    /// Every byte is in: verify and commit.
    Finish,
    /// The transfer failed: keep what is there for a later pull.
    Keep,
}

/// How one attempt at a blob ended.
enum Transfer {
    /// Committed (true: new to the store).
    Done(bool),
    /// The content failed verification after continuing a kept partial: the partial
    /// is gone, a download from byte 0 follows.
    BadPartial(BlobError),
}

impl<S: StoreAccess> Fetcher<S> {
    /// Streams one blob into the store unless present. Returns whether it was
    /// downloaded. The bytes go to a partial file under `<root>/ingest` (see
    /// [`super::ingest`]); a transfer that breaks, or a partial an earlier engine left,
    /// is continued from where it stopped with a Range request. The content is verified
    /// as a whole before commit; a kept partial that fails it is downloaded again.
    async fn blob(&self, desc: &Descriptor, progress: Option<(&str, &Progress)>) -> Result<bool> {
        let blobs = self.store.store().blobs();
        if blobs.has(desc.digest()) {
            return Ok(false);
        }
        blobs
            .check_cap(desc)
            .map_err(|source| RegistryError::Blob {
                digest: desc.digest().to_string(),
                source,
            })?;
        let new = match self.transfer(desc, progress).await? {
            Transfer::Done(new) => new,
            Transfer::BadPartial(e) => {
                tracing::warn!(digest = %desc.digest(), error = %e,
                    "a kept partial download was corrupt, downloading again");
                match self.transfer(desc, progress).await? {
                    Transfer::Done(new) => new,
                    Transfer::BadPartial(source) => {
                        return Err(RegistryError::Blob {
                            digest: desc.digest().to_string(),
                            source,
                        })
                    }
                }
            }
        };
        if new {
            self.added.add(desc.digest());
        }
        if let Some((id, progress)) = progress {
            progress(PullProgress::Layer {
                id: id.to_string(),
                status: LayerStatus::DownloadComplete,
            });
        }
        Ok(true)
    }

    async fn transfer(
        &self,
        desc: &Descriptor,
        progress: Option<(&str, &Progress)>,
    ) -> Result<Transfer> {
        let blob_err = |source| RegistryError::Blob {
            digest: desc.digest().to_string(),
            source,
        };
        let (store, wanted) = (self.store.clone(), desc.clone());
        let ingest = blocking(move || Ingest::open(store.store().root(), &wanted))
            .await?
            .map_err(blob_err)?;
        let resumed_from = ingest.resumed_from();
        let mut offset = ingest.offset();
        let (tx, rx) = mpsc::channel::<Feed>(IN_FLIGHT);
        let store = self.store.clone();
        let writer = tokio::task::spawn_blocking(move || write_blob(ingest, rx, &store));
        let total = desc.size();
        let digest = desc.digest().to_string();
        let report = |status| {
            if let Some((id, progress)) = progress {
                progress(PullProgress::Layer {
                    id: id.to_string(),
                    status,
                });
            }
        };
        if resumed_from > 0 {
            tracing::info!(%digest, offset, "continuing a partial download");
        }
        let mut reported = offset;
        let mut attempt = 1;
        let sent = loop {
            if offset == total {
                break Ok(());
            }
            let stream = if offset == 0 {
                self.client
                    .pull_blob_stream(&self.remote, digest.as_str())
                    .await
            } else {
                match self
                    .client
                    .pull_blob_stream_partial(&self.remote, digest.as_str(), offset, None)
                    .await
                {
                    Ok(oci_client::client::BlobResponse::Partial(s)) => Ok(s),
                    Ok(oci_client::client::BlobResponse::Full(s)) => {
                        tracing::info!(%digest, offset,
                            "the registry ignored the Range request, starting over");
                        offset = 0;
                        reported = 0;
                        if tx.send(Feed::Restart).await.is_err() {
                            break Ok(());
                        }
                        Ok(s)
                    }
                    Err(e) => Err(e),
                }
            };
            let mut stream = match stream {
                Ok(s) => s,
                Err(e) if attempt < client::ATTEMPTS && client::transient(&e) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(500 * attempt as u64))
                        .await;
                    continue;
                }
                Err(e) => break Err(client::message(&e)),
            };
            let mut failed = None;
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(bytes) => {
                        offset += bytes.len() as u64;
                        if tx.send(Feed::Data(bytes)).await.is_err() {
                            // The writer stopped (over the size, disk error): its error says why.
                            failed = Some(String::new());
                            break;
                        }
                        if offset - reported >= PROGRESS_STEP || offset == total {
                            reported = offset;
                            report(LayerStatus::Downloading {
                                current: offset,
                                total,
                            });
                        }
                    }
                    Err(e) => {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
            match failed {
                None => break Ok(()),
                Some(m) if m.is_empty() => break Ok(()),
                Some(m) if attempt < client::ATTEMPTS && offset < total => {
                    tracing::info!(%digest, offset, error = %m, "blob transfer broke, resuming");
                    attempt += 1;
                }
                Some(m) => break Err(m),
            }
        };
        if let Err(message) = sent {
            // A transfer cut short keeps its bytes for the next pull; a complete one that
            // failed (the registry's own digest check) is not worth keeping.
            let keep = offset > 0 && offset < total;
            let _ = tx.send(if keep { Feed::Keep } else { Feed::Restart }).await;
            drop(tx);
            let _ = writer.await;
            return Err(RegistryError::Download { digest, message });
        }
        report(LayerStatus::VerifyingChecksum);
        let _ = tx.send(Feed::Finish).await;
        drop(tx);
        match writer.await.map_err(|_| RegistryError::Cancelled)? {
            Ok(new) => Ok(Transfer::Done(new)),
            Err(e @ (BlobError::DigestMismatch { .. } | BlobError::SizeMismatch { .. }))
                if resumed_from > 0 =>
            {
                Ok(Transfer::BadPartial(e))
            }
            Err(e) => Err(blob_err(e)),
        }
    }
}

/// The disk side of one blob: appends what arrives to the ingest file, and commits
/// it on [`Feed::Finish`]. The channel closing without a word (the pull was dropped:
/// its client went away) removes the file.
fn write_blob<S: StoreAccess>(
    mut ingest: Ingest,
    mut rx: mpsc::Receiver<Feed>,
    store: &Arc<S>,
) -> std::result::Result<bool, BlobError> {
    loop {
        match rx.blocking_recv() {
            Some(Feed::Data(bytes)) => ingest.write(&bytes)?,
            Some(Feed::Restart) => ingest.restart()?,
            Some(Feed::Finish) => return ingest.finish(store.store().blobs()),
            Some(Feed::Keep) => {
                ingest.keep();
                return Ok(false);
            }
            None => return Ok(false),
        }
    }
}
