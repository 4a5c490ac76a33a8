//! The API server's image endpoints through the real docker CLI (root: the daemon runs
//! containers): what a user sees from `docker images`, `inspect`, `history`, `tag`, `rmi`,
//! `image prune`, `save`, `load` and `pull`.

mod common;

use std::path::Path;

use common::daemon::Daemon;

/// The files of the store's blob directory (temporary ones excluded).
fn blobs(daemon: &Daemon) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(daemon.agent.root.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    out.sort();
    out
}

/// Now, as `docker events --since` takes it.
fn now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

fn in_a_second() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (now.as_secs() + 1).to_string()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[test]
fn root_images_lists_with_filters_quiet_and_format() {
    let daemon = Daemon::start();
    let table = daemon.ok(&["images"]);
    assert!(table.starts_with("REPOSITORY"), "{table}");
    assert!(
        table.contains("berth/hello") && table.contains("latest"),
        "{table}"
    );
    let format = ["--format", "{{.Repository}}:{{.Tag}} {{.ID}}"];
    let out = daemon.ok(&["images", format[0], format[1]]);
    let id = daemon.ok(&["images", "-q"]);
    assert_eq!(id.trim().len(), 12, "{id}");
    assert_eq!(out.trim(), format!("berth/hello:latest {}", id.trim()));
    for (filter, shown) in [
        ("reference=berth/*", true),
        ("reference=berth/hello:latest", true),
        ("reference=other/*", false),
        ("dangling=true", false),
        ("dangling=false", true),
        ("label=org.opencontainers.image.title=berth/hello", true),
        ("label=nope", false),
        ("before=berth/hello", false),
    ] {
        let out = daemon.ok(&["images", "-q", "--filter", filter]);
        assert_eq!(!out.trim().is_empty(), shown, "--filter {filter}: {out}");
    }
    daemon.fails(&["images", "--filter", "colour=blue"], "invalid filter");
}

#[test]
fn root_inspect_and_history_read_the_image_config() {
    let daemon = Daemon::start();
    let out = daemon.ok(&[
        "image",
        "inspect",
        "-f",
        "{{.Config.Cmd}}|{{.Os}}|{{.RootFS.Type}}|{{len .RootFS.Layers}}|{{.Config.StopSignal}}|{{index .RepoTags 0}}",
        "berth/hello",
    ]);
    assert_eq!(
        out.trim(),
        "[httpd -f -v -p 80 -h /var/www]|linux|layers|1|SIGKILL|berth/hello:latest"
    );
    let size = daemon.ok(&["image", "inspect", "-f", "{{.Size}}", "berth/hello"]);
    assert!(size.trim().parse::<u64>().unwrap() > 1_000_000, "{size}");
    let history = daemon.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.ID}}|{{.CreatedBy}}",
        "berth/hello",
    ]);
    let rows = lines(&history);
    assert_eq!(rows.len(), 1, "{history}");
    assert!(rows[0].starts_with("sha256:"), "{history}");
    assert!(rows[0].contains("images/hello/build"), "{history}");
    daemon.fails(&["image", "inspect", "nothing/here"], "No such image");
    daemon.fails(&["history", "nothing/here"], "No such image");
}

