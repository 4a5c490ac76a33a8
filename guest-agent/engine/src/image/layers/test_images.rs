//! Images for the layer and container-root tests: the real berth/hello demo image (built
//! by images/hello/build) and small images made from layer tars.

use std::path::{Path, PathBuf};
use std::process::Command;

use oci_spec::image::{ImageConfigurationBuilder, ImageManifestBuilder, MediaType, RootFsBuilder};

use crate::image::import::fixture::{gzip, write_blob, write_index};
use crate::image::import::{import_path, ImportOptions};
use crate::image::store::blobs::digest_of;
use crate::image::store::platform::host_arch;
use crate::image::store::{ImageRecord, Store};

/// A layer tar of regular files (0644, owned by root), in the given order.
pub fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A store rooted at `<dir>/root` (layers go to `<dir>/root/layers`).
pub fn store(dir: &Path) -> Store {
    Store::open(dir.join("root")).unwrap()
}

/// Builds berth/hello with the project's script and imports its OCI layout.
pub fn hello(dir: &Path, store: &Store) -> ImageRecord {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../images/hello/build");
    let out = dir.join("hello-build");
    let status = Command::new(&script).arg(&out).output().unwrap();
    assert!(
        status.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&status.stderr)
    );
    import_path(store, &out.join("oci"), &ImportOptions::default()).unwrap();
    store.resolve("berth/hello").unwrap()
}

/// Imports an image named `name` whose layers (bottom first, plain tars) are `layers`,
/// gzip-compressed as registries serve them.
pub fn image(store: &Store, dir: &Path, name: &str, layers: &[Vec<u8>]) -> ImageRecord {
    let layout = dir.join(format!("layout-{}", name.replace(['/', ':'], "_")));
    let descriptors: Vec<_> = layers
        .iter()
        .map(|l| write_blob(&layout, MediaType::ImageLayerGzip, &gzip(l)))
        .collect();
    let diff_ids: Vec<String> = layers.iter().map(|l| digest_of(l).to_string()).collect();
    let config = ImageConfigurationBuilder::default()
        .architecture(host_arch())
        .os("linux")
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(diff_ids)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let config = write_blob(
        &layout,
        MediaType::ImageConfig,
        &serde_json::to_vec(&config).unwrap(),
    );
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(descriptors)
        .build()
        .unwrap();
    let manifest = write_blob(
        &layout,
        MediaType::ImageManifest,
        &serde_json::to_vec(&manifest).unwrap(),
    );
    let full = format!("docker.io/{name}:latest");
    write_index(
        &layout,
        &[(manifest, &[("io.containerd.image.name", &full)])],
    );
    import_path(store, &layout, &ImportOptions::default()).unwrap();
    store.resolve(name).unwrap()
}
