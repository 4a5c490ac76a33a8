//! `create`: state dir, cgroup, exec fifo, then the two-stage spawn of the container's init,
//! which reports "ready" once the container is complete. Any failure removes everything
//! that was made: nothing half-created stays behind.

use std::fs;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use nix::sys::signal::{kill, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{mkfifo, Pid};
use oci_spec::runtime::LinuxIdMapping;

use super::{Container, ContainerBuilder};
use crate::cgroups::CgroupManager;
use crate::error::{Context, Result, RuntimeError};
use crate::init::InitConfig;
use crate::namespaces::Namespaces;
use crate::spawn::{self, Parent};
use crate::spec::Bundle;
use crate::state::{self, ContainerState, Status, EXEC_FIFO};
use crate::sync::{self, Message};

pub(super) fn create(b: ContainerBuilder) -> Result<Container> {
    let bundle = Bundle::load(&b.bundle)?;
    let process = bundle.process()?;
    if process.terminal().unwrap_or(false) && b.console_socket.is_none() {
        return Err(RuntimeError::InvalidSpec(
            "process.terminal is true but no --console-socket was given".into(),
        ));
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&b.root)
        .context(|| format!("Cannot create state root {}", b.root.display()))?;
    let dir = ContainerState::dir(&b.root, &b.id);
    match fs::DirBuilder::new().mode(0o711).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(RuntimeError::AlreadyExists(b.id.clone()))
        }
        Err(e) => return Err(e).context(|| format!("Cannot create {}", dir.display())),
    }
    let mut cleanup = Cleanup {
        dir: dir.clone(),
        cgroup: None,
        init: None,
    };
    let container = build(&b, bundle, &mut cleanup)?;
    cleanup.disarm();
    Ok(container)
}

fn build(b: &ContainerBuilder, bundle: Bundle, cleanup: &mut Cleanup) -> Result<Container> {
    let linux = bundle.spec.linux().clone().unwrap_or_default();
    let mut state = ContainerState {
        oci_version: bundle.spec.version().clone(),
        id: b.id.clone(),
        status: Status::Creating,
        pid: 0,
        bundle: bundle.dir.clone(),
        rootfs: bundle.rootfs.clone(),
        created: state::now_rfc3339(),
        owner: "root".into(),
        annotations: bundle.spec.annotations().clone().unwrap_or_default(),
        init_start_time: 0,
        cgroup_path: Default::default(),
    };
    state.save(&b.root)?;
    let cgroup = CgroupManager::new(linux.cgroups_path().as_deref(), &b.id)?;
    cgroup.create()?;
    cleanup.cgroup = Some(cgroup.clone());
    if let Some(resources) = linux.resources() {
        let mut resources = resources.clone();
        if let Some(rules) = resources.devices().clone() {
            let spec_devices = linux.devices().clone().unwrap_or_default();
            let mut all = rules;
            all.extend(crate::rootfs::devices::default_cgroup_rules(&spec_devices));
            resources.set_devices(Some(all));
        }
        cgroup.apply(&resources)?;
    }
    state.cgroup_path = cgroup.path().to_path_buf();
    let fifo = cleanup.dir.join(EXEC_FIFO);
    mkfifo(&fifo, Mode::from_bits_truncate(0o622))
        .context(|| "Cannot create the exec fifo".into())?;
    // The umask took group/other write away; the container's init may be an unprivileged
    // or user-namespaced process that still has to open it for writing.
    fs::set_permissions(&fifo, std::os::unix::fs::PermissionsExt::from_mode(0o622))
        .context(|| "Cannot set the exec fifo's mode".into())?;
    let console_socket = match &b.console_socket {
        Some(path) => Some(crate::console::connect_socket(path)?),
        None => None,
    };
    let namespaces = Namespaces::from_spec(linux.namespaces().as_deref().unwrap_or_default());
    let init_cfg = InitConfig {
        id: b.id.clone(),
        bundle,
        namespaces: namespaces.clone(),
        cgroup_path: cgroup.path().to_path_buf(),
        console_socket,
        preserve_fds: b.preserve_fds as i32,
        exec_fifo: crate::init::open_path(&fifo)?,
    };
    let (parent_chan, child_chan) = sync::pair()?;
    let mut parent = CreateParent {
        cgroup: &cgroup,
        uid_maps: linux.uid_mappings().clone(),
        gid_maps: linux.gid_mappings().clone(),
    };
    let pid = spawn::spawn(&namespaces, &mut parent, &parent_chan, child_chan, |chan| {
        crate::init::run(&init_cfg, chan)
    })?;
    cleanup.init = Some(pid);
    state.pid = pid.as_raw();
    state.init_start_time = state::process_start_time(pid.as_raw()).unwrap_or(0);
    wait_ready(&parent_chan, &state, &init_cfg)?;
    state.status = Status::Created;
    state.save(&b.root)?;
    if let Some(path) = &b.pid_file {
        write_pid_file(path, pid.as_raw())?;
    }
    Ok(Container {
        state,
        root: b.root.clone(),
    })
}

