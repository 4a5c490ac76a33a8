//! Running a Dockerfile on the engine. Every step ends as an image: RUN, COPY, ADD and a
//! WORKDIR that creates its directory commit a container's changes as a layer; the other
//! instructions commit only a new config. A step whose key (parent image, instruction,
//! resulting config, content copied) is in the cache reuses its image.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;

use oci_spec::image::Config;

use super::cache::Cache;
use super::context::{self, Context};
use super::copy::{self, Assembly, Overrides};
use super::dockerfile::{self, Args, Instruction};
use super::metadata::{self, Extra};
use super::words;
use super::{short_id, BuildError, BuildOptions, Built};
use crate::container::config::ContainerConfig;
use crate::engine::Engine;
use crate::image::commit::CommitOptions;
use crate::image::store::ImageRecord;
use crate::logs::ReadOptions;

/// What the build reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Text for the client's terminal (`Step 1/3 : ...`, RUN output).
    Stream(String),
    /// The ID of the image built, before the final messages.
    Built(String),
}

/// Where progress goes; false when the client is gone (the build stops).
pub type Report<'a> = &'a mut dyn FnMut(Progress) -> bool;

/// Args every build knows without an ARG (docker's predefined proxy args).
const PREDEFINED: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Builds the context `body` (a tar) as `options` say.
pub fn run(
    engine: &Engine,
    body: impl std::io::Read,
    options: &BuildOptions,
    report: Report<'_>,
) -> Result<Built, BuildError> {
    let root = engine.images().root().to_path_buf();
    let tmp = root.join("tmp").join("build");
    let context = Context::extract(&tmp, body)?;
    let dockerfile = context::clean(&options.dockerfile);
    let text = context
        .read(&dockerfile, 1 << 20)
        .map_err(|_| BuildError::NoDockerfile(options.dockerfile.clone()))?;
    context
        .apply_ignore(&dockerfile)
        .map_err(BuildError::io("apply .dockerignore"))?;
    let (instructions, escape) = dockerfile::parse(&String::from_utf8_lossy(&text))?;
    let mut builder = Builder {
        engine,
        context,
        options,
        report,
        escape,
        cache: Cache::open(&root),
        tmp,
        stages: Vec::new(),
        global_args: BTreeMap::new(),
    };
    builder.run(&instructions)
}

/// One stage (`FROM ... AS name` up to the next FROM).
#[derive(Debug, Clone)]
struct Stage {
    name: Option<String>,
    image: Option<ImageRecord>,
    config: Config,
    extra: Extra,
    /// ARGs declared in this stage, with their values.
    args: BTreeMap<String, Option<String>>,
}

struct Builder<'a, 'r> {
    engine: &'a Engine,
    context: Context,
    options: &'a BuildOptions,
    report: Report<'r>,
    escape: char,
    cache: Cache,
    tmp: std::path::PathBuf,
    stages: Vec<Stage>,
    /// ARGs before the first FROM.
    global_args: BTreeMap<String, Option<String>>,
}

impl Builder<'_, '_> {
    fn say(&mut self, text: impl Into<String>) -> Result<(), BuildError> {
        if (self.report)(Progress::Stream(text.into())) {
            Ok(())
        } else {
            Err(BuildError::Cancelled)
        }
    }

    fn run(&mut self, instructions: &[Instruction]) -> Result<Built, BuildError> {
        let total = self.steps_until_target(instructions);
        for (n, instruction) in instructions.iter().take(total).enumerate() {
            self.say(format!(
                "Step {}/{} : {}\n",
                n + 1,
                total,
                instruction.original
            ))?;
            self.step(instruction)?;
        }
        let Some(mut stage) = self.stages.pop() else {
            return Err(BuildError::Step(
                "No image was generated. Is your Dockerfile empty?".into(),
            ));
        };
        if !self.options.labels.is_empty() {
            let mut labels = stage.config.labels().clone().unwrap_or_default();
            labels.extend(self.options.labels.clone());
            stage.config.set_labels(Some(labels));
            let text = format!("LABEL {:?}", self.options.labels);
            self.commit_config(&mut stage, &text)?;
        }
        if stage.image.is_none() {
            self.commit_config(&mut stage, "FROM scratch")?;
        }
        let image = stage.image.expect("committed above");
        let id = image.config.to_string();
        (self.report)(Progress::Built(id.clone()));
        self.say(format!("Successfully built {}\n", short_id(&id)))?;
        let mut tags = Vec::new();
        for tag in &self.options.tags {
            tags.push(self.engine.images().tag(&id, tag)?);
            self.say(format!("Successfully tagged {}\n", shown_tag(tag)))?;
        }
        Ok(Built { id, tags })
    }

