//! The facade of a container's filesystem as a whole and of the builder: `diff` (changes),
//! `export`, `commit`, `build` and the build cache's prune.

use std::io::{Read, Write};
use std::path::Path;

use oci_spec::image::Config;

use super::{CopyError, Engine, EngineError};
use crate::build::{self, metadata, BuildError, BuildOptions, Built};
use crate::container::changes::{self, Change};
use crate::container::lifecycle::{ErrorKind, LifecycleError};
use crate::container::prepare::PrepareError;
use crate::container::record::{ContainerRecord, Status};
use crate::image::commit::{self, CommitError, CommitOptions};
use crate::image::store::ImageRecord;

pub use crate::build::{Progress, Report};

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error(transparent)]
    Commit(#[from] CommitError),
    #[error(transparent)]
    Build(Box<BuildError>),
    #[error("Cannot read the changes of container {id}")]
    Changes {
        id: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<EngineError> for FsError {
    fn from(e: EngineError) -> Self {
        FsError::Engine(Box::new(e))
    }
}

impl From<LifecycleError> for FsError {
    fn from(e: LifecycleError) -> Self {
        FsError::Engine(Box::new(e.into()))
    }
}

impl From<FsError> for BuildError {
    fn from(e: FsError) -> Self {
        match e {
            FsError::Engine(e) => BuildError::Engine(e),
            FsError::Commit(e) => BuildError::Commit(e),
            FsError::Build(e) => *e,
            FsError::Changes { source, .. } => BuildError::Io {
                action: "read a container's changes".into(),
                source,
            },
        }
    }
}

impl FsError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            FsError::Engine(e) => e.kind(),
            FsError::Build(e) => e.kind(),
            FsError::Commit(_) | FsError::Changes { .. } => ErrorKind::Internal,
        }
    }
}

/// What `docker commit` asks for besides the container.
#[derive(Debug, Clone, Default)]
pub struct ContainerCommit {
    /// A name for the image (`repo:tag`); none: dangling.
    pub name: Option<String>,
    pub comment: Option<String>,
    pub author: Option<String>,
    /// Dockerfile instructions applied to the config (`--change 'CMD ["x"]'`).
    pub changes: Vec<String>,
    /// Freeze a running container while its changes are read (docker's default).
    pub pause: bool,
}

impl Engine {
    /// What the container changed in its filesystem (`docker diff`).
    pub fn container_changes(&self, reference: &str) -> Result<Vec<Change>, FsError> {
        self.inner.locked(reference, |ctx, record| {
            let upper = ctx.containers.container_dir(&record.id).join("upper");
            let image = ctx.images.resolve(&record.image_id)?;
            let lowers = ctx
                .layers
                .ensure(ctx.images, &image)
                .map_err(PrepareError::from)?;
            if !upper.is_dir() {
                return Ok(Ok(Vec::new()));
            }
            Ok(
                changes::changes(&upper, &lowers).map_err(|source| FsError::Changes {
                    id: record.id.clone(),
                    source,
                }),
            )
        })?
    }

    /// The container's whole filesystem as a tar (`docker export`).
    pub fn export_container(&self, reference: &str, out: impl Write) -> Result<(), CopyError> {
        self.copy_from(reference, Path::new("/"), out).map(drop)
    }

    /// A new image from the container's changes on top of its image, with the container's
    /// config (and `changes`) as the image config.
    pub fn commit_container(
        &self,
        reference: &str,
        options: ContainerCommit,
    ) -> Result<ImageRecord, FsError> {
        let (record, status) = self.inspect(reference)?;
        let paused = options.pause && status.status == Status::Running;
        if paused {
            self.pause(&record.id)?;
        }
        let result = self.commit_paused(&record, &options);
        if paused {
            if let Err(e) = self.unpause(&record.id) {
                tracing::warn!(container = %record.id, error = %e, "cannot unpause after commit");
            }
        }
        let image = result?;
        self.events().publish(
            crate::events::Event::new("container", "commit", &record.id)
                .with("name", &record.name)
                .with("imageID", image.config.to_string()),
        );
        Ok(image)
    }

    fn commit_paused(
        &self,
        record: &ContainerRecord,
        options: &ContainerCommit,
    ) -> Result<ImageRecord, FsError> {
        let image = self
            .inner
            .images
            .resolve(&record.image_id)
            .map_err(LifecycleError::from)?;
        let base = self
            .inner
            .images
            .config(&image)
            .map_err(LifecycleError::from)?;
        let mut config = base.config().clone().unwrap_or_default();
        overlay_container_config(&mut config, &record.config);
        apply_changes(&mut config, &options.changes).map_err(|e| FsError::Build(Box::new(e)))?;
        let names = match &options.name {
            Some(name) => vec![crate::image::reference::ImageRef::parse(name)
                .map_err(|e| {
                    FsError::Engine(Box::new(
                        LifecycleError::from(crate::image::store::StoreError::from(e)).into(),
                    ))
                })?
                .full()],
            None => Vec::new(),
        };
        let created_by = std::iter::once(record.config.entrypoint.clone().unwrap_or_default())
            .chain(std::iter::once(
                record.config.cmd.clone().unwrap_or_default(),
            ))
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        self.commit_build_step(
            Some(&record.id),
            Some(&image),
            CommitOptions {
                config: Some(config),
                created_by,
                comment: options.comment.clone(),
                author: options.author.clone(),
                names,
            },
        )
    }

