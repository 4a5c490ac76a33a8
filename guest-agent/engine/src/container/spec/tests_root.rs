//! Root test: a spec built here runs in berth-runtime over a busybox rootfs
//! (tests/fixtures/busybox-bundle.sh), and the container sees what its config asked
//! for: user and groups, hostname, /etc/hosts, resolv.conf, cwd, env and mounts.
//! Needs root (namespaces, mounts, cgroups) and Debian's busybox-static.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use berth_runtime::ContainerBuilder;
use serde_json::json;

use super::*;
use crate::container::config::ContainerConfig;
use crate::container::etc_files::{self, EtcConfig};

/// The container's report, one file per check, written into a bind mounted dir.
const SCRIPT: &str = "id > /out/id; hostname > /out/hostname; cat /etc/hosts > /out/hosts; \
    cat /etc/resolv.conf > /out/resolv; pwd > /out/pwd; echo \"$FOO $HOME\" > /out/env; \
    touch /ro/x 2> /out/ro && echo writable >> /out/ro; \
    grep -E ' /scratch | /ro ' /proc/mounts > /out/mounts; cat /proc/self/status > /out/status";

fn busybox_rootfs(bundle: &Path) -> PathBuf {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/busybox-bundle.sh");
    let status = Command::new("sh")
        .arg(&script)
        .arg(bundle)
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
    let rootfs = bundle.join("rootfs");
    // A supplementary group for `nobody`, which the spec must carry into the container.
    let mut group = fs::read_to_string(rootfs.join("etc/group")).unwrap();
    group.push_str("staff:x:50:root,nobody\n");
    fs::write(rootfs.join("etc/group"), group).unwrap();
    rootfs
}

/// Creates, starts and waits for a container of `config` over a busybox rootfs whose
/// `/out` is a host directory; returns that directory.
fn run(tmp: &Path, tag: &str, config: serde_json::Value) -> PathBuf {
    let bundle = tmp.join("bundle");
    let rootfs = busybox_rootfs(&bundle);
    let container_dir = tmp.join("container");
    let out = tmp.join("out");
    let ro = tmp.join("ro");
    for dir in [&container_dir, &out, &ro] {
        fs::create_dir_all(dir).unwrap();
    }
    // `nobody` writes the report.
    fs::set_permissions(&out, fs::Permissions::from_mode(0o777)).unwrap();
    let mut config = config;
    config["mounts"] = json!([
        { "type": "bind", "source": out, "target": "/out" },
        { "type": "bind", "source": ro, "target": "/ro", "readonly": true },
        { "type": "tmpfs", "target": "/scratch", "size": 1048576 },
    ]);
    let config: ContainerConfig = serde_json::from_value(config).unwrap();
    let image = serde_json::from_value(json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [] },
        "config": { "Env": ["PATH=/bin"], "Cmd": ["sh"] },
    }))
    .unwrap();
    let merged = merge(&config, &image).unwrap();

    let id = format!("spec-root-{tag}-{}", std::process::id());
    let extra_hosts = config.extra_hosts().unwrap();
    let host_resolv = etc_files::host_resolv_conf();
    let name = hostname(&merged, &id);
    etc_files::write(
        &container_dir,
        &EtcConfig {
            hostname: &name,
            domainname: None,
            addresses: &["10.0.0.7".parse().unwrap()],
            extra_hosts: &extra_hosts,
            host_gateway: None,
            dns: &[],
            dns_search: &[],
            dns_options: &[],
            host_resolv_conf: &host_resolv,
        },
    )
    .unwrap();
    let spec = build(&merged, &BuildOptions::new(&id, &rootfs, &container_dir)).unwrap();
    fs::write(
        bundle.join("config.json"),
        serde_json::to_vec_pretty(&spec).unwrap(),
    )
    .unwrap();

    let state_root = tmp.join("state");
    let mut container = ContainerBuilder::new(&id, &state_root)
        .bundle(&bundle)
        .create()
        .unwrap_or_else(|e| panic!("create: {}", berth_runtime::error::chain(&e)));
    container.start().unwrap();
    let pid = nix::unistd::Pid::from_raw(container.state.pid);
    let code = berth_runtime::container::wait_exit(pid).unwrap();
    container.delete(true).unwrap();
    assert_eq!(code, 0, "the container's script failed");
    out
}

fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in {status}"))
        .trim()
        .to_string()
}

#[test]
fn root_spec_runs_in_berth_runtime() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        tmp.path(),
        "default",
        json!({
            "image": "busybox",
            "cmd": ["sh", "-c", SCRIPT],
            "user": "nobody",
            "hostname": "berth-test",
            "working_dir": "/tmp",
            "env": ["FOO=bar"],
            "extra_hosts": ["db:10.1.2.3"],
            "resources": { "memory": 67108864, "pids_limit": 64, "nano_cpus": 500000000 },
        }),
    );
    let read = |name: &str| fs::read_to_string(out.join(name)).unwrap();
    let id_line = read("id");
    assert!(
        id_line.starts_with("uid=65534(nobody) gid=65534(nogroup) groups=")
            && id_line.contains("50(staff)")
            && !id_line.contains("0(root)"),
        "{id_line}"
    );
    assert_eq!(read("hostname"), "berth-test\n");
    let hosts = read("hosts");
    assert!(hosts.starts_with("127.0.0.1\tlocalhost\n"), "{hosts}");
    assert!(
        hosts.contains("10.1.2.3\tdb\n") && hosts.contains("10.0.0.7\tberth-test\n"),
        "{hosts}"
    );
    assert!(read("resolv").contains("nameserver "));
    assert_eq!(read("pwd"), "/tmp\n");
    assert_eq!(read("env"), "bar /nonexistent\n");
    let ro = read("ro");
    assert!(
        ro.contains("Read-only file system") && !ro.contains("writable"),
        "{ro}"
    );
    let mounts = read("mounts");
    assert!(
        mounts.contains("/scratch tmpfs rw,nosuid,nodev,noexec"),
        "{mounts}"
    );
    assert!(mounts.contains("size=1024k"), "{mounts}");
    let status = read("status");
    // Filter mode 2 = seccomp on; docker's default leaves no_new_privs off.
    assert_eq!(status_field(&status, "Seccomp:"), "2");
    assert_eq!(status_field(&status, "NoNewPrivs:"), "0");
}

#[test]
fn root_privileged_spec_runs_in_berth_runtime() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        tmp.path(),
        "privileged",
        json!({
            "image": "busybox",
            "cmd": ["sh", "-c", "cat /proc/self/status > /out/status; ls /dev > /out/dev; \
                     grep -E ' /sys ' /proc/mounts > /out/mounts"],
            "privileged": true,
        }),
    );
    let read = |name: &str| fs::read_to_string(out.join(name)).unwrap();
    let status = read("status");
    assert_eq!(status_field(&status, "Seccomp:"), "0");
    // Every capability the engine has (root's bounding set here lacks SYS_RESOURCE).
    let mask = u64::from_str_radix(&status_field(&status, "CapEff:"), 16).unwrap();
    assert_eq!(mask, engine_bounding_mask());
    // Host devices beyond the default six are there.
    let dev = read("dev");
    assert!(
        dev.lines()
            .any(|d| d == "loop-control" || d == "kmsg" || d == "mem"),
        "{dev}"
    );
    assert!(read("mounts").contains(" rw,"), "sysfs should be writable");
}
