//! Escape regressions: images and specs crafted to make the runtime act outside
//! the rootfs. Each test passes when the attempt fails to escape, whether the
//! runtime refuses the container or confines the effect to the rootfs.
//! Needs root; see `common` for the harness.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use serde_json::json;

use common::host::host_mounts;
use common::output::Output;
use common::{Bundle, Sandbox};

/// A host directory outside the rootfs that nothing may touch, and a path under
/// it that does not exist yet (so a runtime that follows a symlink on the host
/// and creates missing directories would leave a trace).
struct Victim {
    dir: PathBuf,
}

impl Victim {
    fn new(sandbox: &Sandbox) -> Victim {
        let dir = sandbox.scratch_dir("victim");
        fs::write(dir.join("original"), "host file\n").unwrap();
        Victim { dir }
    }

    /// A path below the victim dir that does not exist.
    fn missing(&self) -> PathBuf {
        self.dir.join("deeper")
    }

    /// The victim dir holds exactly what the test put there and is no mount point.
    #[track_caller]
    fn assert_untouched(&self, out: &Output) {
        let entries: Vec<String> = fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            entries,
            ["original"],
            "the runtime wrote outside the rootfs\n{out}"
        );
        assert_eq!(
            fs::read_to_string(self.dir.join("original")).unwrap(),
            "host file\n",
            "a host file was modified\n{out}"
        );
        let mounts = host_mounts();
        let victim = self.dir.to_string_lossy();
        assert!(
            !mounts
                .iter()
                .any(|m| m.mount_point.starts_with(victim.as_ref())),
            "a mount appeared on the host at the victim\n{out}"
        );
    }
}

/// Replaces `rootfs/<name>` with a symlink to `target`.
fn plant_symlink(bundle: &Bundle, name: &str, target: &Path) {
    let link = bundle.rootfs().join(name);
    let _ = fs::remove_dir_all(&link);
    let _ = fs::remove_file(&link);
    symlink(target, &link).expect("plant symlink in the image");
}

#[test]
fn a_bind_mount_onto_a_symlink_to_the_host_lands_inside_the_rootfs() {
    let sandbox = Sandbox::new("esc-bind");
    let victim = Victim::new(&sandbox);
    let share = sandbox.scratch_dir("share");
    fs::write(share.join("marker"), "shared\n").unwrap();
    let mut bundle = sandbox.bundle("c");
    plant_symlink(&bundle, "mnt", &victim.missing());
    bundle.add_mount(json!({
        "destination": "/mnt", "type": "bind", "source": share, "options": ["rbind"]
    }));
    bundle.sh("cat /mnt/marker && echo escaped > /mnt/written");
    let out = sandbox.run(&bundle);
    victim.assert_untouched(&out);
    if out.ok() {
        // Confined: the mount is where /mnt resolves inside the container.
        assert_eq!(out.stdout, "shared\n", "{out}");
        assert!(share.join("written").exists(), "{out}");
    }
}

#[test]
fn a_tmpfs_onto_a_symlink_to_the_host_lands_inside_the_rootfs() {
    let sandbox = Sandbox::new("esc-tmpfs");
    let victim = Victim::new(&sandbox);
    let mut bundle = sandbox.bundle("c");
    plant_symlink(&bundle, "mnt", &victim.missing());
    bundle.add_mount(json!({
        "destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]
    }));
    bundle.sh("echo inside > /mnt/file && stat -f -c %T /mnt/");
    let out = sandbox.run(&bundle);
    victim.assert_untouched(&out);
    if out.ok() {
        assert_eq!(
            out.stdout, "tmpfs\n",
            "/mnt inside is not the spec's tmpfs\n{out}"
        );
    }
}

#[test]
fn a_dev_symlink_to_the_host_gets_no_device_nodes_on_the_host() {
    let sandbox = Sandbox::new("esc-dev");
    let victim = Victim::new(&sandbox);
    // With the spec's /dev tmpfs and without it (devices made in the image's /dev).
    for (name, dev_tmpfs) in [("tmpfs", true), ("image", false)] {
        let mut bundle = sandbox.bundle(name);
        plant_symlink(&bundle, "dev", &victim.missing());
        if !dev_tmpfs {
            bundle.remove_mount("/dev");
        }
        bundle.args(&["stat", "-c", "%F %t:%T", "/dev/null"]);
        let out = sandbox.run(&bundle);
        victim.assert_untouched(&out);
        if out.ok() {
            assert_eq!(out.stdout, "character special file 1:3\n", "{out}");
        }
    }
}

#[test]
fn cwd_through_a_leaked_proc_self_fd_cannot_reach_the_host() {
    // CVE-2024-21626: a descriptor to a host directory leaked into the container
    // init let process.cwd = /proc/self/fd/N start the process outside the root.
    let sandbox = Sandbox::new("esc-cwd");
    let host_only = sandbox
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    for fd in 3..=10 {
        let mut bundle = sandbox.bundle(&format!("fd{fd}"));
        bundle.spec["process"]["cwd"] = json!(format!("/proc/self/fd/{fd}"));
        // From a host cwd, enough `..` reach the host's / and its /tmp.
        bundle.sh("ls -a ../../../../../../../../tmp; ls -a ../../../../../../../../");
        let out = sandbox.run(&bundle);
        assert!(!out.timed_out, "{out}");
        assert!(
            !out.all().contains(&host_only),
            "cwd /proc/self/fd/{fd} reached the host's /tmp\n{out}"
        );
    }
}

#[test]
fn a_fake_dev_null_in_the_image_is_never_used_to_mask_paths() {
    let sandbox = Sandbox::new("esc-null");
    let victim = Victim::new(&sandbox);
    let host_file = victim.dir.join("original");
    // A planted regular file, and a planted symlink to a host file.
    for (name, symlinked) in [("file", false), ("symlink", true)] {
        let mut bundle = sandbox.bundle(name);
        bundle.remove_mount("/dev");
        let fake = bundle.rootfs().join("dev/null");
        if symlinked {
            symlink(&host_file, &fake).unwrap();
        } else {
            fs::write(&fake, "fake null from the image\n").unwrap();
        }
        bundle.spec["linux"]["maskedPaths"] = json!(["/proc/kcore", "/proc/keys"]);
        bundle.sh("cat /proc/keys; echo pwned > /proc/keys; true");
        let out = sandbox.run(&bundle);
        victim.assert_untouched(&out);
        if out.ok() {
            assert_eq!(
                out.stdout, "",
                "/proc/keys masked with the image's fake file\n{out}"
            );
        }
    }
}
