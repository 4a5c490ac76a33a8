//! The API server's volume endpoints and `system df` through the real docker CLI (root:
//! containers use the volumes): create, ls, inspect, rm (refused while in use), prune,
//! a named volume shared by two containers, and the disk usage report.

mod common;

use common::daemon::Daemon;

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[test]
fn root_volume_create_ls_inspect_rm() {
    let daemon = Daemon::start();
    assert_eq!(
        daemon
            .ok(&["volume", "create", "--label", "team=a", "myvol"])
            .trim(),
        "myvol"
    );
    daemon.ok(&["volume", "create", "other"]);
    let all = daemon.ok(&["volume", "ls", "-q"]);
    assert_eq!(lines(&all), ["myvol", "other"]);
    let labelled = daemon.ok(&["volume", "ls", "-q", "--filter", "label=team=a"]);
    assert_eq!(lines(&labelled), ["myvol"]);
    let named = daemon.ok(&["volume", "ls", "-q", "--filter", "name=oth"]);
    assert_eq!(lines(&named), ["other"]);
    let dangling = daemon.ok(&["volume", "ls", "-q", "--filter", "dangling=true"]);
    assert_eq!(lines(&dangling), ["myvol", "other"]);
    let out = daemon.ok(&[
        "volume",
        "inspect",
        "-f",
        "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels.team}} {{.Mountpoint}}",
        "myvol",
    ]);
    let mountpoint = daemon.agent.root.join("volumes/myvol/_data");
    assert_eq!(
        out.trim(),
        format!("myvol local local a {}", mountpoint.display())
    );
    assert!(mountpoint.is_dir());
    // Without a name, one is generated.
    let (status, body) = daemon.http("POST", "/v1.50/volumes/create", b"{}");
    assert_eq!(status, 201, "{body}");
    let unnamed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let unnamed = unnamed["Name"].as_str().unwrap();
    assert_eq!(unnamed.len(), 64, "{body}");
    daemon.ok(&["volume", "rm", unnamed]);
    daemon.fails(&["volume", "create", "-d", "nfs", "x1"], "not supported");
    daemon.fails(
        &["volume", "create", "-o", "type=tmpfs", "x2"],
        "not supported",
    );
    daemon.fails(&["volume", "create", "bad/name"], "Volume name");
    assert_eq!(daemon.ok(&["volume", "rm", "myvol"]).trim(), "myvol");
    daemon.fails(&["volume", "inspect", "myvol"], "no such volume");
    daemon.fails(&["volume", "rm", "myvol"], "no such volume");
    daemon.ok(&["volume", "rm", "-f", "myvol"]);
    assert!(!mountpoint.exists());
}

#[test]
fn root_volume_prune_keeps_named_volumes_unless_all() {
    let daemon = Daemon::start();
    daemon.ok(&["volume", "create", "named"]);
    daemon.ok(&["volume", "create", "--label", "keep=yes", "kept"]);
    // Unnamed, but not anonymous: docker's prune keeps it.
    let unnamed = daemon.ok(&["volume", "create"]);
    // Anonymous, labelled as docker and compose label them.
    let (status, body) = daemon.http(
        "POST",
        "/v1.50/volumes/create",
        br#"{"Labels":{"com.docker.volume.anonymous":""}}"#,
    );
    assert_eq!(status, 201, "{body}");
    let anonymous: serde_json::Value = serde_json::from_str(&body).unwrap();
    let anonymous = anonymous["Name"].as_str().unwrap().to_string();
    let out = daemon.ok(&["volume", "prune", "-f"]);
    assert!(
        out.contains("Deleted Volumes:") && out.contains(&anonymous),
        "{out}"
    );
    let mut expected = vec!["kept", "named", unnamed.trim()];
    expected.sort();
    assert_eq!(lines(&daemon.ok(&["volume", "ls", "-q"])), expected);
    daemon.ok(&["volume", "rm", unnamed.trim()]);
    let out = daemon.ok(&["volume", "prune", "-a", "-f", "--filter", "label!=keep"]);
    assert!(out.contains("named"), "{out}");
    assert_eq!(lines(&daemon.ok(&["volume", "ls", "-q"])), ["kept"]);
    daemon.ok(&["volume", "prune", "-a", "-f"]);
    assert_eq!(daemon.ok(&["volume", "ls", "-q"]).trim(), "");
}

#[test]
fn root_volume_in_use_is_not_removed_or_pruned() {
    let daemon = Daemon::start();
    daemon.ok(&["volume", "create", "busy"]);
    let id = daemon.ok(&["create", "-v", "busy:/data", "berth/hello"]);
    let id = id.trim();
    let out = daemon.fails(&["volume", "rm", "busy"], "volume is in use");
    assert!(String::from_utf8_lossy(&out.stderr).contains(id), "{out:?}");
    daemon.ok(&["volume", "prune", "-a", "-f"]);
    assert_eq!(lines(&daemon.ok(&["volume", "ls", "-q"])), ["busy"]);
    let dangling = daemon.ok(&["volume", "ls", "-q", "--filter", "dangling=true"]);
    assert_eq!(dangling.trim(), "");
    daemon.ok(&["rm", id]);
    daemon.ok(&["volume", "rm", "busy"]);
}

#[test]
fn root_named_volume_is_shared_between_containers() {
    let daemon = Daemon::start();
    daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "shared:/data",
        "berth/hello",
        "sh",
        "-c",
        "echo hello > /data/f",
    ]);
    let out = daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "shared:/data",
        "berth/hello",
        "cat",
        "/data/f",
    ]);
    assert_eq!(out.trim(), "hello");
    let content = daemon.agent.root.join("volumes/shared/_data/f");
    assert_eq!(std::fs::read_to_string(content).unwrap(), "hello\n");
}

#[test]
fn root_system_df_reports_images_containers_and_volumes() {
    let daemon = Daemon::start();
    daemon.ok(&["volume", "create", "data"]);
    std::fs::write(
        daemon.agent.root.join("volumes/data/_data/blob"),
        vec![7u8; 100_000],
    )
    .unwrap();
    daemon.ok(&["create", "--name", "c1", "-v", "data:/data", "berth/hello"]);
    let out = daemon.ok(&[
        "system",
        "df",
        "--format",
        "{{.Type}}|{{.TotalCount}}|{{.Active}}",
    ]);
    let rows = lines(&out);
    assert!(rows.contains(&"Images|1|1"), "{out}");
    assert!(rows.contains(&"Containers|1|0"), "{out}");
    assert!(rows.contains(&"Local Volumes|1|1"), "{out}");
    assert!(rows.iter().any(|r| r.starts_with("Build Cache|0")), "{out}");
    let verbose = daemon.ok(&["system", "df", "-v"]);
    assert!(verbose.contains("berth/hello"), "{verbose}");
    assert!(verbose.contains("c1"), "{verbose}");
    let volume_row = verbose
        .lines()
        .find(|l| l.starts_with("data "))
        .unwrap_or_else(|| panic!("{verbose}"));
    assert!(volume_row.contains("100kB"), "{volume_row}");
    let (status, body) = daemon.http("GET", "/v1.50/system/df?type=volume", b"");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["Volumes"][0]["UsageData"]["RefCount"], 1, "{body}");
    assert!(json["Images"].is_null(), "{body}");
}
