//! The volume store: create, ls, inspect, rm, prune, names, usage.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::os::unix::fs::symlink;

use super::{LabelFilter, VolumeError, VolumeStore, ANONYMOUS_LABEL};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn store() -> (tempfile::TempDir, VolumeStore) {
    let tmp = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(tmp.path()).unwrap();
    (tmp, store)
}

#[test]
fn create_inspect_and_create_again() {
    let (tmp, store) = store();
    let vol = store
        .create(Some("db-data"), "local", labels(&[("app", "web")]))
        .unwrap();
    assert_eq!(vol.name, "db-data");
    assert_eq!(vol.driver, "local");
    assert_eq!(vol.mountpoint, tmp.path().join("volumes/db-data/_data"));
    assert!(vol.mountpoint.is_dir());
    assert!(!vol.anonymous);
    assert_eq!(store.inspect("db-data").unwrap(), vol);
    // Creating an existing name returns it unchanged, as docker does.
    let again = store.create(Some("db-data"), "", BTreeMap::new()).unwrap();
    assert_eq!(again, vol);
    // It survives reopening the store.
    let reopened = VolumeStore::open(tmp.path()).unwrap();
    assert_eq!(reopened.inspect("db-data").unwrap(), vol);
}

#[test]
fn anonymous_volumes_get_a_random_name_and_the_label() {
    let (_tmp, store) = store();
    let a = store.create(None, "local", BTreeMap::new()).unwrap();
    let b = store.create(Some(""), "local", BTreeMap::new()).unwrap();
    assert!(a.anonymous && b.anonymous);
    assert_ne!(a.name, b.name);
    assert_eq!(a.name.len(), 64);
    assert!(a.name.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(a.labels.get(ANONYMOUS_LABEL).map(String::as_str), Some(""));
}

#[test]
fn bad_names_and_drivers_are_refused_and_create_nothing() {
    let (tmp, store) = store();
    for name in [
        "../escape",
        "a/b",
        "..",
        "/abs",
        "x",
        "-dash",
        "a..b",
        "sp ace",
    ] {
        let err = store
            .create(Some(name), "local", BTreeMap::new())
            .unwrap_err();
        assert!(
            matches!(err, VolumeError::InvalidName { .. }),
            "{name}: {err}"
        );
    }
    let err = store
        .create(Some("nfsvol"), "nfs", BTreeMap::new())
        .unwrap_err();
    assert!(matches!(err, VolumeError::UnsupportedDriver(_)), "{err}");
    assert!(err.to_string().contains("nfs"), "{err}");
    assert_eq!(fs::read_dir(tmp.path().join("volumes")).unwrap().count(), 0);
    assert!(!tmp.path().join("escape").exists());
    let err = store.inspect("../volumes").unwrap_err();
    assert!(matches!(err, VolumeError::NotFound(_)), "{err}");
}

#[test]
fn list_filters_by_label() {
    let (_tmp, store) = store();
    store
        .create(
            Some("web"),
            "local",
            labels(&[("tier", "front"), ("team", "a")]),
        )
        .unwrap();
    store
        .create(Some("db"), "local", labels(&[("tier", "back")]))
        .unwrap();
    store.create(None, "local", BTreeMap::new()).unwrap();
    let names = |filters: &[LabelFilter]| -> Vec<String> {
        store
            .list(filters)
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect()
    };
    assert_eq!(names(&[]).len(), 3);
    assert_eq!(names(&[LabelFilter::parse("tier")]), ["db", "web"]);
    assert_eq!(names(&[LabelFilter::parse("tier=back")]), ["db"]);
    assert_eq!(
        names(&[LabelFilter::parse("tier=front"), LabelFilter::parse("team")]),
        ["web"]
    );
    assert!(names(&[LabelFilter::parse("tier=none")]).is_empty());
}

#[test]
fn remove_refuses_a_volume_in_use() {
    let (tmp, store) = store();
    store
        .create(Some("busy"), "local", BTreeMap::new())
        .unwrap();
    let used: HashSet<String> = ["busy".to_string()].into();
    let in_use = |n: &str| used.contains(n);
    for force in [false, true] {
        let err = store.remove("busy", force, &in_use).unwrap_err();
        assert!(matches!(err, VolumeError::InUse { .. }), "{err}");
        assert!(err.to_string().contains("volume is in use"), "{err}");
    }
    assert!(store.inspect("busy").is_ok());
    store.remove("busy", false, &|_| false).unwrap();
    assert!(matches!(
        store.inspect("busy"),
        Err(VolumeError::NotFound(_))
    ));
    assert!(matches!(
        store.remove("busy", false, &|_| false),
        Err(VolumeError::NotFound(_))
    ));
    store.remove("busy", true, &|_| false).unwrap();
    // Nothing is left behind, not even the renamed-away directory.
    assert_eq!(fs::read_dir(tmp.path().join("volumes")).unwrap().count(), 0);
}

#[test]
fn prune_removes_unused_anonymous_volumes_unless_all() {
    let (_tmp, store) = store();
    let anon_used = store.create(None, "local", BTreeMap::new()).unwrap();
    let anon_free = store.create(None, "local", BTreeMap::new()).unwrap();
    store
        .create(Some("named"), "local", labels(&[("keep", "no")]))
        .unwrap();
    store
        .create(Some("named-used"), "local", BTreeMap::new())
        .unwrap();
    fs::write(anon_free.mountpoint.join("f"), vec![0u8; 1000]).unwrap();
    let used: HashSet<String> = [anon_used.name.clone(), "named-used".to_string()].into();
    let in_use = |n: &str| used.contains(n);

    let report = store.prune(&in_use, false, &[]).unwrap();
    assert_eq!(report.deleted, std::slice::from_ref(&anon_free.name));
    assert_eq!(report.space_reclaimed, 1000);
    assert!(store.inspect("named").is_ok());

    let report = store
        .prune(&in_use, true, &[LabelFilter::parse("keep=yes")])
        .unwrap();
    assert!(report.deleted.is_empty());
    let report = store.prune(&in_use, true, &[]).unwrap();
    assert_eq!(report.deleted, ["named"]);
    let left: Vec<_> = store
        .list(&[])
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    let mut expected = vec![anon_used.name, "named-used".to_string()];
    expected.sort();
    assert_eq!(left, expected);
}

#[test]
fn usage_counts_content_without_following_symlinks() {
    let (tmp, store) = store();
    let vol = store
        .create(Some("sized"), "local", BTreeMap::new())
        .unwrap();
    let data = &vol.mountpoint;
    fs::create_dir_all(data.join("a/b")).unwrap();
    fs::write(data.join("a/one"), vec![1u8; 100]).unwrap();
    fs::write(data.join("a/b/two"), vec![2u8; 250]).unwrap();
    fs::hard_link(data.join("a/one"), data.join("a/one-again")).unwrap();
    // A big file outside, reached only through symlinks: never counted.
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("big"), vec![0u8; 1 << 20]).unwrap();
    symlink(&outside, data.join("dirlink")).unwrap();
    symlink(outside.join("big"), data.join("filelink")).unwrap();
    let links = outside.as_os_str().len() + outside.join("big").as_os_str().len();
    assert_eq!(store.usage("sized").unwrap(), 350 + links as u64);
    assert!(matches!(store.usage("nope"), Err(VolumeError::NotFound(_))));
}

#[test]
fn leftovers_of_interrupted_operations_are_cleaned_and_never_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("volumes");
    fs::create_dir_all(dir.join(".tmp-abc/_data")).unwrap();
    fs::create_dir_all(dir.join(".rm-def/_data")).unwrap();
    // A volume whose metadata was lost is still listed, not hidden.
    fs::create_dir_all(dir.join("orphan/_data")).unwrap();
    let store = VolumeStore::open(tmp.path()).unwrap();
    let names: Vec<_> = store
        .list(&[])
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["orphan"]);
    assert!(!dir.join(".tmp-abc").exists());
    assert!(!dir.join(".rm-def").exists());
}
