//! A test's private temp dir, state root and containers, cleaned up on drop.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::bundle::{cgroups_path, Bundle};
use super::host;
use super::output::{self, Output, COMMAND_TIMEOUT};
use super::runtime::Runtime;

/// One test's world: `<tmp>/berth-rt-<test>-<pid>-<n>/` with `state/` as the
/// runtime's `--root` and one subdirectory per bundle.
#[derive(Debug)]
pub struct Sandbox {
    dir: PathBuf,
    tag: String,
    /// The runtime every command of this sandbox runs.
    pub runtime: Runtime,
    ids: Mutex<BTreeSet<String>>,
}

impl Sandbox {
    /// A sandbox driving the runtime under test.
    pub fn new(test: &str) -> Sandbox {
        Sandbox::with_runtime(test, Runtime::under_test())
    }

    /// A sandbox driving `runtime`.
    pub fn with_runtime(test: &str, runtime: Runtime) -> Sandbox {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        host::require_root();
        let tag = format!(
            "{test}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(format!("berth-rt-{tag}"));
        fs::create_dir_all(dir.join("state")).expect("create sandbox dir");
        // 0755: a user-namespaced container's root (an unprivileged host uid)
        // must be able to walk down to its rootfs.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod sandbox");
        Sandbox {
            dir,
            tag,
            runtime,
            ids: Mutex::new(BTreeSet::new()),
        }
    }

    /// The sandbox directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The runtime's `--root`.
    pub fn state_root(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// A container id unique to this sandbox, remembered for cleanup.
    pub fn id(&self, name: &str) -> String {
        let id = format!("{}-{name}", self.tag);
        self.ids.lock().expect("ids lock").insert(id.clone());
        id
    }

    /// A fresh bundle in `<sandbox>/<name>/` with the base spec.
    pub fn bundle(&self, name: &str) -> Bundle {
        let id = self.id(name);
        Bundle::create(self.dir.join(name), &id)
    }

    /// A directory in the sandbox for a test's own files (bind sources, markers).
    pub fn scratch_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.join(name);
        fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    /// `<runtime> --root <state> ARGS...`, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.runtime.program);
        cmd.arg("--root").arg(self.state_root()).args(args);
        cmd
    }

    /// Runs a prepared command under the sandbox's deadline.
    pub fn exec(&self, cmd: Command) -> Output {
        output::run(cmd, &self.dir, COMMAND_TIMEOUT)
    }

    /// `<runtime> --root <state> ARGS...`
    pub fn runtime(&self, args: &[&str]) -> Output {
        self.exec(self.command(args))
    }

    /// Writes the bundle's config and runs it to completion (`run --bundle`).
    pub fn run(&self, bundle: &Bundle) -> Output {
        bundle.write();
        self.runtime(&["run", "--bundle", path_str(&bundle.dir), &bundle.id])
    }

    /// Writes the bundle's config and creates its container.
    pub fn create(&self, bundle: &Bundle) -> Output {
        self.create_as(bundle, &bundle.id, &[])
    }

    /// `create` with an explicit id and extra flags (e.g. `--console-socket`).
    pub fn create_as(&self, bundle: &Bundle, id: &str, flags: &[&str]) -> Output {
        bundle.write();
        let mut args = vec!["create", "--bundle", path_str(&bundle.dir)];
        args.extend_from_slice(flags);
        args.push(id);
        self.runtime(&args)
    }

    /// The parsed output of `state <id>`, or the failed command.
    pub fn state(&self, id: &str) -> Result<Value, Output> {
        let out = self.runtime(&["state", id]);
        if !out.ok() {
            return Err(out);
        }
        serde_json::from_str(&out.stdout)
            .map_err(|e| panic!("state {id} printed invalid JSON ({e}):\n{out}"))
    }

    /// The `status` field of `state <id>` ("" when state fails).
    pub fn status(&self, id: &str) -> String {
        self.state(id)
            .ok()
            .and_then(|s| s["status"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Polls `state` until the container reports `status`; panics after 20 s.
    #[track_caller]
    pub fn wait_status(&self, id: &str, status: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.status(id) == status {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "container {id} never reached status {status:?}; last state: {:?}",
            self.state(id)
        );
    }

    /// Force-deletes containers, kills what is left in their cgroups, removes the
    /// cgroups, detaches mounts under the sandbox and removes the directory.
    fn clean_up(&self) {
        let ids = self.known_ids();
        for id in &ids {
            let _ = output::run(
                self.command(&["delete", "--force", id]),
                &self.dir,
                Duration::from_secs(20),
            );
        }
        for id in &ids {
            host::remove_cgroup(&cgroups_path(id));
        }
        host::detach_mounts_under(&self.dir);
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!("warning: cannot remove {}: {e}", self.dir.display());
        }
    }

    /// Ids this sandbox handed out plus anything the runtime keeps in its state root.
    fn known_ids(&self) -> BTreeSet<String> {
        let mut ids = self.ids.lock().map(|i| i.clone()).unwrap_or_default();
        if let Ok(entries) = fs::read_dir(self.state_root()) {
            ids.extend(
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().into_string().ok()),
            );
        }
        ids
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.clean_up();
    }
}

/// A path as &str; sandbox paths are always UTF-8.
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}
