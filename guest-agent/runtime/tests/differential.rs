//! Differential tests: one bundle, three runtimes (Debian's runc and crun, and the
//! runtime under test), the same observable output once pids, inode numbers and
//! mount ids are normalised away. runc and crun agreeing is what makes an output
//! an expectation; the runtime under test must match it.
//! Needs root; see `common` for the harness.

mod common;

use std::collections::BTreeMap;

use serde_json::json;

use common::host::{host_namespace, parse_mountinfo};
use common::runtime::Runtime;
use common::{spec, Bundle, Sandbox};

/// A bundle tweak and a normaliser for the process's stdout.
struct Probe {
    name: &'static str,
    configure: fn(&mut Bundle),
    normalise: fn(&str) -> String,
}

/// Every available runtime: the reference ones first.
fn runtimes() -> Vec<Runtime> {
    let runc = Runtime::runc().expect("differential tests need runc (Debian package runc)");
    let crun = Runtime::crun().expect("differential tests need crun (Debian package crun)");
    vec![runc, crun, Runtime::under_test()]
}

/// Runs `probe` under every runtime and asserts that all outputs are equal.
fn compare(probe: Probe) {
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    for (i, runtime) in runtimes().into_iter().enumerate() {
        let label = if i < 2 {
            runtime.label.clone()
        } else {
            format!("under test: {}", runtime.label)
        };
        let sandbox = Sandbox::with_runtime(&format!("diff-{}", probe.name), runtime);
        let mut bundle = sandbox.bundle("c");
        (probe.configure)(&mut bundle);
        let out = sandbox.run(&bundle);
        let seen = if out.ok() {
            (probe.normalise)(&out.stdout)
        } else {
            format!("FAILED: {out}")
        };
        outputs.insert(label, seen);
    }
    let mut distinct: Vec<&String> = outputs.values().collect();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() == 1,
        "{} differs:\n{}",
        probe.name,
        table(&outputs)
    );
}

fn table(outputs: &BTreeMap<String, String>) -> String {
    outputs
        .iter()
        .map(|(label, text)| format!("--- {label}\n{text}\n"))
        .collect()
}

fn unchanged(text: &str) -> String {
    text.to_owned()
}

/// `<kind> <link>` lines become `<kind> new|host`.
fn namespaces_new_or_host(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(kind, link)| {
            let which = if link == host_namespace(kind) {
                "host"
            } else {
                "new"
            };
            format!("{kind} {which}\n")
        })
        .collect()
}

/// mountinfo lines become sorted `<mount point> <fstype> <ro|rw>` lines. A file
/// masked with a null device is `<mount point> null`: runc binds the container's
/// /dev/null (tmpfs, rw), crun the host's (devtmpfs, ro); both read as empty.
fn mounts_summary(text: &str) -> String {
    let mut lines: Vec<String> = parse_mountinfo(text)
        .iter()
        .map(|m| {
            if m.root.ends_with("/null") {
                return format!("{} null\n", m.mount_point);
            }
            let mode = if m.is_read_only() { "ro" } else { "rw" };
            format!("{} {} {mode}\n", m.mount_point, m.fstype)
        })
        .collect();
    lines.sort();
    lines.concat()
}

/// Drops crun's extra /dev/core -> /proc/kcore symlink, which the spec does not
/// ask for (and which dangles where /proc/kcore is masked or absent).
fn without_dev_core(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("core "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn capabilities_and_security_status_agree() {
    compare(Probe {
        name: "caps",
        configure: |b| {
            b.sh("grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status");
        },
        normalise: unchanged,
    });
}

#[test]
fn hostname_agrees() {
    compare(Probe {
        name: "hostname",
        configure: |b| {
            b.spec["hostname"] = json!("differential");
            b.sh("hostname; cat /proc/sys/kernel/hostname");
        },
        normalise: unchanged,
    });
}

#[test]
fn namespace_list_agrees() {
    compare(Probe {
        name: "ns",
        configure: |b| {
            b.sh("for k in cgroup ipc mnt net pid time user uts; do echo $k $(readlink /proc/self/ns/$k); done");
        },
        normalise: namespaces_new_or_host,
    });
}

#[test]
fn mount_table_agrees() {
    compare(Probe {
        name: "mounts",
        configure: |b| {
            b.args(&["cat", "/proc/self/mountinfo"]);
        },
        normalise: mounts_summary,
    });
}

#[test]
fn identity_agrees() {
    compare(Probe {
        name: "id",
        configure: |b| {
            b.spec["process"]["user"] =
                json!({ "uid": 65534, "gid": 65534, "additionalGids": [4242] });
            b.sh("id; grep -E '^(Uid|Gid|Groups)' /proc/self/status");
        },
        normalise: unchanged,
    });
}

#[test]
fn resource_limits_agree() {
    compare(Probe {
        name: "ulimit",
        configure: |b| {
            b.spec["process"]["rlimits"] = json!([
                { "type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024 },
                { "type": "RLIMIT_NPROC", "soft": 300, "hard": 400 }
            ]);
            b.sh("ulimit -a; ulimit -Ha");
        },
        normalise: unchanged,
    });
}

#[test]
fn masked_and_read_only_paths_agree() {
    compare(Probe {
        name: "masked",
        configure: |b| {
            let paths = spec::MASKED_PATHS.iter().chain(spec::READONLY_PATHS.iter());
            let list: Vec<&str> = paths.copied().collect();
            b.sh(&format!(
                "for p in {}; do echo $p $(stat -c '%F %t:%T' $p 2>&1) $(ls -A $p 2>/dev/null | wc -l); done",
                list.join(" ")
            ));
        },
        normalise: unchanged,
    });
}

#[test]
fn dev_listing_agrees() {
    compare(Probe {
        name: "dev",
        configure: |b| {
            b.sh("cd /dev && for f in $(ls -A); do echo $f $(stat -c '%F %a %t:%T' $f) $(readlink $f); done");
        },
        normalise: without_dev_core,
    });
}
