//! The container core endpoints through the real docker CLI: create, run -d, ps and its
//! filters, inspect, the lifecycle verbs, rm, rename, wait, `run --rm`, restart policies,
//! limits, top, prune and bad input. Needs root (containers really run).

mod common;

use std::time::{Duration, Instant};

use common::daemon::Daemon;

/// Polls `docker args` until its trimmed output is `want`.
fn eventually(daemon: &Daemon, args: &[&str], want: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = daemon.docker(args);
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if text == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "docker {args:?}: wanted {want:?}, still {text:?} ({out:?})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn run_detached_then_ps_with_filters_and_formats() {
    let daemon = Daemon::start();
    let web = daemon.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--label",
        "app=web",
        "berth/hello",
        "sleep",
        "100",
    ]);
    assert_eq!(web.trim().len(), 64, "{web}");
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "job",
        "berth/hello",
        "sh",
        "-c",
        "exit 3",
    ]);
    assert_eq!(daemon.ok(&["wait", "job"]).trim(), "3");
    daemon.ok(&["create", "--name", "idle", "berth/hello"]);

    assert_eq!(daemon.ok(&["ps", "-q"]).trim(), &web.trim()[..12]);
    let running = daemon.ok(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(running.trim().starts_with("web Up "), "{running}");
    let all = daemon.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    let lines = sorted_lines(&all);
    assert_eq!(lines.len(), 3, "{all}");
    assert_eq!(lines[0], "idle Created");
    assert!(lines[1].starts_with("job Exited (3) "), "{all}");
    assert!(lines[1].ends_with(" ago"), "{all}");
    let exited = daemon.ok(&[
        "ps",
        "-a",
        "--filter",
        "status=exited",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(exited.trim(), "job");
    let named = daemon.ok(&["ps", "-a", "--filter", "name=we", "--format", "{{.Names}}"]);
    assert_eq!(named.trim(), "web");
    let labelled = daemon.ok(&[
        "ps",
        "-a",
        "--filter",
        "label=app=web",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(labelled.trim(), "web");
    let code = daemon.ok(&["ps", "-a", "--filter", "exited=3", "--format", "{{.Names}}"]);
    assert_eq!(code.trim(), "job");
    let ancestor = daemon.ok(&["ps", "-aq", "--filter", "ancestor=berth/hello"]);
    assert_eq!(ancestor.lines().count(), 3, "{ancestor}");
    let last = daemon.ok(&[
        "ps",
        "-n",
        "1",
        "--no-trunc",
        "--format",
        "{{.Names}} {{.Command}}",
    ]);
    assert_eq!(last.trim(), "idle \"httpd -f -v -p 80 -h /var/www\"");
    daemon.fails(
        &["ps", "--filter", "status=sleepy"],
        "invalid filter 'status=sleepy'",
    );
    daemon.fails(&["ps", "--filter", "colour=red"], "invalid filter 'colour'");
}

#[test]
fn inspect_shows_the_request_merged_with_the_image() {
    let daemon = Daemon::start();
    let env_file = daemon.config.join("env.list");
    std::fs::write(&env_file, "FROM_FILE=yes\n# a comment\n").unwrap();
    daemon.ok(&[
        "create",
        "--name",
        "c1",
        "--memory",
        "64m",
        "--cpus",
        "1.5",
        "--pids-limit",
        "50",
        "--restart",
        "on-failure:2",
        "-e",
        "A=1",
        "--env-file",
        env_file.to_str().unwrap(),
        "-w",
        "/tmp",
        "-u",
        "1000:1000",
        "--hostname",
        "box",
        "--label",
        "x=y",
        "--entrypoint",
        "sh",
        "-p",
        "127.0.0.1:8080:80",
        "--stop-signal",
        "SIGINT",
        "berth/hello",
        "-c",
        "sleep 100",
    ]);
    let format = "{{.Name}}|{{.State.Status}}|{{.State.StartedAt}}|{{.Path}}|{{json .Args}}|\
                  {{.HostConfig.Memory}}|{{.HostConfig.NanoCpus}}|{{.HostConfig.PidsLimit}}|\
                  {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}|\
                  {{.Config.WorkingDir}}|{{.Config.User}}|{{.Config.Hostname}}|\
                  {{index .Config.Labels \"x\"}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|\
                  {{.Config.Image}}|{{.Config.StopSignal}}|{{.Driver}}|{{.Platform}}";
    let out = daemon.ok(&["inspect", "-f", format, "c1"]);
    assert_eq!(
        out.trim(),
        "/c1|created|0001-01-01T00:00:00Z|sh|[\"-c\",\"sleep 100\"]|67108864|1500000000|50|\
         on-failure:2|/tmp|1000:1000|box|y|[\"sh\"]|[\"-c\",\"sleep 100\"]|berth/hello|SIGINT|\
         overlay2|linux"
    );
    let env = daemon.ok(&["inspect", "-f", "{{json .Config.Env}}", "c1"]);
    for want in ["PATH=/usr/local/sbin", "A=1", "FROM_FILE=yes"] {
        assert!(env.contains(want), "{want} not in {env}");
    }
    let ports = daemon.ok(&["inspect", "-f", "{{json .HostConfig.PortBindings}}", "c1"]);
    assert_eq!(
        ports.trim(),
        r#"{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]}"#
    );
    let exposed = daemon.ok(&["inspect", "-f", "{{json .Config.ExposedPorts}}", "c1"]);
    assert_eq!(exposed.trim(), r#"{"80/tcp":{}}"#);
    let paths = daemon.ok(&["inspect", "-f", "{{.LogPath}} {{.HostsPath}}", "c1"]);
    assert!(
        paths.contains("-json.log ") && paths.trim().ends_with("/hosts"),
        "{paths}"
    );

    daemon.ok(&["start", "c1"]);
    let state = daemon.ok(&[
        "inspect",
        "-f",
        "{{.State.Running}} {{.State.Pid}} {{.RestartCount}}",
        "c1",
    ]);
    let fields: Vec<&str> = state.split_whitespace().collect();
    assert_eq!(fields[0], "true", "{state}");
    assert!(fields[1].parse::<i64>().unwrap() > 0, "{state}");
    assert_eq!(fields[2], "0");
    let whoami = daemon.ok(&["top", "c1"]);
    assert!(whoami.contains("sleep 100"), "{whoami}");
    assert!(whoami.starts_with("PID"), "{whoami}");
}

#[test]
fn lifecycle_verbs_stop_start_restart_kill_pause_rename_rm() {
    let daemon = Daemon::start();
    let status = |name: &str| {
        daemon
            .ok(&["inspect", "-f", "{{.State.Status}}", name])
            .trim()
            .to_string()
    };
    daemon.ok(&["create", "--name", "life", "berth/hello", "sleep", "100"]);
    assert_eq!(status("life"), "created");
    daemon.ok(&["start", "life"]);
    assert_eq!(status("life"), "running");
    // Starting a running container is no error (304).
    daemon.ok(&["start", "life"]);
    daemon.ok(&["stop", "-t", "1", "life"]);
    assert_eq!(status("life"), "exited");
    daemon.ok(&["stop", "life"]);
    daemon.ok(&["restart", "-t", "1", "life"]);
    assert_eq!(status("life"), "running");
    daemon.ok(&["pause", "life"]);
    assert_eq!(status("life"), "paused");
    let paused = daemon.ok(&["ps", "--format", "{{.Status}}"]);
    assert!(paused.trim().ends_with("(Paused)"), "{paused}");
    daemon.ok(&["unpause", "life"]);
    daemon.ok(&["rename", "life", "renamed"]);
    daemon.fails(&["inspect", "life"], "No such object: life");
    daemon.fails(
        &["rm", "renamed"],
        "cannot remove container \"/renamed\": container is running: stop the container before removing or force remove",
    );
    daemon.ok(&["kill", "renamed"]);
    assert_eq!(daemon.ok(&["wait", "renamed"]).trim(), "137");
    daemon.ok(&["start", "renamed"]);
    daemon.ok(&["rm", "-f", "-v", "renamed"]);
    assert_eq!(daemon.ok(&["ps", "-aq"]).trim(), "");
    daemon.fails(&["stop", "nothing"], "No such container: nothing");
    daemon.fails(&["rm", "nothing"], "No such container: nothing");
}

#[test]
fn wait_run_rm_and_restart_policies() {
    let daemon = Daemon::start();
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "seven",
        "berth/hello",
        "sh",
        "-c",
        "sleep 0.3; exit 7",
    ]);
    assert_eq!(daemon.ok(&["wait", "seven"]).trim(), "7");
    // A created container is not running: wait answers at once.
    daemon.ok(&["create", "--name", "fresh", "berth/hello", "true"]);
    assert_eq!(daemon.ok(&["wait", "fresh"]).trim(), "0");

    // --rm: gone once it ends, with its code reported by wait.
    daemon.ok(&[
        "run",
        "-d",
        "--rm",
        "--name",
        "temp",
        "berth/hello",
        "sh",
        "-c",
        "sleep 0.5; exit 4",
    ]);
    let (status, body) = daemon.http("POST", "/v1.50/containers/temp/wait?condition=removed", b"");
    assert_eq!(status, 200);
    // Chunked: the headers went out before the container ended.
    assert!(body.contains(r#"{"Error":null,"StatusCode":4}"#), "{body}");
    eventually(&daemon, &["ps", "-aq", "--filter", "name=temp"], "");

    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "again",
        "--restart",
        "always",
        "berth/hello",
        "sh",
        "-c",
        "sleep 0.2; exit 1",
    ]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let count = daemon.ok(&["inspect", "-f", "{{.RestartCount}}", "again"]);
        if count.trim().parse::<u32>().unwrap() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no restarts: {count}");
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon.ok(&["stop", "-t", "1", "again"]);
    daemon.fails(
        &["run", "-d", "--restart", "sometimes", "berth/hello"],
        "invalid restart policy",
    );
}

/// `docker run` in the foreground attaches to the container's output (streams are another
/// module's): the run itself must report the exit code and `--rm` leave nothing.
#[test]
fn run_in_the_foreground_prints_and_exits_with_the_code() {
    let daemon = Daemon::start();
    let hi = daemon.ok(&["run", "berth/hello", "echo", "hi"]);
    assert_eq!(hi, "hi\n");
    let out = daemon.docker(&["run", "--rm", "berth/hello", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}\n{}", daemon.log());
    eventually(&daemon, &["ps", "-aq", "--filter", "exited=3"], "");
}

#[test]
fn top_prune_and_init() {
    let daemon = Daemon::start();
    daemon.ok(&["run", "-d", "--name", "keep", "berth/hello", "sleep", "100"]);
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "done1",
        "--label",
        "drop=1",
        "berth/hello",
        "true",
    ]);
    daemon.ok(&["run", "-d", "--name", "done2", "berth/hello", "true"]);
    daemon.ok(&["wait", "done1", "done2"]);
    daemon.fails(&["top", "done1"], "is not running");
    let pruned = daemon.ok(&["container", "prune", "-f", "--filter", "label=drop=1"]);
    assert!(pruned.contains("Deleted Containers:"), "{pruned}");
    let left = daemon.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert_eq!(sorted_lines(&left), ["done2", "keep"]);
    daemon.ok(&["container", "prune", "-f"]);
    assert_eq!(
        daemon.ok(&["ps", "-a", "--format", "{{.Names}}"]).trim(),
        "keep"
    );

    // --init: tini runs as pid 1 with the command under it.
    daemon.ok(&[
        "run",
        "-d",
        "--init",
        "--name",
        "tini",
        "berth/hello",
        "sleep",
        "100",
    ]);
    let init = daemon.ok(&["inspect", "-f", "{{.HostConfig.Init}}", "tini"]);
    assert_eq!(init.trim(), "true");
    let top = daemon.ok(&["top", "tini"]);
    assert!(top.contains("/sbin/docker-init -- sleep 100"), "{top}");
}

#[test]
fn bad_input_is_refused_with_docker_messages() {
    let daemon = Daemon::start();
    let (status, body) = daemon.http("GET", "/v1.50/containers/nope/json", b"");
    assert_eq!(
        (status, body.trim()),
        (404, r#"{"message":"No such container: nope"}"#)
    );
    let (status, body) = daemon.http("POST", "/v1.50/containers/create", br#"{"Image": "nope"}"#);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("No such image: nope"), "{body}");
    let (status, body) = daemon.http("POST", "/v1.50/containers/create", b"{oops");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid JSON"), "{body}");
    let big = vec![b' '; 5 << 20];
    let (status, _) = daemon.http("POST", "/v1.50/containers/create", &big);
    assert_eq!(status, 413);
    let policy = br#"{"Image":"berth/hello","HostConfig":{"RestartPolicy":{"Name":"bogus"}}}"#;
    let (status, body) = daemon.http("POST", "/v1.50/containers/create", policy);
    assert_eq!(status, 400);
    assert!(
        body.contains("invalid restart policy: unknown policy 'bogus'"),
        "{body}"
    );
    let (status, body) = daemon.http(
        "POST",
        "/v1.50/containers/create?name=a/b",
        br#"{"Image":"berth/hello"}"#,
    );
    assert_eq!(status, 400, "{body}");
    daemon.ok(&["create", "--name", "taken", "berth/hello"]);
    daemon.fails(
        &["create", "--name", "taken", "berth/hello"],
        "Conflict. The container name \"/taken\" is already in use",
    );
    let (status, body) = daemon.http("POST", "/v1.50/containers/taken/wait?condition=later", b"");
    assert_eq!(status, 400, "{body}");
}

/// `-v /data`: a fresh anonymous volume per container, kept across restarts of the
/// container, labelled anonymous, and removed by `rm -v`.
#[test]
fn anonymous_volumes_live_and_die_with_their_container() {
    let daemon = Daemon::start();
    let before = daemon.ok(&["volume", "ls", "-q"]);
    daemon.ok(&[
        "run",
        "--name",
        "anon",
        "-v",
        "/data",
        "berth/hello",
        "sh",
        "-c",
        "echo kept > /data/file",
    ]);
    let mounts = daemon.ok(&[
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}",
        "anon",
    ]);
    let fields: Vec<&str> = mounts.split_whitespace().collect();
    assert_eq!((fields[0], fields[2]), ("volume", "/data"), "{mounts}");
    let name = fields[1].to_string();
    let label = daemon.ok(&["volume", "inspect", "-f", "{{json .Labels}}", &name]);
    assert!(label.contains("com.docker.volume.anonymous"), "{label}");
    // The same volume on the next start: what the container wrote is still there.
    daemon.ok(&["start", "anon"]);
    daemon.ok(&["wait", "anon"]);
    daemon.ok(&["start", "-a", "anon"]);
    let out = daemon.ok(&[
        "run",
        "--rm",
        "-v",
        &format!("{name}:/v"),
        "berth/hello",
        "cat",
        "/v/file",
    ]);
    assert_eq!(out, "kept\n");
    daemon.ok(&["rm", "-v", "anon"]);
    assert_eq!(
        daemon.ok(&["volume", "ls", "-q"]),
        before,
        "the anonymous volume was not removed"
    );
}

/// Published ports come from the engine's networking: `docker port` reads inspect's
/// `NetworkSettings.Ports`, `ps` its `Ports`.
#[test]
fn published_ports_show_in_port_ps_and_inspect() {
    let daemon = Daemon::start();
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "www",
        "-p",
        "127.0.0.1::80",
        "berth/hello",
    ]);
    let port = daemon.ok(&["port", "www", "80"]);
    let host_port = port
        .trim()
        .strip_prefix("127.0.0.1:")
        .unwrap_or_else(|| panic!("{port}"));
    assert!(host_port.parse::<u16>().unwrap() > 0, "{port}");
    let ps = daemon.ok(&["ps", "--format", "{{.Ports}}"]);
    assert_eq!(ps.trim(), format!("127.0.0.1:{host_port}->80/tcp"));
    let ip = daemon.ok(&[
        "inspect",
        "-f",
        "{{.NetworkSettings.Networks.bridge.IPAddress}}",
        "www",
    ]);
    assert!(ip.trim().parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
}
