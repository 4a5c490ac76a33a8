//! The registry fixture on its own: each variant (plain, htpasswd auth, TLS, both) starts,
//! takes images from skopeo and lists their tags, and goes away on drop.

mod common;

use common::registry::{Registry, RegistryOptions};
use std::process::Command;

fn auth() -> Option<(String, String)> {
    Some(("berth".to_string(), "s3cret".to_string()))
}

fn seeds_and_lists(registry: &Registry) {
    let digest = registry.seed_hello("berth/hello:1");
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert_eq!(registry.tags("berth/hello"), ["1"]);
}

#[test]
fn registry_plain_takes_hello() {
    let registry = Registry::start(RegistryOptions::default());
    seeds_and_lists(&registry);
    let dir = registry.dir().to_path_buf();
    drop(registry);
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn registry_auth_refuses_wrong_password() {
    let registry = Registry::start(RegistryOptions {
        auth: auth(),
        tls: false,
    });
    seeds_and_lists(&registry);
    let out = Command::new("skopeo")
        .args(["list-tags", "--tls-verify=false", "--creds=berth:wrong"])
        .arg(registry.url("berth/hello"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("401") || stderr.contains("unauthorized"),
        "{stderr}"
    );
}

#[test]
fn registry_tls_verifies_with_its_ca() {
    let registry = Registry::start(RegistryOptions {
        auth: None,
        tls: true,
    });
    assert!(registry.ca.as_ref().unwrap().is_file());
    seeds_and_lists(&registry);
    // Without the CA the certificate is not trusted.
    let out = Command::new("skopeo")
        .arg("list-tags")
        .arg(registry.url("berth/hello"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
}

#[test]
fn registry_tls_and_auth_take_layers_and_multiarch() {
    let registry = Registry::start(RegistryOptions {
        auth: auth(),
        tls: true,
    });
    let digest = registry.seed_layers("multi:1", 3, 64 * 1024);
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert_eq!(registry.tags("multi"), ["1"]);
    // busybox, then one layer a file.
    assert_eq!(
        registry.raw_manifest("multi:1")["layers"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let index = registry.seed_multiarch("multiarch:1");
    assert_eq!(registry.tags("multiarch"), ["1"]);
    let json = registry.raw_manifest("multiarch:1");
    assert_eq!(
        json["mediaType"], "application/vnd.oci.image.index.v1+json",
        "{json}"
    );
    let platforms: Vec<_> = json["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"].clone())
        .collect();
    assert_eq!(
        platforms,
        [
            serde_json::json!({"architecture": "amd64", "os": "linux"}),
            serde_json::json!({"architecture": "arm64", "os": "linux", "variant": "v8"}),
        ],
        "{index}: {json}"
    );
}
