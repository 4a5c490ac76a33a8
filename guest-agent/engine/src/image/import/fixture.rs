//! Test images built in Rust: layer tars, OCI layouts on disk, and raw tars whose entry
//! names bypass the tar writer's own checks (to plant `..` and absolute names).

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use oci_spec::image::{
    ConfigBuilder, Descriptor, Digest, ImageConfigurationBuilder, ImageIndexBuilder,
    ImageManifestBuilder, MediaType, RootFsBuilder,
};

use super::{import_tar, ImportOptions, Result};
use crate::image::store::blobs::digest_of;
use crate::image::store::{ImageRecord, Store};

/// A layer tar holding the given regular files.
pub fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A tar of named files, names written verbatim into the header.
pub fn raw_tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        let field = &mut h.as_old_mut().name;
        field[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Packs every file under `dir` into a tar, paths relative to `dir`.
pub fn tar_dir(dir: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.append_dir_all(".", dir).unwrap();
    b.into_inner().unwrap()
}

/// What [`write_layout`] produced.
#[derive(Debug, Clone)]
pub struct Built {
    pub manifest: Descriptor,
    pub config: Digest,
    pub layers: Vec<Descriptor>,
    pub diff_ids: Vec<Digest>,
}

/// Writes a blob into `<dir>/blobs/sha256/` and describes it.
pub fn write_blob(dir: &Path, media_type: MediaType, bytes: &[u8]) -> Descriptor {
    let digest = digest_of(bytes);
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    fs::write(blobs.join(digest.digest()), bytes).unwrap();
    Descriptor::new(media_type, bytes.len() as u64, digest)
}

/// Writes the blobs of a two-layer (gzip) image into `dir` and returns its manifest
/// descriptor; `seed` makes configs differ between images.
pub fn write_image(dir: &Path, seed: &str, arch: &str) -> Built {
    let raw = [
        layer_tar(&[("hello.txt", seed.as_bytes())]),
        layer_tar(&[("etc/motd", b"welcome\n"), ("bin/app", b"#!/bin/sh\n")]),
    ];
    let diff_ids: Vec<Digest> = raw.iter().map(|l| digest_of(l)).collect();
    let layers: Vec<Descriptor> = raw
        .iter()
        .map(|l| write_blob(dir, MediaType::ImageLayerGzip, &gzip(l)))
        .collect();
    let config = ImageConfigurationBuilder::default()
        .architecture(arch)
        .os("linux")
        .config(
            ConfigBuilder::default()
                .cmd(vec!["/bin/sh".to_owned(), seed.to_owned()])
                .build()
                .unwrap(),
        )
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config = write_blob(dir, MediaType::ImageConfig, &config_bytes);
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config.clone())
        .layers(layers.clone())
        .build()
        .unwrap();
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    Built {
        manifest: write_blob(dir, MediaType::ImageManifest, &manifest_bytes),
        config: config.digest().clone(),
        layers,
        diff_ids,
    }
}

/// Writes `oci-layout` and an `index.json` listing `entries` with the given annotations.
pub fn write_index(dir: &Path, entries: &[(Descriptor, &[(&str, &str)])]) {
    let manifests = entries
        .iter()
        .map(|(d, ann)| {
            let mut d = d.clone();
            if !ann.is_empty() {
                let map: HashMap<String, String> = ann
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                d.set_annotations(Some(map));
            }
            d
        })
        .collect::<Vec<_>>();
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .unwrap();
    fs::write(dir.join("index.json"), index.to_string().unwrap()).unwrap();
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// A one-image OCI layout whose index entry carries `ref.name`.
pub fn write_layout(dir: &Path, ref_name: &str) -> Built {
    let built = write_image(dir, "one", "amd64");
    write_index(
        dir,
        &[(
            built.manifest.clone(),
            &[("org.opencontainers.image.ref.name", ref_name)],
        )],
    );
    built
}

/// Number of committed blobs in a store.
pub fn blob_count(root: &Path) -> usize {
    fs::read_dir(root.join("blobs/sha256")).unwrap().count()
}

/// Two stores hold the same image under `name`: same ID, same layers and diff_ids.
pub fn assert_same_image(a: &Store, b: &Store, name: &str) {
    let (x, y) = (a.resolve(name).unwrap(), b.resolve(name).unwrap());
    assert_eq!(x.config, y.config);
    assert_eq!(a.layers(&x).unwrap(), b.layers(&y).unwrap());
}

pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    (dir, store)
}

pub fn base(name: &str) -> ImportOptions {
    ImportOptions {
        base_name: Some(name.into()),
    }
}

pub fn import_bytes(store: &Store, tar: &[u8]) -> Result<Vec<ImageRecord>> {
    import_tar(store, tar, &ImportOptions::default())
}

/// After a failed import: no name, no blob, no temporary file.
pub fn assert_untouched(store: &Store) {
    assert!(store.images().unwrap().is_empty());
    assert_eq!(blob_count(store.root()), 0);
    assert_eq!(fs::read_dir(store.blobs().tmp_dir()).unwrap().count(), 0);
}
