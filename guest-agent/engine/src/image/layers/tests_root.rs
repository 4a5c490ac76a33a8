//! LayerStore tests (root: unpacking sets owners and creates overlayfs whiteout devices).

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Barrier};

use super::test_images::{hello, image, layer_tar, store};
use super::{LayerStore, LayersError};
use crate::image::layer::Limits;
use crate::image::store::blobs::digest_of;

/// (inode, mtime ns) of a layer's record: a re-unpack writes a new file.
fn stamp(layers: &LayerStore, diff_dir: &Path) -> (u64, i64) {
    let meta = fs::metadata(diff_dir.with_file_name("layer.json")).unwrap();
    assert!(diff_dir.starts_with(layers.dir()));
    (meta.ino(), meta.mtime_nsec())
}

fn tmp_is_empty(layers: &LayerStore) -> bool {
    fs::read_dir(layers.dir().join(".tmp"))
        .unwrap()
        .next()
        .is_none()
}

#[test]
fn hello_layer_is_unpacked_with_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let hello = hello(dir.path(), &store);
    let layers = LayerStore::open(store.root()).unwrap();
    let diffs = layers.ensure(&store, &hello).unwrap();
    assert_eq!(diffs.len(), 1);
    let busybox = fs::metadata(diffs[0].join("bin/busybox")).unwrap();
    assert!(busybox.is_file() && busybox.permissions().mode() & 0o111 != 0);
    assert!(diffs[0].join("var/www/index.html").is_file());

    // A bottom layer's chain id is its diff_id, and names its directory.
    let diff_id = store.layers(&hello).unwrap()[0].1.clone();
    assert_eq!(diffs[0], layers.dir().join(diff_id.digest()).join("diff"));
    let record = layers.get(&diff_id).unwrap().unwrap();
    assert_eq!(record.diff_id, diff_id);
    assert_eq!(record.parent, None);
    assert!(record.size > 1_000_000, "{record:?}");
    assert!(record.disk_size >= busybox.len(), "{record:?}");
    assert_eq!(layers.disk_usage().unwrap(), record.disk_size);
    assert!(tmp_is_empty(&layers));
}

#[test]
fn a_shared_base_layer_is_unpacked_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let base = layer_tar(&[("etc/os-release", b"base\n")]);
    let a = image(
        &store,
        dir.path(),
        "test/a",
        &[base.clone(), layer_tar(&[("a", b"a")])],
    );
    let b = image(
        &store,
        dir.path(),
        "test/b",
        &[base, layer_tar(&[("b", b"b")])],
    );
    let layers = LayerStore::open(store.root()).unwrap();

    let diffs_a = layers.ensure(&store, &a).unwrap();
    let before = stamp(&layers, &diffs_a[1]);
    let diffs_b = layers.ensure(&store, &b).unwrap();
    // Top-most first: the images differ on top and share the bottom directory.
    assert_ne!(diffs_a[0], diffs_b[0]);
    assert_eq!(diffs_a[1], diffs_b[1]);
    assert_eq!(stamp(&layers, &diffs_b[1]), before);
    assert!(diffs_b[0].join("b").is_file() && !diffs_b[0].join("a").exists());
    assert_eq!(layers.list().unwrap().len(), 3);

    // The upper layer's record names its parent; ensuring again changes nothing.
    let ids_b = LayerStore::image_chain_ids(&store, &b).unwrap();
    assert_eq!(diffs_b[0], layers.diff_dir(&ids_b[1]));
    let top_b = layers.get(&ids_b[1]).unwrap().unwrap();
    assert_eq!(top_b.parent.as_ref(), Some(&ids_b[0]));
    let again = stamp(&layers, &diffs_b[0]);
    assert_eq!(layers.ensure(&store, &b).unwrap(), diffs_b);
    assert_eq!(stamp(&layers, &diffs_b[0]), again);
}

#[test]
fn concurrent_ensures_of_one_image_agree() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store(dir.path()));
    let files: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| (format!("d/f{i}"), vec![b'x'; 4096]))
        .collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
    let img = image(
        &store,
        dir.path(),
        "test/big",
        &[layer_tar(&refs), layer_tar(&[("top", b"t")])],
    );
    let layers = Arc::new(LayerStore::open(store.root()).unwrap());
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (store, layers, img, barrier) =
                (store.clone(), layers.clone(), img.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                layers.ensure(&store, &img).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.iter().all(|r| *r == results[0]));
    assert_eq!(fs::read_dir(results[0][1].join("d")).unwrap().count(), 200);
    assert_eq!(fs::read(results[0][0].join("top")).unwrap(), b"t");
    assert_eq!(layers.list().unwrap().len(), 2);
    assert!(tmp_is_empty(&layers));
}