    /// Commits `container`'s upper directory (or nothing: a config-only image) on top of
    /// `parent` (or of nothing: `FROM scratch`).
    pub fn commit_build_step(
        &self,
        container: Option<&str>,
        parent: Option<&ImageRecord>,
        options: CommitOptions,
    ) -> Result<ImageRecord, FsError> {
        let Some(reference) = container else {
            return Ok(commit::commit(&self.inner.images, parent, None, options)?);
        };
        Ok(self.inner.locked(reference, |ctx, record| {
            let upper = ctx.containers.container_dir(&record.id).join("upper");
            if !upper.is_dir() {
                return Ok(commit::commit(ctx.images, parent, None, options));
            }
            Ok(commit::commit(ctx.images, parent, Some(&upper), options))
        })??)
    }

    /// Runs the legacy builder on the context `body` (a tar).
    pub fn build(
        &self,
        body: impl Read,
        options: &BuildOptions,
        report: Report<'_>,
    ) -> Result<Built, BuildError> {
        build::run(self, body, options, report)
    }

    /// Drops the build cache and the intermediate images only it still referred to
    /// (untagged, unused by any container); the IDs removed and the bytes freed.
    pub fn prune_build_cache(&self) -> Result<(Vec<String>, u64), BuildError> {
        let ids = build::cache::Cache::open(self.inner.images.root())
            .clear()
            .map_err(BuildError::io("clear the build cache"))?;
        let used: Vec<String> = self
            .inner
            .containers
            .list()
            .into_iter()
            .map(|r| r.image_id)
            .collect();
        let mut removed = Vec::new();
        for id in ids {
            let Ok(image) = self.inner.images.resolve(&id) else {
                continue;
            };
            if !image.names.is_empty() || used.contains(&id) || removed.contains(&id) {
                continue;
            }
            if self.inner.images.remove_image(&id).is_ok() {
                removed.push(id);
            }
        }
        let guard = self.inner.images.import_guard();
        let in_use: Vec<oci_spec::image::Digest> = used
            .iter()
            .filter_map(|id| oci_spec::image::Digest::try_from(id.as_str()).ok())
            .collect();
        let reclaimed = match crate::image::gc::collect(
            &self.inner.images,
            &self.inner.layers,
            &in_use,
            &guard,
        ) {
            Ok(report) => report.bytes_freed,
            Err(e) => {
                tracing::warn!(error = %e, "cannot collect the data of pruned build images");
                0
            }
        };
        Ok((removed, reclaimed))
    }
}

/// The container's own settings over the image's, as its image config.
fn overlay_container_config(config: &mut Config, c: &crate::container::config::ContainerConfig) {
    if let Some(entrypoint) = &c.entrypoint {
        let cleared = entrypoint.iter().all(|s| s.is_empty());
        config.set_entrypoint((!cleared).then(|| entrypoint.clone()));
        if c.cmd.is_none() {
            config.set_cmd(None);
        }
    }
    if let Some(cmd) = &c.cmd {
        config.set_cmd(Some(cmd.clone()));
    }
    if !c.env.is_empty() {
        let mut env = config.env().clone().unwrap_or_default();
        let key = |e: &str| e.split('=').next().unwrap_or("").to_string();
        for entry in &c.env {
            match env.iter_mut().find(|e| key(e) == key(entry)) {
                Some(existing) => *existing = entry.clone(),
                None => env.push(entry.clone()),
            }
        }
        config.set_env(Some(env));
    }
    if let Some(dir) = &c.working_dir {
        config.set_working_dir(Some(dir.clone()));
    }
    if let Some(user) = &c.user {
        config.set_user(Some(user.clone()));
    }
    if !c.labels.is_empty() {
        let mut labels = config.labels().clone().unwrap_or_default();
        labels.extend(c.labels.clone());
        config.set_labels(Some(labels));
    }
    if !c.exposed_ports.is_empty() {
        let mut ports = config.exposed_ports().clone().unwrap_or_default();
        for p in &c.exposed_ports {
            if !ports.contains(p) {
                ports.push(p.clone());
            }
        }
        config.set_exposed_ports(Some(ports));
    }
    if let Some(signal) = &c.stop_signal {
        config.set_stop_signal(Some(signal.clone()));
    }
}

/// `docker commit --change` lines, each a Dockerfile metadata instruction.
pub fn apply_changes(config: &mut Config, changes: &[String]) -> Result<(), BuildError> {
    let mut extra = metadata::Extra::default();
    for change in changes.iter().filter(|c| !c.trim().is_empty()) {
        let (instructions, escape) = build::dockerfile::parse(change)?;
        for instruction in instructions {
            let env = config.env().clone().unwrap_or_default();
            let lookup = move |name: &str| {
                env.iter().find_map(|e| {
                    e.split_once('=')
                        .filter(|(k, _)| *k == name)
                        .map(|(_, v)| v.to_string())
                })
            };
            if !metadata::apply(config, &mut extra, &instruction, &lookup, escape)? {
                return Err(BuildError::Step(format!(
                    "{} is not a valid change command",
                    instruction.keyword
                )));
            }
        }
    }
    Ok(())
}
