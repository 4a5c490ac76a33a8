//! Import tests: OCI layouts built in Rust (directory and tar), multi-platform indexes,
//! hostile and broken inputs.

use std::fs;

use oci_spec::image::{Descriptor, MediaType, PlatformBuilder};

use super::fixture::*;
use super::*;
use crate::image::store::blobs::digest_of;
use crate::image::store::{ContentError, StoreOptions};

#[test]
fn imports_layout_directory_with_layers_and_diff_ids() {
    let (dir, store) = store();
    let layout = dir.path().join("layout");
    let built = write_layout(&layout, "1.0");
    let images = import_path(&store, &layout, &base("berth/test")).unwrap();
    assert_eq!(images.len(), 1);
    let image = &images[0];
    assert_eq!(image.names, ["docker.io/berth/test:1.0"]);
    assert_eq!(image.config, built.config);
    assert_eq!(image.target.digest(), built.manifest.digest());
    assert_eq!(blob_count(store.root()), 4);

    let found = store.resolve("berth/test:1.0").unwrap();
    let layers = store.layers(&found).unwrap();
    let expected: Vec<_> = built.layers.into_iter().zip(built.diff_ids).collect();
    assert_eq!(layers, expected);
    assert_eq!(layers[0].0.media_type(), &MediaType::ImageLayerGzip);
    let config = store.config(&found).unwrap();
    assert_eq!(
        config.config().as_ref().unwrap().cmd().as_ref().unwrap()[1],
        "one"
    );

    // Without a base name a bare tag cannot name the image: it is imported by ID only.
    let (_d2, other) = self::store();
    let images = import_path(&other, &layout, &ImportOptions::default()).unwrap();
    assert!(images[0].names.is_empty());
    assert_eq!(
        other.resolve(built.config.as_ref()).unwrap().config,
        built.config
    );
}

#[test]
fn imports_layout_tar_compressed_or_not() {
    let (dir, store) = store();
    let layout = dir.path().join("layout");
    let built = write_image(&layout, "two", "amd64");
    let name = [("io.containerd.image.name", "docker.io/library/two:latest")];
    write_index(&layout, &[(built.manifest.clone(), &name)]);
    let tar = tar_dir(&layout);
    let images = import_bytes(&store, &tar).unwrap();
    assert_eq!(images[0].names, ["docker.io/library/two:latest"]);
    assert_eq!(store.resolve("two").unwrap().config, built.config);
    // A second import of the same image (gzip'd as a whole) adds nothing and keeps names.
    let images = import_bytes(&store, &gzip(&tar)).unwrap();
    assert_eq!(images[0].names, ["docker.io/library/two:latest"]);
    assert_eq!(store.images().unwrap().len(), 1);
}

#[test]
fn tampered_blob_fails_naming_the_digest_and_leaves_nothing() {
    let (dir, store) = store();
    let layout = dir.path().join("layout");
    let built = write_layout(&layout, "1");
    let layer = built.layers[1].digest().clone();
    let path = layout.join("blobs/sha256").join(layer.digest());
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&path, &bytes).unwrap();

    let err = import_path(&store, &layout, &base("x")).unwrap_err();
    assert!(err.to_string().contains(&layer.to_string()), "{err}");
    assert_untouched(&store);

    let err = import_bytes(&store, &tar_dir(&layout)).unwrap_err();
    assert!(err.to_string().contains(&layer.to_string()), "{err}");
    assert_untouched(&store);

    // A blob that was already in the store stays after a failed import.
    let first = &built.layers[0];
    let first_bytes = fs::read(layout.join("blobs/sha256").join(first.digest().digest())).unwrap();
    assert!(store.blobs().put(&first_bytes[..], first).unwrap());
    import_path(&store, &layout, &base("x")).unwrap_err();
    assert!(store.blobs().has(first.digest()));
    assert_eq!(blob_count(store.root()), 1);
    assert!(store.images().unwrap().is_empty());
}

#[test]
fn hostile_entry_names_are_refused() {
    let (_dir, store) = store();
    for name in ["../evil", "blobs/../../evil", "/etc/evil"] {
        let tar = raw_tar(&[("oci-layout", b"{}"), (name, b"x")]);
        let err = import_bytes(&store, &tar).unwrap_err();
        assert!(
            matches!(
                err,
                ImportError::Archive(ArchiveError::Staging(StagingError::Name(_)))
            ),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "{err}");
        assert_untouched(&store);
    }
    // manifest.json naming a layer outside the archive.
    let manifest = br#"[{"Config":"c.json","RepoTags":[],"Layers":["../../etc/passwd"]}]"#;
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let tar = raw_tar(&[("manifest.json", manifest), ("c.json", config)]);
    let err = import_bytes(&store, &tar).unwrap_err();
    assert!(err.to_string().contains("'..'"), "{err}");
    assert_untouched(&store);
}

