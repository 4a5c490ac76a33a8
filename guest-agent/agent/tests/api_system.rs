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