#[test]
fn a_tampered_blob_leaves_no_layer_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let img = image(
        &store,
        dir.path(),
        "test/tampered",
        &[layer_tar(&[("a", b"a")]), layer_tar(&[("b", b"b")])],
    );
    // Swap the top layer's blob for another valid layer: only the diff_id can tell.
    let (top, top_diff) = store.layers(&img).unwrap()[1].clone();
    let blob = store.blobs().path(top.digest()).unwrap();
    fs::set_permissions(&blob, fs::Permissions::from_mode(0o644)).unwrap();
    let evil = layer_tar(&[("b", b"evil")]);
    fs::write(&blob, crate::image::import::fixture::gzip(&evil)).unwrap();

    let layers = LayerStore::open(store.root()).unwrap();
    let err = layers.ensure(&store, &img).unwrap_err();
    assert!(matches!(err, LayersError::Unpack { .. }), "{err:?}");
    let chain = LayerStore::image_chain_ids(&store, &img).unwrap();
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        source.contains(&top_diff.to_string()) && source.contains(&digest_of(&evil).to_string()),
        "{source}"
    );
    assert!(!layers.dir().join(chain[1].digest()).exists());
    // The good bottom layer stays: it is complete and verified on its own.
    assert!(layers.get(&chain[0]).unwrap().is_some());
    assert!(tmp_is_empty(&layers));
}

#[test]
fn a_layer_over_the_size_cap_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let img = image(
        &store,
        dir.path(),
        "test/bomb",
        &[layer_tar(&[("zeros", &[0u8; 1 << 20])])],
    );
    let limits = Limits {
        max_uncompressed: 64 * 1024,
        ..Limits::default()
    };
    let layers = LayerStore::open_with(store.root(), limits).unwrap();
    let err = layers.ensure(&store, &img).unwrap_err();
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("size cap of 65536"), "{source}");
    assert!(layers.list().unwrap().is_empty());
    assert!(tmp_is_empty(&layers));
}

#[test]
fn an_image_without_layers_needs_no_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let img = image(&store, dir.path(), "test/empty", &[]);
    let layers = LayerStore::open(store.root()).unwrap();
    assert!(layers.ensure(&store, &img).unwrap().is_empty());
    assert!(layers.list().unwrap().is_empty());
}

#[test]
fn whiteouts_are_kept_as_overlay_devices() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let img = image(
        &store,
        dir.path(),
        "test/wh",
        &[layer_tar(&[("a", b"a")]), layer_tar(&[(".wh.a", b"")])],
    );
    let layers = LayerStore::open(store.root()).unwrap();
    let diffs = layers.ensure(&store, &img).unwrap();
    let wh = fs::symlink_metadata(diffs[0].join("a")).unwrap();
    assert!(wh.file_type().is_char_device() && wh.rdev() == 0, "{wh:?}");
    assert_eq!(fs::read(diffs[1].join("a")).unwrap(), b"a");
}

#[test]
fn remove_unused_keeps_layers_in_use_and_their_parents() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let base = layer_tar(&[("base", b"base")]);
    let a = image(
        &store,
        dir.path(),
        "test/a",
        &[base.clone(), layer_tar(&[("a", b"a")])],
    );
    let b = image(
        &store,
        dir.path(),
        "test/b",
        &[base, layer_tar(&[("b", b"b")])],
    );
    let layers = LayerStore::open(store.root()).unwrap();
    layers.ensure(&store, &a).unwrap();
    layers.ensure(&store, &b).unwrap();
    let (ids_a, ids_b) = (
        LayerStore::image_chain_ids(&store, &a).unwrap(),
        LayerStore::image_chain_ids(&store, &b).unwrap(),
    );
    let before = layers.disk_usage().unwrap();

    // Only a's top layer is named: its base must survive with it.
    let removed = layers.remove_unused(&[ids_a[1].clone()]).unwrap();
    assert_eq!(removed, [ids_b[1].clone()]);
    assert!(!layers.dir().join(ids_b[1].digest()).exists());
    assert!(!layers.dir().join(".locks").join(ids_b[1].digest()).exists());
    assert!(layers.diff_dir(&ids_a[0]).join("base").is_file());
    assert!(layers.disk_usage().unwrap() < before);
    assert!(tmp_is_empty(&layers));

    // b comes back by unpacking only its top layer again; then nothing is in use.
    layers.ensure(&store, &b).unwrap();
    assert_eq!(layers.remove_unused(&[]).unwrap().len(), 3);
    assert_eq!(layers.disk_usage().unwrap(), 0);
}

#[test]
fn leftovers_of_a_killed_unpack_are_cleared_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let layers = LayerStore::open(store.root()).unwrap();
    let partial = layers.dir().join(".tmp").join("abc-123/diff/etc");
    fs::create_dir_all(&partial).unwrap();
    drop(layers);
    let layers = LayerStore::open(store.root()).unwrap();
    assert!(tmp_is_empty(&layers));
}