#[test]
fn root_tag_then_rmi_untags_then_deletes() {
    let daemon = Daemon::start();
    let since = now();
    daemon.ok(&["tag", "berth/hello", "berth/copy:1"]);
    let names = daemon.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut names = lines(&names);
    names.sort();
    assert_eq!(names, ["berth/copy:1", "berth/hello:latest"]);
    // A reference the CLI lets through but the engine refuses: a clear 400.
    let (status, body) = daemon.http(
        "POST",
        "/v1.50/images/berth/hello/tag?repo=Berth/Upper&tag=1",
        b"",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("must be lowercase"), "{body}");
    let (status, _) = daemon.http(
        "POST",
        "/v1.50/images/berth/hello/tag?repo=berth/third",
        b"",
    );
    assert_eq!(status, 201);
    let out = daemon.ok(&["rmi", "berth/copy:1", "berth/third"]);
    assert_eq!(
        lines(&out),
        ["Untagged: berth/copy:1", "Untagged: berth/third:latest"]
    );
    let events = daemon.ok(&[
        "events",
        "--since",
        &since,
        // A moment ahead: the server ends the stream at `until`.
        "--until",
        &in_a_second(),
        "--filter",
        "type=image",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    assert_eq!(
        lines(&events),
        [
            "tag berth/copy:1",
            "tag berth/third:latest",
            "untag berth/copy:1",
            "untag berth/third:latest"
        ]
    );
    let out = daemon.ok(&["rmi", "berth/hello"]);
    assert!(out.contains("Untagged: berth/hello:latest"), "{out}");
    assert!(out.contains("Deleted: sha256:"), "{out}");
    assert_eq!(daemon.ok(&["images", "-q"]).trim(), "");
    assert!(blobs(&daemon).is_empty(), "{:?}", blobs(&daemon));
    daemon.fails(&["rmi", "berth/hello"], "No such image");
}

#[test]
fn root_rmi_of_an_image_in_use_is_refused() {
    let daemon = Daemon::start();
    let id = daemon.ok(&["create", "--name", "user", "berth/hello"]);
    let out = daemon.fails(
        &["rmi", "berth/hello"],
        "conflict: unable to remove repository reference \"berth/hello\" (must force) - container",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&id.trim()[..12]), "{stderr}");
    assert!(stderr.contains("is using its referenced image"), "{stderr}");
    assert!(daemon.ok(&["images", "-q"]).trim().len() == 12);
    daemon.ok(&["rm", "user"]);
    daemon.ok(&["rmi", "berth/hello"]);
}

#[test]
fn root_image_prune_removes_unused_images() {
    let daemon = Daemon::start();
    let out = daemon.ok(&["image", "prune", "-f"]);
    assert!(out.contains("Total reclaimed space: 0B"), "{out}");
    assert_eq!(daemon.ok(&["images", "-q"]).trim().len(), 12);
    let out = daemon.ok(&["image", "prune", "-a", "-f"]);
    assert!(out.contains("untagged: berth/hello:latest"), "{out}");
    assert!(out.contains("deleted: sha256:"), "{out}");
    assert!(!out.contains("Total reclaimed space: 0B"), "{out}");
    assert_eq!(daemon.ok(&["images", "-q"]).trim(), "");
}

#[test]
fn root_save_rmi_load_round_trips() {
    let daemon = Daemon::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("x.tar");
    let archive = archive.to_str().unwrap();
    let id = daemon.ok(&["images", "-q", "--no-trunc"]);
    daemon.ok(&["save", "-o", archive, "berth/hello"]);
    assert!(std::fs::metadata(archive).unwrap().len() > 1_000_000);
    daemon.ok(&["rmi", "berth/hello"]);
    assert_eq!(daemon.ok(&["images", "-q"]).trim(), "");
    let out = daemon.ok(&["load", "-i", archive]);
    assert_eq!(out.trim(), "Loaded image: berth/hello:latest");
    assert_eq!(daemon.ok(&["images", "-q", "--no-trunc"]), id);
    // The same through stdin, onto an image already there.
    let bytes = std::fs::read(archive).unwrap();
    let out = daemon.docker_with_stdin(&["load"], &bytes);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Loaded image: berth/hello:latest"
    );
    // A save to stdout is the same archive.
    let out = daemon.docker(&["save", "berth/hello"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, bytes);
    daemon.fails(&["save", "-o", archive, "nothing/here"], "No such image");
}

#[test]
fn root_loading_a_broken_archive_leaves_nothing() {
    let daemon = Daemon::start();
    let before = daemon.ok(&["images", "--no-trunc"]);
    let blobs_before = blobs(&daemon);
    daemon.ok(&["rmi", "berth/hello"]);
    let dir = tempfile::tempdir().unwrap();
    let hello = std::fs::read(common::hello_archive()).unwrap();
    let cases: [(&str, Vec<u8>); 2] = [
        ("truncated.tar", hello[..hello.len() / 2].to_vec()),
        (
            "garbage.tar",
            b"this is not an image archive at all".repeat(100),
        ),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        daemon.fails(
            &["load", "-i", path.to_str().unwrap()],
            "Cannot load the image archive",
        );
        assert_eq!(daemon.ok(&["images", "-q"]).trim(), "", "{name}");
        assert!(blobs(&daemon).is_empty(), "{name}: {:?}", blobs(&daemon));
    }
    daemon.ok(&["load", "-i", common::hello_archive().to_str().unwrap()]);
    assert_eq!(daemon.ok(&["images", "--no-trunc"]), before);
    assert_eq!(blobs(&daemon), blobs_before);
    assert!(Path::new(&daemon.agent.root).join("images.json").exists());
}

#[test]
fn root_search_is_not_there_and_a_missing_image_ends_on_a_clear_pull_error() {
    let daemon = Daemon::start();
    let (status, body) = daemon.http("GET", "/v1.50/images/search?term=x", b"");
    assert_eq!(status, 501, "{body}");
    // Nothing listens on port 1: the CLI's pull after the 404 fails clearly, and fast.
    let out = daemon.fails(
        &["run", "--rm", "127.0.0.1:1/nothing/here"],
        "Cannot reach the registry",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Unable to find image '127.0.0.1:1/nothing/here:latest' locally"),
        "{stderr}"
    );
    assert!(daemon.ok(&["ps", "-aq"]).trim().is_empty());
}
