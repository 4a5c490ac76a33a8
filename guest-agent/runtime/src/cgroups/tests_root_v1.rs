//! Tests against the real cgroup v1 hierarchies; they need root on a v1 (or hybrid) host,
//! as in CI, and say so by name. Elsewhere they print why they skip and pass.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::thread::{self, JoinHandle};

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};
use nix::unistd::geteuid;
use oci_spec::runtime::LinuxResources;
use serde_json::json;

use super::{CgroupError, CgroupManager};

fn v1_host() -> bool {
    let v2 = statfs("/sys/fs/cgroup").is_ok_and(|s| s.filesystem_type() == CGROUP2_SUPER_MAGIC);
    let ok = geteuid().is_root() && !v2;
    if !ok {
        eprintln!("skipped: needs root on a cgroup v1 host");
    }
    ok
}

/// A uniquely named container cgroup, destroyed even when the test panics.
struct TestCgroup(CgroupManager);

impl TestCgroup {
    fn new(test: &str) -> Self {
        let id = format!("test-{test}-{}", std::process::id());
        let manager = CgroupManager::new(None, &id).expect("manager");
        assert!(!manager.is_v2());
        manager.create().expect("create");
        TestCgroup(manager)
    }

    fn v1(&self) -> &super::v1::V1 {
        match &self.0.backend {
            super::Backend::V1(v1) => v1,
            super::Backend::V2(_) => unreachable!("v1 test on a v2 manager"),
        }
    }

    /// The container's directory in the hierarchy mounted for `controller`.
    fn dir(&self, controller: &'static str) -> PathBuf {
        self.v1()
            .dir_for(controller, "test")
            .expect("controller mounted")
    }

    fn has(&self, controller: &'static str) -> bool {
        self.v1().dir_for(controller, "test").is_ok()
    }

    fn read(&self, controller: &'static str, file: &str) -> String {
        let path = self.dir(controller).join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

fn resources(value: serde_json::Value) -> LinuxResources {
    serde_json::from_value(value).expect("valid resources")
}

fn spawn_sleeper() -> (i32, JoinHandle<ExitStatus>) {
    let mut child = Command::new("sleep")
        .arg("1000")
        .spawn()
        .expect("spawn sleep");
    let pid = i32::try_from(child.id()).expect("pid fits i32");
    // Reap in the background so a killed child does not linger as a zombie.
    let waiter = thread::spawn(move || child.wait().expect("wait"));
    (pid, waiter)
}

#[test]
fn root_v1_limits_are_written() {
    if !v1_host() {
        return;
    }
    let cg = TestCgroup::new("limits");
    let spec = resources(json!({
        "memory": {"limit": 64 << 20, "reservation": 32 << 20},
        "pids": {"limit": 20},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
    }));
    cg.0.apply(&spec).expect("apply");
    assert_eq!(
        cg.read("memory", "memory.limit_in_bytes").trim(),
        "67108864"
    );
    assert_eq!(
        cg.read("memory", "memory.soft_limit_in_bytes").trim(),
        "33554432"
    );
    assert_eq!(cg.read("pids", "pids.max").trim(), "20");
    assert_eq!(cg.read("cpu", "cpu.cfs_quota_us").trim(), "50000");
    assert_eq!(cg.read("cpu", "cpu.cfs_period_us").trim(), "100000");
    assert_eq!(cg.read("cpu", "cpu.shares").trim(), "512");
    assert_eq!(cg.read("cpuset", "cpuset.cpus").trim(), "0");
}

#[test]
fn root_v1_swap_is_memory_plus_swap() {
    if !v1_host() {
        return;
    }
    let cg = TestCgroup::new("swap");
    if !cg
        .dir("memory")
        .join("memory.memsw.limit_in_bytes")
        .exists()
    {
        eprintln!("skipped: no swap accounting on this kernel");
        return;
    }
    let spec = resources(json!({"memory": {"limit": 64 << 20, "swap": 128 << 20}}));
    cg.0.apply(&spec).expect("apply");
    assert_eq!(
        cg.read("memory", "memory.memsw.limit_in_bytes").trim(),
        "134217728"
    );
    // Raising the limit above the current memory+swap needs the reverse order.
    let spec = resources(json!({"memory": {"limit": 256 << 20, "swap": 512 << 20}}));
    cg.0.apply(&spec).expect("apply raised limits");
    assert_eq!(
        cg.read("memory", "memory.limit_in_bytes").trim(),
        "268435456"
    );
}

#[test]
fn root_v1_devices_are_an_allowlist() {
    if !v1_host() {
        return;
    }
    let cg = TestCgroup::new("devices");
    let spec = resources(json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 136, "access": "rw"},
    ]}));
    cg.0.apply(&spec).expect("apply");
    let list = cg.read("devices", "devices.list");
    let rules: Vec<&str> = list.lines().collect();
    assert_eq!(rules, ["c 1:3 rwm", "c 136:* rw"]);
}

