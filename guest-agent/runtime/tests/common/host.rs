//! Facts about, and helpers on, the host the tests run on.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use nix::mount::{umount2, MntFlags};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, Uid};

/// Where the cgroup hierarchies are mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Fails the test at once, with the reason, when not run as root.
#[track_caller]
pub fn require_root() {
    assert!(
        Uid::effective().is_root(),
        "berth-runtime's integration tests create namespaces, mounts and cgroups: run them as root"
    );
}

/// One line of /proc/<pid>/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Path of the mount's root within its filesystem.
    pub root: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// Per-mount options (`ro`, `nosuid`, ...).
    pub options: Vec<String>,
    /// Optional fields (`shared:N`, `master:N`).
    pub propagation: Vec<String>,
    /// Filesystem type.
    pub fstype: String,
    /// Mount source.
    pub source: String,
    /// Per-superblock options (`size=...`, `mode=...`).
    pub super_options: Vec<String>,
}

impl Mount {
    /// Mounted read-only.
    pub fn is_read_only(&self) -> bool {
        self.options.iter().any(|o| o == "ro")
    }
}

/// Parses mountinfo text (the host's or one a container printed).
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_mount_line).collect()
}

fn parse_mount_line(line: &str) -> Option<Mount> {
    let (left, right) = line.split_once(" - ")?;
    let left: Vec<&str> = left.split(' ').collect();
    let right: Vec<&str> = right.split(' ').collect();
    if left.len() < 6 || right.len() < 3 {
        return None;
    }
    let list = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
    Some(Mount {
        root: unescape(left[3]),
        mount_point: unescape(left[4]),
        options: list(left[5]),
        propagation: left[6..].iter().map(|s| (*s).to_owned()).collect(),
        fstype: right[0].to_owned(),
        source: unescape(right[1]),
        super_options: list(right[2]),
    })
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The host's (this process's) mounts.
pub fn host_mounts() -> Vec<Mount> {
    parse_mountinfo(&fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo"))
}

/// The last (topmost) mount at `mount_point` in `mounts`.
pub fn mount_at<'a>(mounts: &'a [Mount], mount_point: &str) -> Option<&'a Mount> {
    mounts.iter().rev().find(|m| m.mount_point == mount_point)
}

/// Detaches every mount at or below `dir`, deepest first, so removing `dir`
/// can never walk into a bind-mounted host directory.
pub fn detach_mounts_under(dir: &Path) {
    let prefix = dir.to_string_lossy().into_owned();
    let mut points: Vec<String> = host_mounts()
        .into_iter()
        .map(|m| m.mount_point)
        .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let _ = umount2(point.as_str(), MntFlags::MNT_DETACH);
    }
}

/// `/proc/self/ns/<kind>` of the test process, e.g. `net:[4026531840]`.
pub fn host_namespace(kind: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{kind}"))
        .expect("read own namespace link")
        .to_string_lossy()
        .into_owned()
}

/// The value of `field` in /proc/<pid>/status text ("CapEff", "NoNewPrivs", ...).
pub fn status_field(status: &str, field: &str) -> Option<String> {
    status.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == field).then(|| value.trim().to_owned())
    })
}

/// True when the host mounts cgroup v1 hierarchies (this machine: yes).
pub fn cgroup_v1() -> bool {
    Path::new(CGROUP_ROOT)
        .join("memory/memory.limit_in_bytes")
        .exists()
}

/// Every host directory that holds the cgroup `path`, one per hierarchy.
pub fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let relative = path.trim_start_matches('/');
    let mut dirs = vec![Path::new(CGROUP_ROOT).join(relative)];
    if let Ok(entries) = fs::read_dir(CGROUP_ROOT) {
        dirs.extend(entries.flatten().map(|e| e.path().join(relative)));
    }
    dirs.retain(|d| d.is_dir());
    dirs
}

/// Kills whatever is still in the cgroup `path` and removes it from every hierarchy.
pub fn remove_cgroup(path: &str) {
    for _ in 0..50 {
        let dirs = cgroup_dirs(path);
        if dirs.is_empty() {
            return;
        }
        for dir in &dirs {
            kill_cgroup_members(dir);
            let _ = fs::remove_dir(dir);
        }
        thread::sleep(Duration::from_millis(20));
    }
    eprintln!("warning: cgroup {path} could not be removed");
}

fn kill_cgroup_members(dir: &Path) {
    let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// A named network namespace (`ip netns add`), deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates `/run/netns/<name>`.
    pub fn add(name: &str) -> NetNs {
        let status = Command::new("ip")
            .args(["netns", "add", name])
            .status()
            .expect("run ip netns add (install iproute2)");
        assert!(status.success(), "ip netns add {name} failed");
        NetNs {
            name: name.to_owned(),
        }
    }

    /// The bind-mounted namespace file.
    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// The namespace as `readlink /proc/<pid>/ns/net` would print it.
    pub fn link(&self) -> String {
        use std::os::unix::fs::MetadataExt;
        let ino = fs::metadata(self.path()).expect("stat netns file").ino();
        format!("net:[{ino}]")
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}

/// Compiles a C source into a static binary at `out` (the rootfs has no libc).
pub fn compile_static_c(source: &str, out: &Path) {
    let src = out.with_extension("c");
    fs::write(&src, source).expect("write C source");
    let result = Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(out)
        .arg(&src)
        .output()
        .expect("run gcc (install gcc and libc6-dev)");
    assert!(
        result.status.success(),
        "gcc failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let _ = fs::remove_file(src);
}

/// Whether /proc/<pid> exists.
pub fn process_exists(pid: i64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Polls `condition` until it holds; panics naming `what` after 20 s.
#[track_caller]
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}
