//! cgroup v2 logic against a temporary directory standing in for the unified hierarchy:
//! the interface files a real kernel would show are created by hand, so these run on any
//! host without root.

use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;
use serde_json::json;

use super::{CgroupError, CgroupManager};

/// A fake hierarchy root offering some controllers, with `/berth` already present.
struct FakeRoot(PathBuf);

impl FakeRoot {
    fn new(test: &str) -> Self {
        let root = std::env::temp_dir().join(format!("berth-cgv2-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("berth")).expect("fake root");
        let fake = FakeRoot(root);
        fake.put("cgroup.controllers", "cpuset cpu io memory pids misc\n");
        fake.put("cgroup.subtree_control", "");
        fake.put("berth/cgroup.subtree_control", "");
        fake
    }

    fn put(&self, file: &str, content: &str) {
        let path = self.0.join(file);
        fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        fs::write(&path, content).expect("write fake file");
    }

    fn read(&self, file: &str) -> String {
        fs::read_to_string(self.0.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    fn manager(&self, id: &str) -> CgroupManager {
        CgroupManager::with_root(&self.0, None, id).expect("manager")
    }
}

impl Drop for FakeRoot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn resources(value: serde_json::Value) -> LinuxResources {
    serde_json::from_value(value).expect("valid resources")
}

#[test]
fn create_enables_controllers_in_every_ancestor_but_the_leaf() {
    let fake = FakeRoot::new("create");
    fake.put("berth/cgroup.subtree_control", "cpu memory\n");
    let cg = fake.manager("abc");
    assert!(cg.is_v2());
    assert_eq!(cg.path(), Path::new("/berth/abc"));
    cg.create().expect("create");
    // "misc" is offered but unused by the spec's resources: it is enabled all the same
    // because it is a container controller; unknown ones would not be.
    assert_eq!(
        fake.read("cgroup.subtree_control"),
        "+cpuset +cpu +io +memory +pids +misc"
    );
    assert_eq!(
        fake.read("berth/cgroup.subtree_control"),
        "+cpuset +io +pids +misc"
    );
    assert!(fake.0.join("berth/abc").is_dir());
    assert!(!fake.0.join("berth/abc/cgroup.subtree_control").exists());
    cg.create().expect("create is idempotent");
}

#[test]
fn apply_writes_converted_values() {
    let fake = FakeRoot::new("apply");
    let files = [
        "memory.max",
        "memory.swap.max",
        "memory.low",
        "cpu.weight",
        "cpu.max",
        "cpuset.cpus",
        "pids.max",
        "io.weight",
        "io.max",
        "memory.high",
        "hugetlb.2MB.max",
        "hugetlb.2MB.rsvd.max",
    ];
    for file in files {
        fake.put(&format!("berth/abc/{file}"), "");
    }
    let cg = fake.manager("abc");
    cg.create().expect("create");
    let spec = resources(json!({
        "memory": {"limit": 64 << 20, "swap": 96 << 20, "reservation": 16 << 20},
        "cpu": {"shares": 1024, "quota": 50000, "cpus": "0-1"},
        "pids": {"limit": 20},
        "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
        "unified": {"memory.high": "50000000"},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
    }));
    cg.apply(&spec).expect("apply");
    let read = |file: &str| fake.read(&format!("berth/abc/{file}"));
    assert_eq!(read("memory.max"), "67108864");
    assert_eq!(read("memory.swap.max"), "33554432");
    assert_eq!(read("memory.low"), "16777216");
    assert_eq!(read("cpu.weight"), "39");
    assert_eq!(read("cpu.max"), "50000 100000");
    assert_eq!(read("cpuset.cpus"), "0-1");
    assert_eq!(read("pids.max"), "20");
    assert_eq!(read("io.weight"), "default 4950");
    assert_eq!(read("io.max"), "8:0 rbps=1048576");
    assert_eq!(read("memory.high"), "50000000");
    assert_eq!(read("hugetlb.2MB.max"), "4194304");
    assert_eq!(read("hugetlb.2MB.rsvd.max"), "4194304");
}

#[test]
fn device_rules_fail_clearly_where_no_program_can_attach() {
    // A plain directory is no cgroup: the kernel refuses the program (or, without
    // privilege, refuses to load it), and apply must say so rather than skip the rules.
    let fake = FakeRoot::new("devices");
    let cg = fake.manager("abc");
    cg.create().expect("create");
    let spec = resources(json!({"devices": [{"allow": false, "access": "rwm"}]}));
    let err = cg.apply(&spec).unwrap_err();
    let expected = matches!(
        err,
        CgroupError::DeviceProgram { .. } | CgroupError::DeviceProgramLoad { .. }
    );
    assert!(expected, "{err}");
    assert!(err.to_string().contains("linux.resources.devices"), "{err}");
}

#[test]
fn bfq_weight_is_preferred_and_takes_the_v1_range() {
    let fake = FakeRoot::new("bfq");
    fake.put("berth/abc/io.bfq.weight", "");
    fake.put("berth/abc/io.weight", "");
    let cg = fake.manager("abc");
    cg.apply(&resources(json!({"blockIO": {"weight": 500}})))
        .expect("apply");
    assert_eq!(fake.read("berth/abc/io.bfq.weight"), "default 500");
    assert_eq!(fake.read("berth/abc/io.weight"), "");
}

#[test]
fn missing_interface_files_name_the_limit() {
    let fake = FakeRoot::new("missing");
    let cg = fake.manager("abc");
    cg.create().expect("create");
    let huge = resources(json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]}));
    let err = cg.apply(&huge).unwrap_err();
    assert!(matches!(err, CgroupError::FileMissing { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("hugepageLimits[2MB]") && message.contains("hugetlb.2MB.max"));
    let weight = resources(json!({"blockIO": {"weight": 100}}));
    let err = cg.apply(&weight).unwrap_err().to_string();
    assert!(
        err.contains("blockIO.weight") && err.contains("io.bfq.weight"),
        "{err}"
    );
}

#[test]
fn unsupported_and_hostile_resources_are_refused() {
    let fake = FakeRoot::new("refused");
    let cg = fake.manager("abc");
    let cases = [
        json!({"cpu": {"realtimeRuntime": 950000}}),
        json!({"memory": {"swappiness": 10}}),
        json!({"memory": {"disableOOMKiller": true}}),
        json!({"blockIO": {"leafWeight": 10}}),
        json!({"network": {"classID": 1}}),
        json!({"unified": {"../../cgroup.procs": "1"}}),
        json!({"unified": {"cgroup.kill": "1"}}),
        json!({"memory": {"swap": 1024}}),
    ];
    for case in cases {
        let err = cg
            .apply(&resources(case.clone()))
            .expect_err(&case.to_string());
        let expected = matches!(
            err,
            CgroupError::Unsupported { .. } | CgroupError::InvalidValue { .. }
        );
        assert!(expected, "{case}: {err}");
    }
    // Nothing was written before the plan was refused.
    assert!(!fake.0.join("cgroup.procs").exists());
}

#[test]
fn freeze_and_thaw_wait_for_the_kernel() {
    let fake = FakeRoot::new("freeze");
    fake.put("berth/abc/cgroup.freeze", "0");
    fake.put("berth/abc/cgroup.events", "populated 1\nfrozen 1\n");
    let cg = fake.manager("abc");
    cg.freeze().expect("freeze");
    assert_eq!(fake.read("berth/abc/cgroup.freeze"), "1");
    fake.put("berth/abc/cgroup.events", "populated 1\nfrozen 0\n");
    cg.thaw().expect("thaw");
    assert_eq!(fake.read("berth/abc/cgroup.freeze"), "0");
}

#[test]
fn pids_and_idempotent_destroy() {
    let fake = FakeRoot::new("destroy");
    fake.put("berth/abc/cgroup.procs", "12\n7\n");
    fake.put("berth/abc/inner/cgroup.procs", "30\n");
    let cg = fake.manager("abc");
    assert_eq!(cg.pids().expect("pids"), [7, 12, 30]);
    let gone = fake.manager("never-created");
    gone.destroy().expect("missing cgroup is destroyed");
    gone.destroy().expect("twice");
}