    /// The instructions up to the end of the target stage (all without a target).
    fn steps_until_target(&self, instructions: &[Instruction]) -> usize {
        let Some(target) = &self.options.target else {
            return instructions.len();
        };
        let mut in_target = false;
        for (i, instruction) in instructions.iter().enumerate() {
            if instruction.keyword == "FROM" {
                if in_target {
                    return i;
                }
                let words = words::words(&instruction.args.text(), &|_| None, self.escape);
                in_target = words.len() == 3
                    && words[1].eq_ignore_ascii_case("as")
                    && words[2].eq_ignore_ascii_case(target);
            }
        }
        instructions.len()
    }

    fn step(&mut self, instruction: &Instruction) -> Result<(), BuildError> {
        match instruction.keyword.as_str() {
            "FROM" => self.from(instruction),
            "ARG" => self.arg(instruction),
            _ if self.stages.is_empty() => Err(BuildError::Step(
                "Please provide a source image with `from` prior to commit".into(),
            )),
            "RUN" => self.run_step(instruction),
            "COPY" | "ADD" => self.copy(instruction),
            "WORKDIR" => self.workdir(instruction),
            _ => {
                let mut stage = self.stages.pop().expect("checked above");
                let result = self.metadata(&mut stage, instruction);
                self.stages.push(stage);
                result
            }
        }
    }

