//! Blob store and image table tests (no root needed).

use std::fs;

use oci_spec::image::{Descriptor, Digest, MediaType};

use super::blobs::digest_of;
use super::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn desc(media_type: MediaType, bytes: &[u8]) -> Descriptor {
    Descriptor::new(media_type, bytes.len() as u64, digest_of(bytes))
}

fn tmp_is_empty(store: &Store) -> bool {
    fs::read_dir(store.blobs().tmp_dir()).unwrap().count() == 0
}

#[test]
fn put_open_size_remove() {
    let (_dir, store) = store();
    let blobs = store.blobs();
    let data = b"layer bytes";
    let d = desc(MediaType::ImageLayer, data);
    assert!(!blobs.has(d.digest()));
    assert!(blobs.put(&data[..], &d).unwrap());
    assert!(!blobs.put(&data[..], &d).unwrap(), "second put is not new");
    assert!(blobs.has(d.digest()));
    assert_eq!(blobs.size(d.digest()).unwrap(), data.len() as u64);
    assert_eq!(fs::read(blobs.path(d.digest()).unwrap()).unwrap(), data);
    let mut back = Vec::new();
    std::io::Read::read_to_end(&mut blobs.open(d.digest()).unwrap(), &mut back).unwrap();
    assert_eq!(back, data);
    assert!(blobs.remove(d.digest()).unwrap());
    assert!(!blobs.remove(d.digest()).unwrap());
    assert!(matches!(
        blobs.open(d.digest()),
        Err(BlobError::NotFound { .. })
    ));
    assert!(tmp_is_empty(&store));
}

#[test]
fn put_refuses_wrong_digest_size_and_oversize() {
    let (_dir, store) = store();
    let blobs = store.blobs();
    let good = desc(MediaType::ImageLayer, b"expected");
    let err = blobs.put(&b"tampered"[..], &good).unwrap_err();
    assert!(matches!(err, BlobError::DigestMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains(&good.digest().to_string()),
        "{err}"
    );
    assert!(!blobs.has(good.digest()));

    let mut short = good.clone();
    short.set_size(3);
    let err = blobs.put(&b"expected"[..], &short).unwrap_err();
    assert!(matches!(err, BlobError::StreamTooLarge { .. }), "{err}");

    let mut long = good.clone();
    long.set_size(100);
    let err = blobs.put(&b"expected"[..], &long).unwrap_err();
    assert!(matches!(
        err,
        BlobError::DigestMismatch { .. } | BlobError::SizeMismatch { .. }
    ));

    let big = vec![b' '; (media::JSON_CAP + 1) as usize];
    let err = blobs
        .put(&big[..], &desc(MediaType::ImageManifest, &big))
        .unwrap_err();
    assert!(matches!(err, BlobError::TooLarge { .. }), "{err}");
    assert_eq!(
        fs::read_dir(store.root().join("blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
    assert!(tmp_is_empty(&store), "temporary files are cleaned up");

    let sha512 = format!("sha512:{}", "a".repeat(128));
    let d = Descriptor::new(MediaType::ImageLayer, 1, Digest::try_from(sha512).unwrap());
    assert!(matches!(
        blobs.put(&b"x"[..], &d),
        Err(BlobError::Algorithm { .. })
    ));
}

#[test]
fn layer_cap_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(dir.path(), StoreOptions { layer_cap: 4 }).unwrap();
    let d = desc(MediaType::ImageLayerGzip, b"12345");
    let err = store.blobs().put(&b"12345"[..], &d).unwrap_err();
    assert!(matches!(err, BlobError::TooLarge { cap: 4, .. }), "{err}");
}

fn record(config_hex: &str, target_hex: &str, names: &[&str]) -> ImageRecord {
    let digest = |h: &str| Digest::try_from(format!("sha256:{h}")).unwrap();
    let target = Descriptor::new(MediaType::ImageManifest, 10, digest(target_hex));
    ImageRecord {
        manifest: target.clone(),
        target,
        config: digest(config_hex),
        names: names.iter().map(|n| n.to_string()).collect(),
    }
}

fn hex(prefix: &str, fill: char) -> String {
    format!("{prefix}{}", fill.to_string().repeat(64 - prefix.len()))
}

#[test]
fn resolve_by_name_short_name_id_and_prefix() {
    let (dir, store) = store();
    let busybox = record(
        &hex("abc1", '0'),
        &hex("", '1'),
        &["docker.io/library/busybox:latest"],
    );
    let app = record(&hex("abc2", '0'), &hex("", '2'), &["ghcr.io/o/app:1"]);
    let dangling = record(&hex("def", '0'), &hex("", '3'), &[]);
    store
        .add_images(vec![busybox.clone(), app.clone(), dangling.clone()])
        .unwrap();

    let id = |s: &str| store.resolve(s).unwrap().config;
    assert_eq!(id("busybox"), busybox.config);
    assert_eq!(id("busybox:latest"), busybox.config);
    assert_eq!(id("docker.io/library/busybox:latest"), busybox.config);
    assert_eq!(id("ghcr.io/o/app:1"), app.config);
    assert_eq!(id(busybox.config.as_ref()), busybox.config);
    assert_eq!(id(&hex("abc1", '0')), busybox.config);
    assert_eq!(id("abc2"), app.config);
    assert_eq!(id("sha256:de"), dangling.config);
    assert_eq!(
        id(&format!("busybox@{}", busybox.target.digest())),
        busybox.config
    );
    assert_eq!(id(app.target.digest().as_ref()), app.config);

    let err = store.resolve("abc").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Resolve(ResolveError::Ambiguous { count: 2, .. })
        ),
        "{err}"
    );
    for missing in ["alpine", "busybox:1", "fff", "ghcr.io/o/app"] {
        let err = store.resolve(missing).unwrap_err();
        assert_eq!(err.to_string(), format!("No such image: {missing}"));
    }
    assert!(matches!(
        store.resolve("Busybox"),
        Err(StoreError::Resolve(ResolveError::Reference(_)))
    ));

    // The table survives reopening the store.
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.images().unwrap().len(), 3);
    assert_eq!(store.resolve("busybox").unwrap().config, busybox.config);
}