#[test]
fn symlinks_out_of_a_layout_directory_are_refused() {
    let (dir, store) = store();
    let layout = dir.path().join("layout");
    let built = write_layout(&layout, "1");
    let target = layout.join("blobs/sha256").join(built.config.digest());
    fs::remove_file(&target).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &target).unwrap();
    let err = import_path(&store, &layout, &base("x")).unwrap_err();
    assert!(err.to_string().contains(built.config.digest()), "{err}");
    assert_untouched(&store);
}

#[test]
fn oversized_manifest_is_refused() {
    let (dir, store) = store();
    let layout = dir.path().join("layout");
    let mut json = br#"{"schemaVersion":2,"annotations":{"pad":""#.to_vec();
    json.resize(json.len() + 4 * 1024 * 1024, b'a');
    json.extend_from_slice(br#""}}"#);
    let big = write_blob(&layout, MediaType::ImageManifest, &json);
    write_index(&layout, &[(big.clone(), &[])]);
    let err = import_path(&store, &layout, &ImportOptions::default()).unwrap_err();
    assert!(
        matches!(err, ImportError::Layout(LayoutError::TooLarge { .. })),
        "{err}"
    );
    assert!(err.to_string().contains(&big.digest().to_string()), "{err}");
    assert_untouched(&store);

    // index.json itself is capped too.
    fs::write(layout.join("index.json"), &json).unwrap();
    let err = import_path(&store, &layout, &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("index.json"), "{err}");
}

#[test]
fn missing_blob_and_malformed_json_are_clear_errors() {
    let (dir, store) = store();
    let layout = dir.path().join("layout");
    let built = write_layout(&layout, "1");
    fs::remove_file(
        layout
            .join("blobs/sha256")
            .join(built.layers[0].digest().digest()),
    )
    .unwrap();
    let err = import_path(&store, &layout, &ImportOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Blob {} (layer) is missing from the image",
            built.layers[0].digest()
        )
    );
    assert_untouched(&store);

    fs::write(
        layout.join("index.json"),
        b"{\"schemaVersion\": 2, \"manifests\": [",
    )
    .unwrap();
    let err = import_path(&store, &layout, &ImportOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::Layout(LayoutError::Content(ContentError::Json { .. }))
        ),
        "{err}"
    );
    assert_eq!(err.to_string(), "Malformed index.json");

    let err = import_bytes(&store, &raw_tar(&[("hello", b"x")])).unwrap_err();
    assert!(matches!(err, ImportError::Unrecognised), "{err}");
}

#[test]
fn layer_over_the_cap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { layer_cap: 16 };
    let store = Store::open_with(dir.path().join("store"), options).unwrap();
    let layout = dir.path().join("layout");
    write_layout(&layout, "1");
    let err = import_path(&store, &layout, &base("x")).unwrap_err();
    assert!(err.to_string().contains("16"), "{err}");
    assert_untouched(&store);
}

#[test]
fn multi_platform_index_imports_present_manifests_and_tags_the_index() {
    let (dir, store) = store();
    let layout = dir.path().join("layout");
    let host = crate::image::store::platform::host_arch().to_string();
    let native = write_image(&layout, "native", &host);
    let other = write_image(&layout, "other", "s390x");
    let with_platform = |d: &Descriptor, arch: &str| {
        let mut d = d.clone();
        let p = PlatformBuilder::default()
            .os("linux")
            .architecture(arch)
            .build();
        d.set_platform(Some(p.unwrap()));
        d
    };
    // A third platform is listed but absent, as in a docker save of one platform.
    let absent = Descriptor::new(MediaType::ImageManifest, 5, digest_of(b"absent"));
    let children = vec![
        with_platform(&other.manifest, "s390x"),
        with_platform(&absent, "arm64"),
        with_platform(&native.manifest, &host),
    ];
    let index = oci_spec::image::ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(children)
        .build()
        .unwrap();
    let index = write_blob(
        &layout,
        MediaType::ImageIndex,
        index.to_string().unwrap().as_bytes(),
    );
    write_index(
        &layout,
        &[(index.clone(), &[("io.containerd.image.name", "multi:1")])],
    );

    let images = import_path(&store, &layout, &ImportOptions::default()).unwrap();
    assert_eq!(images.len(), 1);
    let image = store.resolve("multi:1").unwrap();
    assert_eq!(image.target.digest(), index.digest());
    assert_eq!(image.manifest.digest(), native.manifest.digest());
    assert_eq!(image.config, native.config);
    assert!(store.blobs().has(other.manifest.digest()));
    assert!(store.blobs().has(&other.config));
    assert_eq!(store.layers(&image).unwrap().len(), 2);
}