fn wait_ready(chan: &sync::Channel, state: &ContainerState, cfg: &InitConfig) -> Result<()> {
    loop {
        match chan.recv()? {
            Some(Message::RunCreateRuntimeHooks) => {
                let hooks = cfg.bundle.spec.hooks().clone().unwrap_or_default();
                let json = state.to_oci_json().to_string();
                crate::hooks::run_all(hooks.prestart().as_ref(), &json)?;
                crate::hooks::run_all(hooks.create_runtime().as_ref(), &json)?;
                chan.send(&Message::Continue)?;
            }
            Some(Message::Ready) => return Ok(()),
            Some(Message::Error(msg)) => return Err(RuntimeError::Init(msg)),
            Some(other) => {
                return Err(RuntimeError::Init(format!(
                    "unexpected set-up message {other:?}"
                )))
            }
            None => {
                return Err(RuntimeError::Init(
                    "the container's init exited before it was ready".into(),
                ))
            }
        }
    }
}

/// Pid files are read by other programs (conmon, podman) at any moment: write atomically.
fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let tmp = path.with_extension("berth-tmp");
    let mut f =
        fs::File::create(&tmp).context(|| format!("Cannot write pid file {}", path.display()))?;
    f.write_all(pid.to_string().as_bytes())
        .context(|| format!("Cannot write pid file {}", path.display()))?;
    fs::rename(&tmp, path).context(|| format!("Cannot write pid file {}", path.display()))
}

struct CreateParent<'a> {
    cgroup: &'a CgroupManager,
    uid_maps: Option<Vec<LinuxIdMapping>>,
    gid_maps: Option<Vec<LinuxIdMapping>>,
}

impl Parent for CreateParent<'_> {
    fn join_cgroup(&mut self, pid: Pid) -> Result<()> {
        Ok(self.cgroup.add_process(pid.as_raw())?)
    }

    fn write_id_maps(&mut self, pid: Pid) -> Result<()> {
        write_map(pid, "uid_map", self.uid_maps.as_deref())?;
        write_map(pid, "gid_map", self.gid_maps.as_deref())
    }
}

fn write_map(pid: Pid, file: &str, maps: Option<&[LinuxIdMapping]>) -> Result<()> {
    let maps = maps.filter(|m| !m.is_empty()).ok_or_else(|| {
        RuntimeError::InvalidSpec(format!(
            "a new user namespace needs linux.{}",
            if file == "uid_map" {
                "uidMappings"
            } else {
                "gidMappings"
            }
        ))
    })?;
    let text: String = maps
        .iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect();
    fs::write(format!("/proc/{pid}/{file}"), text.as_bytes())
        .context(|| format!("Cannot write {file} {text:?}"))
}

/// Undoes a failed create.
struct Cleanup {
    dir: std::path::PathBuf,
    cgroup: Option<CgroupManager>,
    init: Option<Pid>,
}

impl Cleanup {
    fn disarm(&mut self) {
        self.cgroup = None;
        self.init = None;
        self.dir = Default::default();
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.dir.as_os_str().is_empty() {
            return;
        }
        if let Some(pid) = self.init {
            let _ = kill(pid, Signal::SIGKILL);
        }
        if let Some(cgroup) = &self.cgroup {
            if let Err(e) = cgroup.destroy() {
                tracing::warn!("cleanup after failed create: {e}");
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
