//! Root tests of image garbage collection through the engine: `rmi` collects what only
//! the removed image needed, `prune_images` removes dangling images, and nothing a
//! container's image needs is ever collected.

use std::collections::BTreeSet;

use super::tests_fixture::{sh, Fixture};
use super::{Engine, ImageDeleted};
use crate::image::layers::test_images::{image, layer_tar, store};
use crate::image::layers::LayerStore;
use crate::image::store::{ImageRecord, Store};

/// The hex names under `blobs/sha256`.
fn blobs(f: &Fixture) -> BTreeSet<String> {
    std::fs::read_dir(f.root().join("blobs/sha256"))
        .unwrap()
        .map(|e| format!("sha256:{}", e.unwrap().file_name().to_str().unwrap()))
        .collect()
}

fn layers(engine: &Engine) -> BTreeSet<String> {
    let list = engine.layers().list().unwrap();
    list.into_iter().map(|r| r.chain_id.to_string()).collect()
}

/// Every blob digest the record reaches (one platform manifest: target = manifest).
fn blobs_of(store: &Store, record: &ImageRecord) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = store
        .layers(record)
        .unwrap()
        .into_iter()
        .map(|(d, _)| d.digest().to_string())
        .collect();
    out.insert(record.target.digest().to_string());
    out.insert(record.manifest.digest().to_string());
    out.insert(record.config.to_string());
    out
}

fn chains_of(store: &Store, record: &ImageRecord) -> BTreeSet<String> {
    let chain = LayerStore::image_chain_ids(store, record).unwrap();
    chain.into_iter().map(|c| c.to_string()).collect()
}

#[test]
fn root_rmi_collects_what_only_the_removed_image_needed() {
    let f = Fixture::new();
    let base = layer_tar(&[("base.txt", b"shared base layer")]);
    let setup = store(f.dir.path());
    let a = image(
        &setup,
        f.dir.path(),
        "gc/a",
        &[base.clone(), layer_tar(&[("a", b"a")])],
    );
    let b = image(
        &setup,
        f.dir.path(),
        "gc/b",
        &[base, layer_tar(&[("b", b"b")])],
    );
    let hello = setup.resolve("berth/hello").unwrap();
    let engine = f.open(None);
    for record in [&a, &b, &hello] {
        engine.layers().ensure(engine.images(), record).unwrap();
    }
    let (a_blobs, b_blobs) = (blobs_of(&setup, &a), blobs_of(&setup, &b));
    let (a_chains, b_chains) = (chains_of(&setup, &a), chains_of(&setup, &b));
    let hello_blobs = blobs_of(&setup, &hello);
    let hello_chains = chains_of(&setup, &hello);
    assert_eq!(a_blobs.intersection(&b_blobs).count(), 1, "the base layer");
    assert_eq!(
        a_chains.intersection(&b_chains).count(),
        1,
        "the base layer"
    );

    let done = engine.remove_image("gc/a", false).unwrap();
    assert!(
        matches!(done.last(), Some(ImageDeleted::Deleted(_))),
        "{done:?}"
    );
    let want: BTreeSet<String> = b_blobs.union(&hello_blobs).cloned().collect();
    assert_eq!(blobs(&f), want, "a's own blobs go, the shared base stays");
    let want: BTreeSet<String> = b_chains.union(&hello_chains).cloned().collect();
    assert_eq!(
        layers(&engine),
        want,
        "a's own layer goes, the shared base stays"
    );

    engine.remove_image("gc/b", false).unwrap();
    assert_eq!(blobs(&f), hello_blobs);
    assert_eq!(layers(&engine), hello_chains);
    engine.remove_image("berth/hello", false).unwrap();
    assert!(blobs(&f).is_empty(), "{:?}", blobs(&f));
    assert!(layers(&engine).is_empty(), "{:?}", layers(&engine));
    assert_eq!(engine.layers().disk_usage().unwrap(), 0);
}

#[test]
fn root_nothing_a_containers_image_needs_is_collected() {
    let f = Fixture::new();
    let setup = store(f.dir.path());
    let old = image(&setup, f.dir.path(), "gc/d", &[layer_tar(&[("v", b"1")])]);
    let new = image(&setup, f.dir.path(), "gc/d", &[layer_tar(&[("v", b"2")])]);
    let hello = setup.resolve("berth/hello").unwrap();
    let hello_blobs = blobs_of(&setup, &hello);
    let engine = f.open(None);
    engine.create(Some("user"), sh("sleep 100")).unwrap();
    engine.start("user").unwrap();
    let hello_chains = chains_of(&setup, &hello);
    assert_eq!(layers(&engine), hello_chains);

    // Dangling `old` goes; tagged `new` and the used berth/hello stay.
    let pruned = engine.prune_images(false).unwrap();
    assert_eq!(
        pruned.deleted,
        [ImageDeleted::Deleted(old.config.to_string())]
    );
    assert!(pruned.collected.bytes_freed > 0, "{pruned:?}");
    let want: BTreeSet<String> = hello_blobs
        .union(&blobs_of(&setup, &new))
        .cloned()
        .collect();
    assert_eq!(blobs(&f), want);

    // `all`: every image no container uses.
    let pruned = engine.prune_images(true).unwrap();
    assert_eq!(pruned.deleted.len(), 2, "{pruned:?}"); // untagged gc/d, deleted
    assert_eq!(blobs(&f), hello_blobs);
    assert_eq!(layers(&engine), hello_chains);

    // Forced removal under a stopped container: the record goes, the config and the
    // layers the container stands on stay while the container exists.
    engine.stop("user", Some(1)).unwrap();
    engine.remove_image("berth/hello", true).unwrap();
    assert!(blobs(&f).contains(hello.config.as_ref()), "{:?}", blobs(&f));
    assert_eq!(layers(&engine), hello_chains);
    engine.remove("user", true, true).unwrap();
    let pruned = engine.prune_images(false).unwrap();
    assert!(pruned.deleted.is_empty() && !pruned.collected.layers_removed.is_empty());
    assert!(blobs(&f).is_empty(), "{:?}", blobs(&f));
    assert!(layers(&engine).is_empty());
}
