//! `docker push` through Berth's API to Debian's docker-registry on loopback: the image
//! arrives whole (skopeo inspects it), a second push finds every layer there, a push to
//! another repository of the same registry mounts the layers, and auth is honoured.
//! Needs root (the engine), the docker CLI, docker-registry and skopeo.

mod common;

use std::process::Command;

use common::daemon::Daemon;
use common::registry::{host_arch, Registry, RegistryOptions};

#[test]
fn root_push_then_push_again_and_mount() {
    let registry = Registry::start(RegistryOptions::default());
    let daemon = Daemon::start();
    let image = format!("{}/x:1", registry.addr);
    daemon.ok(&["tag", "berth/hello", &image]);
    let out = daemon.ok(&["push", &image]);
    assert!(
        out.contains(&format!(
            "The push refers to repository [{}/x]",
            registry.addr
        )),
        "{out}"
    );
    assert!(out.contains("Pushed"), "{out}");
    let manifest = registry.raw_manifest("x:1");
    let digest_line = out
        .lines()
        .find(|l| l.starts_with("1: digest: sha256:"))
        .unwrap_or_else(|| panic!("no digest line: {out}"));
    let layers = manifest["layers"].as_array().unwrap();
    assert!(!layers.is_empty(), "{manifest}");
    assert_eq!(registry.tags("x"), ["1"]);

    // Everything is there already.
    let again = daemon.ok(&["push", &image]);
    assert!(again.contains("Layer already exists"), "{again}");
    assert!(!again.contains("Pushed"), "{again}");
    assert!(again.contains(digest_line), "{again}\n{digest_line}");

    // Another repository of the same registry: the layers are mounted, not uploaded.
    let other = format!("{}/y/z:2", registry.addr);
    daemon.ok(&["tag", "berth/hello", &other]);
    let out = daemon.ok(&["push", &other]);
    assert!(out.contains("Mounted from x"), "{out}");
    assert_eq!(registry.raw_manifest("y/z:2")["layers"], manifest["layers"]);

    // `--all-tags`: every local tag of the repository.
    daemon.ok(&["tag", "berth/hello", &format!("{}/x:2", registry.addr)]);
    let repository = format!("{}/x", registry.addr);
    let out = daemon.ok(&["push", "--all-tags", &repository]);
    assert!(out.contains("1: digest: sha256:"), "{out}");
    assert!(out.contains("2: digest: sha256:"), "{out}");
    let mut tags = registry.tags("x");
    tags.sort();
    assert_eq!(tags, ["1", "2"]);
    daemon.ok(&["rmi", &format!("{repository}:2")]);

    // What was pushed pulls back and runs.
    daemon.ok(&["rmi", &image, &other]);
    daemon.ok(&["pull", &image]);
    assert_eq!(
        daemon.ok(&["run", "--rm", &image, "echo", "hi"]).trim(),
        "hi"
    );
}

#[test]
fn root_push_with_auth_and_unknown_image() {
    let registry = Registry::start(RegistryOptions {
        auth: Some(("berth".to_string(), "s3cret".to_string())),
        tls: false,
    });
    let daemon = Daemon::start();
    let image = format!("{}/private/hello:1", registry.addr);
    daemon.ok(&["tag", "berth/hello", &image]);

    let refused = daemon.docker(&["push", &image]);
    assert!(!refused.status.success(), "{refused:?}");

    daemon.ok(&[
        "login",
        "--username",
        "berth",
        "--password",
        "s3cret",
        &registry.addr,
    ]);
    let out = daemon.ok(&["push", &image]);
    assert!(out.contains("1: digest: sha256:"), "{out}");
    assert_eq!(registry.tags("private/hello"), ["1"]);

    daemon.fails(
        &["push", &format!("{}/nothing:here", registry.addr)],
        "does not exist locally",
    );
}

#[test]
fn root_push_large_layers_over_tls_with_auth() {
    // Layers over the 4 MiB upload chunk, pulled from one registry, pushed to another
    // (TLS, htpasswd), where nothing can be mounted.
    let source = Registry::start(RegistryOptions::default());
    let digest = source.seed_layers("multi:1", 2, 9 * 1024 * 1024 + 123);
    let target = Registry::start(RegistryOptions {
        auth: Some(("berth".to_string(), "s3cret".to_string())),
        tls: true,
    });
    let daemon = Daemon::start();
    let pulled = format!("{}/multi:1", source.addr);
    daemon.ok(&["pull", &pulled]);
    let image = format!("{}/big/multi:7", target.addr);
    daemon.ok(&["tag", &pulled, &image]);
    daemon.ok(&[
        "login",
        "--username",
        "berth",
        "--password",
        "s3cret",
        &target.addr,
    ]);
    let out = daemon.ok(&["push", &image]);
    assert!(out.contains(&format!("7: digest: {digest} size:")), "{out}");
    assert!(!out.contains("Mounted from"), "{out}");
    assert_eq!(
        target.raw_manifest("big/multi:7")["layers"],
        source.raw_manifest("multi:1")["layers"]
    );

    // The blobs arrived intact: skopeo copies the image out, verifying every digest.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .args(target.skopeo_flags("src"))
        .arg(target.url("big/multi:7"))
        .arg(format!("oci:{}:x", dir.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// An image pulled from a multi-platform index: with only the host's platform here, that
/// manifest goes (and the output says so); with every platform here (the other one
/// pulled with `--platform`), the index and both manifests go, and the registry gets the
/// same index digest.
#[test]
fn root_push_of_a_multiarch_image() {
    let source = Registry::start(RegistryOptions::default());
    let index_digest = source.seed_multiarch("multi/arch:1");
    let target = Registry::start(RegistryOptions::default());
    let daemon = Daemon::start();
    let pulled = format!("{}/multi/arch:1", source.addr);
    daemon.ok(&["pull", &pulled]);

    let single = format!("{}/single/arch:1", target.addr);
    daemon.ok(&["tag", &pulled, &single]);
    let out = daemon.ok(&["push", &single]);
    assert!(
        out.contains("Not all multiplatform-content is present"),
        "{out}"
    );
    let manifest = target.raw_manifest("single/arch:1");
    assert!(manifest["layers"].is_array(), "{manifest}");
    let host_entry = source.raw_manifest("multi/arch:1")["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["architecture"] == host_arch())
        .unwrap()
        .clone();
    assert!(
        out.contains(&format!(
            "1: digest: {} size:",
            host_entry["digest"].as_str().unwrap()
        )),
        "{out}"
    );

    // The other platform too, then the host's again (the name goes back to the index).
    let other = if host_arch() == "amd64" {
        "arm64"
    } else {
        "amd64"
    };
    daemon.ok(&["pull", "--platform", &format!("linux/{other}"), &pulled]);
    daemon.ok(&["pull", &pulled]);
    let whole = format!("{}/whole/arch:1", target.addr);
    daemon.ok(&["tag", &pulled, &whole]);
    let out = daemon.ok(&["push", &whole]);
    assert!(!out.contains("Not all multiplatform-content"), "{out}");
    assert!(
        out.contains(&format!("1: digest: {index_digest} size:")),
        "{out}"
    );
    let index = target.raw_manifest("whole/arch:1");
    assert_eq!(
        index["manifests"],
        source.raw_manifest("multi/arch:1")["manifests"]
    );
    // Every platform arrived whole: skopeo copies them all out, verifying each digest.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--all"])
        .args(target.skopeo_flags("src"))
        .arg(target.url("whole/arch:1"))
        .arg(format!("oci:{}:x", dir.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}