    /// Variables in a stage: its ENV first, then its ARGs.
    fn lookup(stage: &Stage) -> impl Fn(&str) -> Option<String> + '_ {
        move |name: &str| {
            let env = stage.config.env().clone().unwrap_or_default();
            env.iter()
                .find_map(|e| {
                    e.split_once('=')
                        .filter(|(k, _)| *k == name)
                        .map(|(_, v)| v.to_string())
                })
                .or_else(|| stage.args.get(name).cloned().flatten())
        }
    }

    fn from(&mut self, instruction: &Instruction) -> Result<(), BuildError> {
        let globals = self.global_args.clone();
        let lookup = move |name: &str| globals.get(name).cloned().flatten();
        let words = words::words(&instruction.args.text(), &lookup, self.escape);
        let (name, alias) = match words.as_slice() {
            [name] => (name.clone(), None),
            [name, as_, alias] if as_.eq_ignore_ascii_case("as") => {
                (name.clone(), Some(alias.to_ascii_lowercase()))
            }
            _ => {
                return Err(BuildError::Step(format!(
                    "FROM requires either one or three arguments: {}",
                    instruction.original
                )))
            }
        };
        let previous = self
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(name.to_ascii_lowercase().as_str()))
            .cloned();
        let stage = if let Some(previous) = previous {
            Stage {
                name: alias,
                extra: Extra::default(),
                args: BTreeMap::new(),
                ..previous
            }
        } else if name == "scratch" {
            Stage {
                name: alias,
                image: None,
                config: Config::default(),
                extra: Extra::default(),
                args: BTreeMap::new(),
            }
        } else {
            let image = self.engine.images().resolve(&name).map_err(|_| {
                BuildError::Step(format!(
                    "Unable to find image '{name}' locally; pulling images is not supported \
                     yet: load it first (docker load)"
                ))
            })?;
            let config = self
                .engine
                .images()
                .config(&image)?
                .config()
                .clone()
                .unwrap_or_default();
            Stage {
                name: alias,
                image: Some(image),
                config,
                extra: Extra::default(),
                args: BTreeMap::new(),
            }
        };
        if let Some(image) = &stage.image {
            self.say(format!(" ---> {}\n", short_id(image.config.as_ref())))?;
        }
        self.stages.push(stage);
        Ok(())
    }

    fn arg(&mut self, instruction: &Instruction) -> Result<(), BuildError> {
        let text = instruction.args.text();
        let escape = self.escape;
        let Some(mut stage) = self.stages.pop() else {
            let globals = self.global_args.clone();
            let lookup = move |name: &str| globals.get(name).cloned().flatten();
            for (key, default) in words::pairs(&text, &lookup, escape) {
                let value = self.build_arg(&key).or(default);
                self.global_args.insert(key, value);
            }
            return Ok(());
        };
        let pairs = words::pairs(&text, &Self::lookup(&stage), escape);
        for (key, default) in pairs {
            // A bare `ARG NAME` in a stage brings the global default in.
            let default = default.or_else(|| self.global_args.get(&key).cloned().flatten());
            let value = self.build_arg(&key).or(default);
            stage.args.insert(key, value);
        }
        let result = self.commit_config(&mut stage, &format!("ARG {text}"));
        self.stages.push(stage);
        result
    }

    fn build_arg(&self, key: &str) -> Option<String> {
        self.options.build_args.get(key).cloned().flatten()
    }

    fn metadata(&mut self, stage: &mut Stage, instruction: &Instruction) -> Result<(), BuildError> {
        let mut config = stage.config.clone();
        let mut extra = stage.extra.clone();
        let handled = metadata::apply(
            &mut config,
            &mut extra,
            instruction,
            &Self::lookup(stage),
            self.escape,
        )?;
        if !handled {
            return Err(BuildError::Step(format!(
                "{} is not supported by this builder",
                instruction.keyword
            )));
        }
        stage.config = config;
        stage.extra = extra;
        self.commit_config(stage, &instruction.original)
    }

    /// A config-only image for the stage, from the cache when possible.
    fn commit_config(&mut self, stage: &mut Stage, text: &str) -> Result<(), BuildError> {
        let created_by = format!("/bin/sh -c #(nop)  {text}");
        let config_json = canonical(&stage.config);
        let key = Cache::key(&parent_id(stage), &created_by, &config_json);
        if let Some(image) = self.cached(&key)? {
            stage.image = Some(image);
            return Ok(());
        }
        let image = self.engine.commit_build_step(
            None,
            stage.image.as_ref(),
            CommitOptions {
                config: Some(stage.config.clone()),
                created_by,
                author: stage.extra.maintainer.clone(),
                ..Default::default()
            },
        )?;
        self.finish_step(stage, image, &key)
    }

    fn cached(&mut self, key: &str) -> Result<Option<ImageRecord>, BuildError> {
        if self.options.no_cache {
            return Ok(None);
        }
        let Some(id) = self.cache.get(key) else {
            return Ok(None);
        };
        let Ok(image) = self.engine.images().resolve(&id) else {
            return Ok(None);
        };
        self.say(format!(" ---> Using cache\n ---> {}\n", short_id(&id)))?;
        Ok(Some(image))
    }

    fn finish_step(
        &mut self,
        stage: &mut Stage,
        image: ImageRecord,
        key: &str,
    ) -> Result<(), BuildError> {
        let id = image.config.to_string();
        if let Err(e) = self.cache.put(key, &id) {
            tracing::warn!(error = %e, "cannot record a build step in the cache");
        }
        self.say(format!(" ---> {}\n", short_id(&id)))?;
        stage.image = Some(image);
        Ok(())
    }

    /// The stage's image, committing an empty one for `FROM scratch` (containers need one).
    fn base_image(&mut self, stage: &mut Stage) -> Result<ImageRecord, BuildError> {
        if stage.image.is_none() {
            let image = self.engine.commit_build_step(
                None,
                None,
                CommitOptions {
                    config: Some(stage.config.clone()),
                    created_by: "/bin/sh -c #(nop)  FROM scratch".into(),
                    ..Default::default()
                },
            )?;
            stage.image = Some(image);
        }
        Ok(stage.image.clone().expect("set above"))
    }

    /// A container on the stage's image that never runs (COPY, WORKDIR): it gives the
    /// step a root to write into and an upper directory to commit.
    fn scratch_container(&mut self, stage: &mut Stage) -> Result<String, BuildError> {
        let image = self.base_image(stage)?;
        let record = self.engine.create(
            None,
            ContainerConfig {
                image: image.config.to_string(),
                cmd: Some(vec!["/bin/sh".into()]),
                entrypoint: Some(Vec::new()),
                ..Default::default()
            },
        )?;
        Ok(record.id)
    }

    fn remove(&self, id: &str) {
        if let Err(e) = self.engine.remove(id, true, true) {
            tracing::warn!(container = id, error = %e, "cannot remove an intermediate container");
        }
    }

    fn run_step(&mut self, instruction: &Instruction) -> Result<(), BuildError> {
        let mut stage = self.stages.pop().expect("checked by step");
        let result = self.run_in(&mut stage, instruction);
        self.stages.push(stage);
        result
    }

    fn run_in(&mut self, stage: &mut Stage, instruction: &Instruction) -> Result<(), BuildError> {
        let cmd = metadata::command(&instruction.args, &stage.extra.shell);
        let env_keys: Vec<String> = stage
            .config
            .env()
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|e| e.split('=').next().unwrap_or("").to_string())
            .collect();
        let arg_env: Vec<String> = stage
            .args
            .iter()
            .filter(|(k, _)| !env_keys.contains(k))
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .chain(
                PREDEFINED
                    .iter()
                    .filter_map(|k| self.build_arg(k).map(|v| format!("{k}={v}"))),
            )
            .collect();
        let created_by = if arg_env.is_empty() {
            cmd.join(" ")
        } else {
            format!("|{} {} {}", arg_env.len(), arg_env.join(" "), cmd.join(" "))
        };
        let key = Cache::key(&parent_id(stage), &format!("RUN {created_by}"), "");
        if let Some(image) = self.cached(&key)? {
            stage.image = Some(image);
            return Ok(());
        }
        let image = self.base_image(stage)?;
        let record = self.engine.create(
            None,
            ContainerConfig {
                image: image.config.to_string(),
                cmd: Some(cmd.clone()),
                entrypoint: Some(Vec::new()),
                env: arg_env,
                ..Default::default()
            },
        )?;
        let id = record.id;
        self.say(format!(" ---> Running in {}\n", short_id(&id)))?;
        let outcome = self.run_container(&id);
        let code = match outcome {
            Ok(code) => code,
            Err(e) => {
                if self.options.rm || self.options.force_rm {
                    self.remove(&id);
                }
                return Err(e);
            }
        };
        if code != 0 {
            if self.options.rm || self.options.force_rm {
                self.remove(&id);
            }
            return Err(BuildError::Step(format!(
                "The command '{}' returned a non-zero code: {code}",
                cmd.join(" ")
            )));
        }
        let committed = self.engine.commit_build_step(
            Some(&id),
            Some(&image),
            CommitOptions {
                config: Some(stage.config.clone()),
                created_by,
                author: stage.extra.maintainer.clone(),
                ..Default::default()
            },
        );
        if self.options.rm || self.options.force_rm {
            self.remove(&id);
            self.say(format!(
                " ---> Removed intermediate container {}\n",
                short_id(&id)
            ))?;
        }
        self.finish_step(stage, committed?, &key)
    }

    /// Starts the container, streams its output until it ends; its exit code.
    fn run_container(&mut self, id: &str) -> Result<i32, BuildError> {
        self.engine.start(id)?;
        let mut gone = false;
        let report = &mut self.report;
        let read = self.engine.logs(
            id,
            &ReadOptions {
                follow: true,
                ..Default::default()
            },
            |entry| {
                if report(Progress::Stream(entry.log)) {
                    ControlFlow::Continue(())
                } else {
                    gone = true;
                    ControlFlow::Break(())
                }
            },
        );
        if gone {
            let _ = self.engine.kill(id, "SIGKILL");
            return Err(BuildError::Cancelled);
        }
        read?;
        Ok(self.engine.wait(id)?)
    }

    fn workdir(&mut self, instruction: &Instruction) -> Result<(), BuildError> {
        let mut stage = self.stages.pop().expect("checked by step");
        let result = self.workdir_in(&mut stage, instruction);
        self.stages.push(stage);
        result
    }

    fn workdir_in(
        &mut self,
        stage: &mut Stage,
        instruction: &Instruction,
    ) -> Result<(), BuildError> {
        let mut extra = stage.extra.clone();
        let mut config = stage.config.clone();
        metadata::apply(
            &mut config,
            &mut extra,
            instruction,
            &Self::lookup(stage),
            self.escape,
        )?;
        stage.config = config;
        let dir = stage
            .config
            .working_dir()
            .clone()
            .unwrap_or_else(|| "/".into());
        let created_by = format!("/bin/sh -c #(nop) WORKDIR {dir}");
        let config_json = canonical(&stage.config);
        let key = Cache::key(&parent_id(stage), &created_by, &config_json);
        if let Some(image) = self.cached(&key)? {
            stage.image = Some(image);
            return Ok(());
        }
        let id = self.scratch_container(stage)?;
        let result = self.create_dir(stage, &id, &dir, created_by);
        self.remove(&id);
        self.finish_step(stage, result?, &key)
    }

    fn create_dir(
        &mut self,
        stage: &Stage,
        id: &str,
        dir: &str,
        created_by: String,
    ) -> Result<ImageRecord, BuildError> {
        let exists = self.engine.stat_path(id, Path::new(dir)).is_ok();
        if !exists {
            let mut assembly = Assembly::new(&self.tmp, Overrides::default())
                .map_err(BuildError::io("write a temporary archive"))?;
            assembly
                .add_dir(dir)
                .map_err(BuildError::io("write a temporary archive"))?;
            let (file, _) = assembly
                .finish()
                .map_err(BuildError::io("write a temporary archive"))?;
            self.engine.copy_to(id, Path::new("/"), file)?;
        }
        Ok(self.engine.commit_build_step(
            if exists { None } else { Some(id) },
            stage.image.as_ref(),
            CommitOptions {
                config: Some(stage.config.clone()),
                created_by,
                ..Default::default()
            },
        )?)
    }

    fn copy(&mut self, instruction: &Instruction) -> Result<(), BuildError> {
        let mut stage = self.stages.pop().expect("checked by step");
        let id = match self.scratch_container(&mut stage) {
            Ok(id) => id,
            Err(e) => {
                self.stages.push(stage);
                return Err(e);
            }
        };
        let result = self.copy_in(&mut stage, &id, instruction);
        self.remove(&id);
        self.stages.push(stage);
        result
    }

    fn copy_in(
        &mut self,
        stage: &mut Stage,
        id: &str,
        instruction: &Instruction,
    ) -> Result<(), BuildError> {
        let keyword = instruction.keyword.as_str();
        let escape = self.escape;
        let lookup = Self::lookup(stage);
        let list = match &instruction.args {
            Args::Json(list) => list
                .iter()
                .map(|w| words::word(w, &lookup, escape))
                .collect(),
            Args::Shell(text) => words::words(text, &lookup, escape),
        };
        let flag = |name: &str| {
            dockerfile::flag(&instruction.flags, name).map(|v| words::word(v, &lookup, escape))
        };
        let (chown, chmod, from) = (flag("chown"), flag("chmod"), flag("from"));
        drop(lookup);
        if list.len() < 2 {
            return Err(BuildError::Step(format!(
                "{keyword} requires at least two arguments, but only one was provided. \
                 Destination could not be determined"
            )));
        }
        let (dest, sources) = list.split_last().expect("two or more");
        let workdir = stage
            .config
            .working_dir()
            .clone()
            .unwrap_or_else(|| "/".into());
        let mut dest_abs = metadata::join_dir(&workdir, dest);
        let slash = dest.ends_with('/') || dest.ends_with("/.");
        let dest_is_dir = self
            .engine
            .stat_path(id, Path::new(&dest_abs))
            .map(|s| s.mode & (1 << 31) != 0);
        let into_dir = slash || sources.len() > 1 || matches!(dest_is_dir, Ok(true));
        if into_dir && !dest_abs.ends_with('/') {
            dest_abs.push('/');
        }
        let mode = match chmod {
            Some(m) => Some(
                u32::from_str_radix(&m, 8)
                    .map_err(|_| BuildError::Step(format!("invalid chmod parameter: {m}")))?,
            ),
            None => None,
        };
        let owner = match chown {
            Some(spec) => Some(self.resolve_owner(id, &spec)?),
            None => None,
        };
        let mut assembly = Assembly::new(&self.tmp, Overrides { owner, mode })
            .map_err(BuildError::io("write a temporary archive"))?;
        let tar_err = BuildError::io;
        if into_dir && dest_is_dir.is_err() {
            assembly
                .add_dir(&dest_abs)
                .map_err(tar_err("write a temporary archive"))?;
        }
        let from_container = match &from {
            Some(from) => Some(self.stage_container(from)?),
            None => None,
        };
        let result = self.add_sources(
            keyword,
            sources,
            &dest_abs,
            into_dir,
            from_container.as_deref(),
            &mut assembly,
        );
        if let Some(c) = &from_container {
            self.remove(c);
        }
        result?;
        let (file, hash) = assembly
            .finish()
            .map_err(tar_err("write a temporary archive"))?;
        let created_by = format!(
            "/bin/sh -c #(nop) {keyword} {}sha256:{hash} in {dest_abs} ",
            from.map(|f| format!("--from={f} ")).unwrap_or_default()
        );
        let key = Cache::key(&parent_id(stage), &created_by, &instruction.original);
        if let Some(image) = self.cached(&key)? {
            stage.image = Some(image);
            return Ok(());
        }
        self.engine.copy_to(id, Path::new("/"), file)?;
        let image = self.engine.commit_build_step(
            Some(id),
            stage.image.as_ref(),
            CommitOptions {
                config: Some(stage.config.clone()),
                created_by,
                author: stage.extra.maintainer.clone(),
                ..Default::default()
            },
        )?;
        self.finish_step(stage, image, &key)
    }

    fn add_sources(
        &mut self,
        keyword: &str,
        sources: &[String],
        dest: &str,
        into_dir: bool,
        from: Option<&str>,
        assembly: &mut Assembly,
    ) -> Result<(), BuildError> {
        let tar_err = BuildError::io;
        for source in sources {
            if keyword == "ADD" && (source.starts_with("http://") || source.starts_with("https://"))
            {
                return Err(BuildError::Step(format!(
                    "ADD from a URL ({source}) is not supported yet"
                )));
            }
            let mut file =
                tempfile::tempfile_in(&self.tmp).map_err(tar_err("create a temporary file"))?;
            if let Some(container) = from {
                self.engine
                    .copy_from(container, Path::new(&format!("/{source}")), &mut file)?;
                rewind(&mut file)?;
                assembly
                    .add_source(&mut file, dest, into_dir)
                    .map_err(tar_err("copy from another stage"))?;
                continue;
            }
            let matches = self
                .context
                .glob(source)
                .map_err(tar_err("search the build context"))?;
            let matches: Vec<String> = matches
                .into_iter()
                .filter(|m| self.context.exists(m))
                .collect();
            if matches.is_empty() {
                return Err(BuildError::Step(format!(
                    "{keyword} failed: file not found in build context or excluded by \
                     .dockerignore: stat {source}: file does not exist"
                )));
            }
            for m in matches {
                let mut file =
                    tempfile::tempfile_in(&self.tmp).map_err(tar_err("create a temporary file"))?;
                let path = format!("/{m}");
                let stat = crate::archive::get(self.context.path(), Path::new(&path), &mut file)
                    .map_err(|e| BuildError::Step(format!("{keyword} failed: {e}")))?;
                rewind(&mut file)?;
                let regular = stat.mode & 0xff00_0000 == 0;
                if keyword == "ADD" && regular && self.is_local_archive(&m)? {
                    let raw = self
                        .context
                        .open(Path::new(&m), nix::fcntl::OFlag::O_RDONLY)
                        .map_err(tar_err("open a file of the context"))?;
                    let reader = copy::open_archive(std::fs::File::from(raw))
                        .map_err(tar_err("read an archive of the context"))?;
                    let dir = if dest.ends_with('/') {
                        dest.to_string()
                    } else {
                        format!("{dest}/")
                    };
                    assembly
                        .add_archive(reader, &dir)
                        .map_err(tar_err("read an archive of the context"))?;
                    continue;
                }
                assembly
                    .add_source(&mut file, dest, into_dir)
                    .map_err(tar_err("copy from the build context"))?;
            }
        }
        Ok(())
    }

    fn is_local_archive(&self, rel: &str) -> Result<bool, BuildError> {
        let fd = self
            .context
            .open(Path::new(rel), nix::fcntl::OFlag::O_RDONLY)
            .map_err(BuildError::io("open a file of the context"))?;
        copy::is_archive(&mut std::fs::File::from(fd)).map_err(BuildError::io("read a file"))
    }

    /// A container on the image of stage `from` (a name or index) or on the image `from`.
    fn stage_container(&mut self, from: &str) -> Result<String, BuildError> {
        let stage = match from.parse::<usize>() {
            Ok(i) => self.stages.get(i).cloned(),
            Err(_) => self
                .stages
                .iter()
                .find(|s| s.name.as_deref() == Some(from.to_ascii_lowercase().as_str()))
                .cloned(),
        };
        let mut stage = match stage {
            Some(stage) => stage,
            None => {
                let image = self.engine.images().resolve(from).map_err(|_| {
                    BuildError::Step(format!(
                        "invalid from flag value {from}: no such stage or local image"
                    ))
                })?;
                Stage {
                    name: None,
                    image: Some(image),
                    config: Config::default(),
                    extra: Extra::default(),
                    args: BTreeMap::new(),
                }
            }
        };
        self.scratch_container(&mut stage)
    }

    /// `--chown=user[:group]`: numbers as they are, names from the image's /etc/passwd and
    /// /etc/group.
    fn resolve_owner(&self, id: &str, spec: &str) -> Result<(u32, u32), BuildError> {
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        let lookup = |file: &str, name: &str, field: usize| -> Result<u32, BuildError> {
            if let Ok(n) = name.parse() {
                return Ok(n);
            }
            let mut tar = Vec::new();
            let _ = self.engine.copy_from(id, Path::new(file), &mut tar);
            let mut archive = tar::Archive::new(&tar[..]);
            let mut text = String::new();
            if let Ok(mut entries) = archive.entries() {
                if let Some(Ok(mut entry)) = entries.next() {
                    let _ = std::io::Read::read_to_string(&mut entry, &mut text);
                }
            }
            text.lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.first() == Some(&name))
                .and_then(|f| f.get(field).and_then(|v| v.parse().ok()))
                .ok_or_else(|| {
                    BuildError::Step(format!("unable to convert uid/gid chown string to host mapping: no such user or group {name:?}"))
                })
        };
        let uid = lookup("/etc/passwd", user, 2)?;
        let gid = match group {
            Some(g) => lookup("/etc/group", g, 2)?,
            None if user.parse::<u32>().is_ok() => uid,
            None => lookup("/etc/passwd", user, 3)?,
        };
        Ok((uid, gid))
    }
}

fn rewind(file: &mut std::fs::File) -> Result<(), BuildError> {
    use std::io::Seek;
    file.flush()
        .map_err(BuildError::io("write a temporary file"))?;
    file.seek(std::io::SeekFrom::Start(0))
        .map(drop)
        .map_err(BuildError::io("read a temporary file"))
}

fn parent_id(stage: &Stage) -> String {
    stage
        .image
        .as_ref()
        .map_or_else(|| "scratch".to_string(), |i| i.config.to_string())
}

/// `name` as `Successfully tagged` shows it: with `:latest` when no tag was given.
fn shown_tag(tag: &str) -> String {
    let last = tag.rsplit('/').next().unwrap_or(tag);
    if last.contains(':') || tag.contains('@') {
        tag.to_string()
    } else {
        format!("{tag}:latest")
    }
}

/// The config as JSON with map keys sorted (its maps are `HashMap`s, whose order changes
/// from one process to the next), for cache keys.
fn canonical(config: &Config) -> String {
    serde_json::to_value(config)
        .map(|v| v.to_string())
        .unwrap_or_default()
}
