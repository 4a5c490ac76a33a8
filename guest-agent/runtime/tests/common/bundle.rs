//! An OCI bundle: a busybox rootfs plus a `config.json` edited per test.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::spec;

/// Debian's busybox-static; the rootfs has no libc, so it must be static.
pub const BUSYBOX: &str = "/bin/busybox";

/// A bundle directory whose `spec` is written to `config.json` by [`Bundle::write`].
#[derive(Debug)]
pub struct Bundle {
    /// The bundle directory (holds `rootfs/` and `config.json`).
    pub dir: PathBuf,
    /// The container id the sandbox uses for this bundle by default.
    pub id: String,
    /// The spec as JSON; tests edit it freely before running.
    pub spec: Value,
}

impl Bundle {
    /// Builds `dir/rootfs` and a base spec whose cgroup is named after `id`.
    pub fn create(dir: PathBuf, id: &str) -> Bundle {
        build_rootfs(&dir.join("rootfs"));
        let spec = spec::base(&cgroups_path(id));
        Bundle {
            dir,
            id: id.to_owned(),
            spec,
        }
    }

    /// The rootfs directory on the host.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// The cgroup path (relative to each hierarchy's root) of this bundle.
    pub fn cgroups_path(&self) -> String {
        self.spec["linux"]["cgroupsPath"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Sets `process.args`.
    pub fn args(&mut self, args: &[&str]) -> &mut Bundle {
        self.spec["process"]["args"] = json!(args);
        self
    }

    /// Sets `process.args` to `sh -c script`.
    pub fn sh(&mut self, script: &str) -> &mut Bundle {
        self.args(&["sh", "-c", script])
    }

    /// Appends a mount to `mounts`.
    pub fn add_mount(&mut self, mount: Value) -> &mut Bundle {
        mounts(&mut self.spec).push(mount);
        self
    }

    /// Removes the mount at `destination`.
    pub fn remove_mount(&mut self, destination: &str) -> &mut Bundle {
        mounts(&mut self.spec).retain(|m| m["destination"] != destination);
        self
    }

    /// Appends a namespace entry (`{"type": kind}` plus an optional `path`).
    pub fn add_namespace(&mut self, kind: &str, path: Option<&Path>) -> &mut Bundle {
        let mut ns = json!({ "type": kind });
        if let Some(path) = path {
            ns["path"] = json!(path);
        }
        self.namespaces().push(ns);
        self
    }

    /// Removes the namespace of type `kind`.
    pub fn remove_namespace(&mut self, kind: &str) -> &mut Bundle {
        self.namespaces().retain(|ns| ns["type"] != kind);
        self
    }

    fn namespaces(&mut self) -> &mut Vec<Value> {
        self.spec["linux"]["namespaces"]
            .as_array_mut()
            .expect("linux.namespaces is an array")
    }

    /// Writes `config.json`, after checking that oci-spec accepts the spec, so a
    /// typo in a test shows up as a test bug rather than a runtime failure.
    pub fn write(&self) {
        let text = serde_json::to_string_pretty(&self.spec).expect("serialise spec");
        if let Err(e) = serde_json::from_str::<oci_spec::runtime::Spec>(&text) {
            panic!("test spec is not a valid OCI spec: {e}\n{text}");
        }
        fs::write(self.dir.join("config.json"), text).expect("write config.json");
    }
}

fn mounts(spec: &mut Value) -> &mut Vec<Value> {
    spec["mounts"].as_array_mut().expect("mounts is an array")
}

/// The cgroup path used for a container id: flat and unique, so parallel tests
/// never share a cgroup and cleanup can remove it by name.
pub fn cgroups_path(id: &str) -> String {
    format!("/berth-test-{id}")
}

/// A rootfs with busybox, its applets as symlinks, and root/nobody accounts.
pub fn build_rootfs(rootfs: &Path) {
    for dir in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "mnt"] {
        fs::create_dir_all(rootfs.join(dir)).expect("create rootfs dir");
    }
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777))
        .expect("chmod rootfs/tmp");
    // A copy, not a hard link: a test that writes /bin/busybox from inside must
    // never reach the host's binary.
    fs::copy(BUSYBOX, rootfs.join("bin/busybox"))
        .unwrap_or_else(|e| panic!("copy {BUSYBOX} (install busybox-static): {e}"));
    for applet in applets() {
        symlink("busybox", rootfs.join("bin").join(applet)).expect("applet symlink");
    }
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .expect("write /etc/passwd");
    fs::write(rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").expect("write /etc/group");
}

/// `busybox --list`, computed once per test binary.
fn applets() -> &'static [String] {
    static APPLETS: OnceLock<Vec<String>> = OnceLock::new();
    APPLETS.get_or_init(|| {
        let out = Command::new(BUSYBOX)
            .arg("--list")
            .output()
            .unwrap_or_else(|e| panic!("run {BUSYBOX} --list (install busybox-static): {e}"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|name| !name.is_empty() && *name != "busybox")
            .map(str::to_owned)
            .collect()
    })
}
