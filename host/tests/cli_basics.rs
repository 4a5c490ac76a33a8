//! The `berth` CLI without a VM: help, completions, settings, and the errors a user sees
//! when Berth is not running.

#![cfg(unix)]

use std::process::{Command, Output, Stdio};

fn berth(home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .env("BERTH_HOME", home)
        .stdin(Stdio::null())
        .output()
        .expect("run berth")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_and_completions_generate() {
    let home = tempfile::tempdir().unwrap();
    let help = stdout(&berth(home.path(), &["--help"]));
    for verb in [
        "start", "stop", "status", "logs", "shell", "vm", "context", "doctor",
    ] {
        assert!(help.contains(verb), "{verb} missing from --help:\n{help}");
    }
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = berth(home.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert!(stdout(&out).contains("berth"), "{shell}");
    }
}

#[test]
fn config_round_trips_through_the_settings_file() {
    let home = tempfile::tempdir().unwrap();
    let out = berth(home.path(), &["config", "set", "cpus", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&berth(home.path(), &["config", "get", "cpus"])),
        "3\n"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&berth(home.path(), &["config", "--json"]).stdout).unwrap();
    assert_eq!(json["cpus"], 3);
    assert_eq!(json["memory_mib"], 2048);
    let file = std::fs::read_to_string(home.path().join("settings.json")).unwrap();
    assert!(file.contains("\"cpus\": 3"), "{file}");
    let out = berth(home.path(), &["config", "set", "cpus", "lots"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Invalid value for cpus"),
        "{}",
        stderr(&out)
    );
    let out = berth(home.path(), &["config", "get", "colour"]);
    assert!(stderr(&out).contains("Unknown setting"), "{}", stderr(&out));
    let out = berth(home.path(), &["config", "set", "disk_size_gib", "10"]);
    assert!(stdout(&out).contains("berth reset"), "{}", stdout(&out));
}

#[test]
fn without_a_daemon_the_errors_say_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let out = berth(home.path(), &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("Berth is not running: run `berth start`"));
    let json: serde_json::Value =
        serde_json::from_slice(&berth(home.path(), &["status", "--json"]).stdout).unwrap();
    assert_eq!(json["phase"], "not-running");
    for args in [&["vm", "--", "true"][..], &["events"]] {
        let out = berth(home.path(), args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains("Berth is not running: run `berth start`"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // A stop with nothing running is fine.
    let out = berth(home.path(), &["stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Reset refuses to delete without a terminal to confirm on, unless told --yes.
    let out = berth(home.path(), &["reset"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    std::fs::write(home.path().join("data.img"), b"disk").unwrap();
    let out = berth(home.path(), &["reset", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!home.path().join("data.img").exists());
    let out = berth(home.path(), &["context", "--print"]);
    assert_eq!(
        stdout(&out),
        format!(
            "DOCKER_HOST=unix://{}/run/docker.sock\n",
            home.path().display()
        )
    );
}
