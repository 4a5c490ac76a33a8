//! `list`, `ps` and the refusal of `--systemd-cgroup`.

use serde_json::Value;

use crate::common::{Bundle, Sandbox};

fn started(sandbox: &Sandbox, name: &str) -> Bundle {
    let mut bundle = sandbox.bundle(name);
    bundle.args(&["sleep", "1000"]);
    sandbox.create(&bundle).expect_ok();
    sandbox.runtime(&["start", &bundle.id]).expect_ok();
    bundle
}

#[test]
fn list_shows_every_container_with_its_status() {
    let sandbox = Sandbox::new("list");
    let running = started(&sandbox, "running");
    let mut created = sandbox.bundle("created");
    created.args(&["sleep", "1000"]);
    sandbox.create(&created).expect_ok();

    let table = sandbox.runtime(&["list"]).expect_ok();
    let header = table.stdout.lines().next().unwrap_or_default();
    assert!(
        header.contains("PID") && header.contains("STATUS"),
        "{table}"
    );
    for (id, status) in [(&running.id, "running"), (&created.id, "created")] {
        let row = table
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id));
        let row = row.unwrap_or_else(|| panic!("{id} not listed\n{table}"));
        assert!(row.split_whitespace().any(|w| w == status), "{row}");
    }

    let json = sandbox.runtime(&["list", "--format", "json"]).expect_ok();
    let list: Vec<Value> = serde_json::from_str(&json.stdout).expect("list JSON");
    let mut seen: Vec<(String, String)> = list
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().into(),
                c["status"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    seen.sort();
    let mut want = vec![
        (created.id.clone(), "created".to_owned()),
        (running.id.clone(), "running".to_owned()),
    ];
    want.sort();
    assert_eq!(seen, want, "{json}");
}

#[test]
fn ps_lists_the_containers_processes() {
    let sandbox = Sandbox::new("ps");
    let bundle = started(&sandbox, "c");
    let pid = sandbox.state(&bundle.id).expect("state")["pid"]
        .as_i64()
        .expect("pid");

    let json = sandbox
        .runtime(&["ps", "--format", "json", &bundle.id])
        .expect_ok();
    let pids: Vec<i64> = serde_json::from_str(&json.stdout).expect("ps JSON");
    assert_eq!(pids, [pid], "{json}");

    // runc prints `ps -ef` rows, crun only pids: both have a PID column.
    let table = sandbox.runtime(&["ps", &bundle.id]).expect_ok();
    assert!(
        table
            .stdout
            .lines()
            .next()
            .is_some_and(|h| h.contains("PID")),
        "{table}"
    );
    let pid = pid.to_string();
    let row = table
        .stdout
        .lines()
        .skip(1)
        .find(|l| l.split_whitespace().any(|w| w == pid));
    assert!(row.is_some(), "pid {pid} missing\n{table}");
}

#[test]
fn systemd_cgroup_is_refused_with_a_clear_error() {
    let sandbox = Sandbox::new("systemd");
    let mut bundle = sandbox.bundle("c");
    bundle.args(&["true"]);
    bundle.write();
    let dir = bundle.dir.to_str().unwrap();
    let out = sandbox
        .runtime(&["--systemd-cgroup", "run", "--bundle", dir, &bundle.id])
        .expect_failure();
    // runc names systemd; crun says it "cannot open sd-bus".
    let err = out.stderr.to_lowercase();
    assert!(err.contains("systemd") || err.contains("sd-bus"), "{out}");
    let left = sandbox.runtime(&["state", &bundle.id]);
    assert!(!left.ok() || left.stdout.contains("stopped"), "{left}");
}
