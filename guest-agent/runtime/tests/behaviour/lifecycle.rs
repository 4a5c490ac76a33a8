//! create / start / state / kill / delete, step by step.

use crate::common::host::{cgroup_dirs, process_exists, wait_until};
use crate::common::{Bundle, Sandbox};

/// A container whose process waits until it is killed.
fn sleeper(sandbox: &Sandbox, name: &str) -> Bundle {
    let mut bundle = sandbox.bundle(name);
    bundle.args(&["sleep", "1000"]);
    bundle
}

/// A container whose pid 1 prints `got TERM` and exits 0 on SIGTERM (pid 1
/// ignores signals it has no handler for).
fn term_catcher(sandbox: &Sandbox, name: &str) -> Bundle {
    let mut bundle = sandbox.bundle(name);
    bundle.sh("trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.1; done");
    bundle
}

#[test]
fn create_start_kill_delete_walk_through_the_states() {
    let sandbox = Sandbox::new("life-states");
    let bundle = sleeper(&sandbox, "c");
    let id = bundle.id.as_str();
    sandbox.create(&bundle).expect_ok();

    let state = sandbox
        .state(id)
        .unwrap_or_else(|o| panic!("state after create:\n{o}"));
    assert_eq!(state["status"], "created", "{state}");
    assert_eq!(state["id"], id, "{state}");
    let pid = state["pid"].as_i64().filter(|p| *p > 0);
    let pid = pid.unwrap_or_else(|| panic!("created container has no pid: {state}"));
    assert!(process_exists(pid), "pid {pid} from state is not running");
    assert!(
        !cgroup_dirs(&bundle.cgroups_path()).is_empty(),
        "create made no cgroup {}",
        bundle.cgroups_path()
    );

    sandbox.runtime(&["start", id]).expect_ok();
    assert_eq!(sandbox.status(id), "running");

    sandbox.runtime(&["kill", id, "KILL"]).expect_ok();
    sandbox.wait_status(id, "stopped");

    sandbox.runtime(&["delete", id]).expect_ok();
    let gone = sandbox.runtime(&["state", id]).expect_failure();
    assert!(
        !gone.stderr.is_empty(),
        "state of a deleted container must say why:\n{gone}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.state_root())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(id))
        .collect();
    assert!(leftovers.is_empty(), "state left behind: {leftovers:?}");
    assert_eq!(
        cgroup_dirs(&bundle.cgroups_path()),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn kill_accepts_a_signal_name_with_or_without_sig_and_a_number() {
    let sandbox = Sandbox::new("life-kill");
    for (name, signal) in [("short", "TERM"), ("long", "SIGTERM"), ("number", "15")] {
        let bundle = term_catcher(&sandbox, name);
        let created = sandbox.create(&bundle).expect_ok();
        sandbox.runtime(&["start", &bundle.id]).expect_ok();
        sandbox.wait_status(&bundle.id, "running");
        // Let the shell install its trap before the signal arrives.
        wait_until("the trap to be installed", || {
            created.stdout_now().contains("ready")
        });
        sandbox.runtime(&["kill", &bundle.id, signal]).expect_ok();
        sandbox.wait_status(&bundle.id, "stopped");
        assert_eq!(created.stdout_now(), "ready\ngot TERM\n", "kill {signal}");
    }
}

#[test]
fn delete_refuses_a_running_container_unless_forced() {
    let sandbox = Sandbox::new("life-delete");
    let bundle = sleeper(&sandbox, "c");
    sandbox.create(&bundle).expect_ok();
    sandbox.runtime(&["start", &bundle.id]).expect_ok();
    sandbox.runtime(&["delete", &bundle.id]).expect_failure();
    assert_eq!(
        sandbox.status(&bundle.id),
        "running",
        "a refused delete must not kill it"
    );
    sandbox
        .runtime(&["delete", "--force", &bundle.id])
        .expect_ok();
    sandbox.runtime(&["state", &bundle.id]).expect_failure();
}

#[test]
fn create_with_a_duplicate_id_fails_and_keeps_the_first_container() {
    let sandbox = Sandbox::new("life-dup");
    let first = sleeper(&sandbox, "first");
    let second = sleeper(&sandbox, "second");
    sandbox.create(&first).expect_ok();
    let out = sandbox.create_as(&second, &first.id, &[]).expect_failure();
    assert!(out.stderr.to_lowercase().contains("exist"), "{out}");
    assert_eq!(
        sandbox.status(&first.id),
        "created",
        "the first container was disturbed"
    );
    let state = sandbox
        .state(&first.id)
        .expect("state of the first container");
    assert!(
        state["bundle"]
            .as_str()
            .is_some_and(|b| b.ends_with("/first")),
        "the duplicate replaced the bundle: {state}"
    );
}

#[test]
fn start_of_an_unknown_id_fails_clearly() {
    let sandbox = Sandbox::new("life-unknown");
    let out = sandbox
        .runtime(&["start", "no-such-container"])
        .expect_failure();
    let err = out.stderr.to_lowercase();
    assert!(
        ["not exist", "not found", "no such"]
            .iter()
            .any(|w| err.contains(w)),
        "{out}"
    );
    assert!(!err.contains("panicked"), "{out}");
}
