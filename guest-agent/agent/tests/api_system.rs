//! The API server's system endpoints through the real docker CLI: version negotiation,
//! info, errors for unknown paths and versions, events.

mod common;

use common::daemon::Daemon;

#[test]
fn version_and_info_answer_the_cli() {
    let daemon = Daemon::start();
    let version = daemon.ok(&[
        "version",
        "--format",
        "{{.Server.APIVersion}} {{.Server.Os}}",
    ]);
    assert_eq!(version.trim(), "1.51 linux");
    let client = daemon.ok(&["version", "--format", "{{.Client.APIVersion}}"]);
    assert_eq!(
        client.trim(),
        "1.50",
        "the CLI negotiated down to its own version"
    );
    let info = daemon.ok(&["info", "--format", "{{.Images}} {{.Driver}} {{.OSType}}"]);
    assert_eq!(info.trim(), "1 overlay2 linux");
}

#[test]
fn unknown_paths_and_versions_are_clear_errors() {
    let daemon = Daemon::start();
    let (status, body) = daemon.http("GET", "/v1.50/nothing/here", b"");
    assert_eq!(status, 404);
    assert!(body.contains(r#""message":"page not found""#), "{body}");
    let (status, body) = daemon.http("GET", "/v1.12/info", b"");
    assert_eq!(status, 400);
    assert!(body.contains("too old"), "{body}");
    let (status, body) = daemon.http("GET", "/v9.99/info", b"");
    assert_eq!(status, 400);
    assert!(body.contains("too new"), "{body}");
    let (status, _) = daemon.http("HEAD", "/_ping", b"");
    assert_eq!(status, 200);
}

#[test]
fn events_stream_with_filters_and_a_time_window() {
    let daemon = Daemon::start();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let run = daemon.docker(&["run", "--name", "ev", "berth/hello", "sh", "-c", "exit 7"]);
    assert_eq!(run.status.code(), Some(7), "{run:?}");
    daemon.ok(&["volume", "create", "ev-vol"]);
    daemon.ok(&["rm", "ev"]);
    let until = (since.parse::<u64>().unwrap() + 60).to_string();
    let events =
        |filters: &[&str]| {
            let mut args =
                vec!["events", "--since", &since, "--until", &until, "--format",
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}"];
            args.extend_from_slice(filters);
            // --until in the future: the stream would wait for it; the past ones are enough.
            let mut child = daemon
                .command()
                .args(&args)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
    let all = events(&["--filter", "container=ev"]);
    // In the order they happened.
    let position = |wanted: &str| {
        all.lines()
            .position(|l| l.starts_with(wanted))
            .unwrap_or_else(|| panic!("missing {wanted:?} in:\n{all}"))
    };
    let order = [
        position("container create ev"),
        position("container start ev"),
        position("container die ev 7"),
        position("container destroy ev"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{all}");
    let dies = events(&["--filter", "event=die"]);
    assert_eq!(dies.trim(), "container die ev 7", "{dies}");
    let volumes = events(&["--filter", "type=volume"]);
    assert!(volumes.contains("volume create"), "{volumes}");
    assert!(!volumes.contains("container"), "{volumes}");
}

#[test]
fn system_prune_removes_what_nothing_uses() {
    let daemon = Daemon::start();
    daemon.ok(&["create", "--name", "idle", "berth/hello"]);
    daemon.ok(&["run", "-d", "--name", "busy", "berth/hello"]);
    daemon.ok(&["network", "create", "unused-net"]);
    let out = daemon.ok(&["system", "prune", "-f"]);
    assert!(out.contains("Total reclaimed space"), "{out}");
    let left = daemon.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert_eq!(
        left.trim(),
        "busy",
        "only the running container stays: {left}"
    );
    let networks = daemon.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("unused-net"), "{networks}");
    assert!(
        daemon.ok(&["images", "-q"]).trim().len() >= 12,
        "the image in use stays"
    );
    daemon.ok(&["rm", "-f", "busy"]);
}