#[test]
fn root_v1_process_lifecycle() {
    if !v1_host() {
        return;
    }
    let cg = TestCgroup::new("lifecycle");
    let (pid, waiter) = spawn_sleeper();
    cg.0.add_process(pid).expect("add process");
    assert_eq!(cg.0.pids().expect("pids"), [pid]);
    let membership = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    assert!(
        membership.contains(":memory:/berth/test-lifecycle-"),
        "{membership}"
    );

    cg.0.freeze().expect("freeze");
    assert_eq!(cg.read("freezer", "freezer.state").trim(), "FROZEN");
    cg.0.thaw().expect("thaw");
    assert_eq!(cg.read("freezer", "freezer.state").trim(), "THAWED");

    // A nested cgroup, as a container's own init might make, goes too (child first).
    let nested = cg.dir("memory").join("nested");
    std::fs::create_dir(&nested).expect("nested cgroup");
    let dirs: Vec<PathBuf> = ["memory", "pids", "freezer", "cpu"]
        .map(|c| cg.dir(c))
        .into();
    cg.0.destroy().expect("destroy");
    let status = waiter.join().expect("waiter");
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    for dir in &dirs {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    cg.0.destroy().expect("destroy is idempotent");
}

#[test]
fn root_v1_errors_name_what_is_wrong() {
    if !v1_host() {
        return;
    }
    let cg = TestCgroup::new("errors");
    let unified = resources(json!({"unified": {"memory.high": "1000000"}}));
    let err = cg.0.apply(&unified).unwrap_err();
    assert!(matches!(err, CgroupError::Unsupported { .. }), "{err}");

    if !cg.has("hugetlb") {
        let huge = resources(json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 1 << 21}]}));
        let err = cg.0.apply(&huge).unwrap_err();
        assert!(matches!(
            err,
            CgroupError::ControllerMissing {
                controller: "hugetlb",
                ..
            }
        ));
        assert!(err.to_string().contains("hugepageLimits[2MB]"), "{err}");
    }

    let bad = resources(json!({"memory": {"limit": -7}}));
    let err = cg.0.apply(&bad).unwrap_err();
    assert!(matches!(err, CgroupError::InvalidValue { .. }), "{err}");

    let systemd = CgroupManager::new(Some(Path::new("system.slice:berth:x")), "x").unwrap_err();
    assert!(matches!(systemd, CgroupError::SystemdPath(_)));
    let escape = CgroupManager::new(Some(Path::new("/berth/../../x")), "x").unwrap_err();
    assert!(matches!(escape, CgroupError::InvalidPath { .. }));
}

/// "major:minor" of some block device on this machine, if any.
fn a_block_device() -> Option<String> {
    let entries = std::fs::read_dir("/sys/block").ok()?;
    let mut devices: Vec<String> = entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("dev")).ok())
        .map(|d| d.trim().to_owned())
        .collect();
    devices.sort();
    devices.into_iter().next()
}

#[test]
fn root_v1_block_io_weight_and_throttle() {
    if !v1_host() {
        return;
    }
    let cg = TestCgroup::new("blkio");
    let weight_files = ["blkio.weight", "blkio.bfq.weight"];
    if !weight_files
        .iter()
        .any(|f| cg.dir("blkio").join(f).exists())
    {
        let err =
            cg.0.apply(&resources(json!({"blockIO": {"weight": 300}})))
                .unwrap_err();
        assert!(err.to_string().contains("blockIO.weight"), "{err}");
        return;
    }
    let mut spec = json!({"blockIO": {"weight": 300}});
    let device = a_block_device();
    if let Some((major, minor)) = device.as_deref().and_then(|d| d.split_once(':')) {
        let (major, minor): (i64, i64) = (major.parse().unwrap(), minor.parse().unwrap());
        let throttle = json!([{"major": major, "minor": minor, "rate": 1048576}]);
        spec["blockIO"]["throttleReadBpsDevice"] = throttle;
    }
    cg.0.apply(&resources(spec)).expect("apply");
    let weight = weight_files
        .iter()
        .find(|f| cg.dir("blkio").join(f).exists())
        .map(|f| cg.read("blkio", f))
        .unwrap_or_default();
    assert!(weight.contains("300"), "{weight}");
    if let Some(device) = device {
        let throttle = cg.read("blkio", "blkio.throttle.read_bps_device");
        assert_eq!(throttle.trim(), format!("{device} 1048576"));
    }
}

#[test]
fn root_v1_destroy_kills_a_frozen_container() {
    if !v1_host() {
        return;
    }
    let cg = TestCgroup::new("frozen");
    let (pid, waiter) = spawn_sleeper();
    cg.0.add_process(pid).expect("add process");
    cg.0.freeze().expect("freeze");
    cg.0.destroy().expect("destroy");
    assert_eq!(waiter.join().expect("waiter").signal(), Some(libc::SIGKILL));
    assert!(!cg.dir("freezer").exists());
}
