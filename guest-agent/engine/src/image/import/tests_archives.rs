//! Import tests for `docker save` archives (legacy and docker 25+) and for a layout made
//! by umoci, a real OCI tool.

use std::fs;
use std::process::Command;

use oci_spec::image::MediaType;

use super::fixture::*;
use super::*;
use crate::image::store::blobs::digest_of;

/// A `docker save` archive from before docker 25: `<hex>.json` config, `<id>/layer.tar`
/// plain layers, a duplicate layer stored as a symlink.
fn legacy_docker_archive(tamper_config_name: bool) -> (Vec<u8>, String) {
    let layer = layer_tar(&[("a.txt", b"a")]);
    let diff = digest_of(&layer).to_string();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["sh"]}},"rootfs":{{"type":"layers","diff_ids":["{diff}","{diff}"]}}}}"#
    );
    let mut config_hex = digest_of(config.as_bytes()).digest().to_owned();
    if tamper_config_name {
        config_hex = "0".repeat(64);
    }
    let manifest = format!(
        r#"[{{"Config":"{config_hex}.json","RepoTags":["old/style:v1","busybox:latest"],"Layers":["l1/layer.tar","l2/layer.tar"]}}]"#
    );
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    add(&format!("{config_hex}.json"), config.as_bytes());
    add("l1/layer.tar", &layer);
    add("manifest.json", manifest.as_bytes());
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "l2/layer.tar", "../l1/layer.tar")
        .unwrap();
    (b.into_inner().unwrap(), config_hex)
}

#[test]
fn imports_legacy_docker_save_archive() {
    let (_dir, store) = store();
    let (tar, config_hex) = legacy_docker_archive(false);
    let images = import_bytes(&store, &tar).unwrap();
    assert_eq!(
        images[0].names,
        ["docker.io/old/style:v1", "docker.io/library/busybox:latest"]
    );
    assert_eq!(images[0].config.digest(), config_hex);
    let image = store.resolve("busybox").unwrap();
    let layers = store.layers(&image).unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0], layers[1]);
    assert_eq!(layers[0].0.media_type(), &MediaType::ImageLayer);
    assert_eq!(layers[0].0.digest(), &layers[0].1);
    // config, one layer, the generated manifest
    assert_eq!(blob_count(store.root()), 3);

    let (_dir, store) = self::store();
    let (tar, _) = legacy_docker_archive(true);
    let err = import_bytes(&store, &tar).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("sha256:{}", "0".repeat(64))),
        "{err}"
    );
    assert_untouched(&store);
}

#[test]
fn imports_a_layout_made_by_umoci() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let umoci = |args: &[&str]| {
        let out = Command::new("umoci")
            .args(args)
            .output()
            .expect("umoci is installed (apt-get install umoci)");
        assert!(out.status.success(), "umoci {args:?}: {out:?}");
    };
    let image = format!("{}:t", layout.display());
    umoci(&["init", "--layout", &layout.display().to_string()]);
    umoci(&["new", "--image", &image]);
    umoci(&["insert", "--image", &image, "/bin/busybox", "/bin/busybox"]);
    let cmd = "--config.cmd=/bin/busybox";
    umoci(&["config", "--image", &image, cmd, "--config.cmd=true"]);

    let (_d, store) = store();
    let images = import_path(&store, &layout, &base("berth/umoci")).unwrap();
    assert_eq!(images[0].names, ["docker.io/berth/umoci:t"]);
    let image = store.resolve("berth/umoci:t").unwrap();
    let layers = store.layers(&image).unwrap();
    assert_eq!(layers.len(), 1);
    let size = fs::metadata("/bin/busybox").unwrap().len();
    assert!(layers[0].0.size() > size / 4, "the layer holds busybox");
    let cmd = store
        .config(&image)
        .unwrap()
        .config()
        .clone()
        .unwrap()
        .cmd()
        .clone();
    assert_eq!(cmd.unwrap(), ["/bin/busybox", "true"]);

    // The same layout as a tar.
    let (_d, store) = self::store();
    let tar = tar_dir(&layout);
    let images = import_tar(&store, &tar[..], &base("berth/umoci")).unwrap();
    assert_eq!(images[0].config, image.config);
}

#[test]
fn docker_archive_without_index_names_uses_repo_tags() {
    let (dir, store) = store();
    let layout = dir.path().join("layout");
    let built = write_image(&layout, "named", "amd64");
    write_index(&layout, &[(built.manifest.clone(), &[])]);
    let layers: Vec<String> = built
        .layers
        .iter()
        .map(|l| format!("\"blobs/sha256/{}\"", l.digest().digest()))
        .collect();
    let manifest = format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["saved:v2"],"Layers":[{}]}}]"#,
        built.config.digest(),
        layers.join(",")
    );
    fs::write(layout.join("manifest.json"), manifest).unwrap();
    let images = import_bytes(&store, &tar_dir(&layout)).unwrap();
    assert_eq!(images[0].names, ["docker.io/library/saved:v2"]);
    // The OCI manifest was kept, not rebuilt from manifest.json.
    assert_eq!(images[0].target.digest(), built.manifest.digest());
}
