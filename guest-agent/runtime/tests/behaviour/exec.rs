//! `exec` into a running container.

use std::fs;

use serde_json::json;

use crate::common::sandbox::path_str;
use crate::common::{spec, Bundle, Sandbox};

/// Creates and starts a container that sleeps until deleted.
fn running(sandbox: &Sandbox) -> Bundle {
    let mut bundle = sandbox.bundle("c");
    bundle.args(&["sleep", "1000"]);
    sandbox.create(&bundle).expect_ok();
    sandbox.runtime(&["start", &bundle.id]).expect_ok();
    bundle
}

#[test]
fn exec_runs_inside_the_containers_namespaces() {
    let sandbox = Sandbox::new("exec-ns");
    let bundle = running(&sandbox);
    let out = sandbox
        .runtime(&[
            "exec",
            &bundle.id,
            "sh",
            "-c",
            "tr '\\0' ' ' < /proc/1/cmdline; echo; hostname",
        ])
        .expect_ok();
    assert_eq!(out.stdout, "sleep 1000 \nberth\n", "{out}");
}

#[test]
fn exec_passes_the_exit_code_through() {
    let sandbox = Sandbox::new("exec-code");
    let bundle = running(&sandbox);
    let out = sandbox.runtime(&["exec", &bundle.id, "sh", "-c", "echo out; exit 3"]);
    assert_eq!(out.code, Some(3), "{out}");
    assert_eq!(out.stdout, "out\n", "{out}");
    assert_eq!(
        sandbox.status(&bundle.id),
        "running",
        "exec must not end the container"
    );
}

#[test]
fn exec_with_a_process_file_uses_its_args_env_cwd_and_user() {
    let sandbox = Sandbox::new("exec-process");
    let bundle = running(&sandbox);
    let process = json!({
        "terminal": false,
        "user": { "uid": 65534, "gid": 65534 },
        "args": ["sh", "-c", "echo $FROM; pwd; id -u"],
        "env": [spec::PATH_ENV, "FROM=process-file"],
        "cwd": "/tmp"
    });
    let file = sandbox.path().join("process.json");
    fs::write(&file, process.to_string()).unwrap();
    let out = sandbox
        .runtime(&["exec", "--process", path_str(&file), &bundle.id])
        .expect_ok();
    assert_eq!(out.stdout, "process-file\n/tmp\n65534\n", "{out}");
}

#[test]
fn exec_into_an_unknown_container_fails() {
    let sandbox = Sandbox::new("exec-unknown");
    let out = sandbox
        .runtime(&["exec", "no-such-container", "true"])
        .expect_failure();
    assert!(!out.stderr.is_empty(), "{out}");
}