#[test]
fn tag_untag_and_remove() {
    let (_dir, store) = store();
    let a = record(
        &hex("a", '0'),
        &hex("", '1'),
        &["docker.io/library/a:latest"],
    );
    let b = record(
        &hex("b", '0'),
        &hex("", '2'),
        &["docker.io/library/b:latest"],
    );
    store.add_images(vec![a.clone(), b.clone()]).unwrap();

    assert_eq!(
        store.tag("a", "me/copy:v1").unwrap(),
        "docker.io/me/copy:v1"
    );
    assert_eq!(store.resolve("me/copy:v1").unwrap().config, a.config);
    // Tagging b with a's name moves the name; a keeps its other name.
    store.tag("b", "a").unwrap();
    assert_eq!(store.resolve("a").unwrap().config, b.config);
    assert_eq!(store.resolve("me/copy:v1").unwrap().config, a.config);

    assert!(matches!(
        store.tag("a", "bad:tag!"),
        Err(StoreError::Reference(_))
    ));
    let digest_ref = format!("x@{}", a.target.digest());
    assert!(matches!(
        store.tag("a", &digest_ref),
        Err(StoreError::TagWithDigest { .. })
    ));
    assert!(matches!(
        store.tag("nope", "x"),
        Err(StoreError::Resolve(_))
    ));

    let left = store.untag("me/copy:v1").unwrap();
    assert!(left.names.is_empty(), "a is now dangling");
    assert!(store.resolve("me/copy:v1").is_err());
    assert_eq!(store.resolve(a.config.as_ref()).unwrap().config, a.config);
    assert!(matches!(
        store.untag("me/copy:v1"),
        Err(StoreError::NoSuchName { .. })
    ));

    store.remove_image(a.config.as_ref()).unwrap();
    assert_eq!(store.images().unwrap().len(), 1);
}
