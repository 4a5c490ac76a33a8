//! Exporting images as a `docker save` archive, in the shape docker 25+ writes: blobs
//! under `blobs/sha256/`, a `manifest.json` for `docker load` of any age, and an OCI
//! layout (`oci-layout`, `index.json`) for OCI tools. Streamed to any writer.
//!
//! A multi-platform image is exported as its host-platform manifest, as `docker save`
//! does. An image given by name carries that name (RepoTags); one given by ID carries
//! none, like docker.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};

use oci_spec::image::{Descriptor, Digest, ImageIndexBuilder, MediaType};
use serde::Serialize;

use crate::image::reference::ImageRef;
use crate::image::store::{ImageRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("No image to export")]
    NoImages,
    #[error("Blob {digest} in the store has {found} bytes, its descriptor says {expected}")]
    Corrupt {
        digest: String,
        expected: u64,
        found: u64,
    },
    #[error("Cannot write the archive")]
    Write(#[source] io::Error),
    #[error("Cannot build {what}")]
    Build {
        what: &'static str,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T> = std::result::Result<T, ExportError>;

/// One `manifest.json` entry, in docker's field spelling.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

/// Writes the images `selectors` designate (names or IDs) to `out` as one archive.
pub fn export<W: Write>(store: &Store, selectors: &[&str], out: W) -> Result<W> {
    let images = select(store, selectors)?;
    let mut tar = tar::Builder::new(out);
    for dir in ["blobs/", "blobs/sha256/"] {
        append(&mut tar, dir, tar::EntryType::Directory, 0o755, &[][..], 0)?;
    }
    let mut written = HashSet::new();
    let mut entries = Vec::new();
    let mut index = Vec::new();
    for (image, names) in &images {
        let manifest = store.manifest(image)?;
        let config = manifest.config();
        for desc in manifest.layers().iter().chain([config, &image.manifest]) {
            if written.insert(desc.digest().clone()) {
                append_blob(&mut tar, store, desc)?;
            }
        }
        entries.push(Entry {
            config: path(config.digest()),
            repo_tags: names.iter().map(ImageRef::familiar).collect(),
            layers: manifest.layers().iter().map(|l| path(l.digest())).collect(),
        });
        index.extend(index_entries(&image.manifest, names));
    }
    let manifest_json = serde_json::to_vec(&entries).map_err(|e| ExportError::Build {
        what: "manifest.json",
        source: e.into(),
    })?;
    let index_json = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(index)
        .build()
        // Through a Value, whose maps are sorted: annotations come out in a stable order.
        .and_then(|i| Ok(serde_json::to_value(i)?.to_string()))
        .map_err(|source| ExportError::Build {
            what: "index.json",
            source,
        })?;
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    for (name, bytes) in [
        ("index.json", index_json.as_bytes()),
        ("manifest.json", &manifest_json[..]),
        ("oci-layout", &layout[..]),
    ] {
        let size = bytes.len() as u64;
        append(&mut tar, name, tar::EntryType::Regular, 0o444, bytes, size)?;
    }
    tar.into_inner().map_err(ExportError::Write)
}

/// Resolves the selectors, merging those that reach one image; a selector that is one of
/// the image's names exports that name.
fn select(store: &Store, selectors: &[&str]) -> Result<Vec<(ImageRecord, Vec<ImageRef>)>> {
    if selectors.is_empty() {
        return Err(ExportError::NoImages);
    }
    let mut out: Vec<(ImageRecord, Vec<ImageRef>)> = Vec::new();
    let mut position: HashMap<Digest, usize> = HashMap::new();
    for selector in selectors {
        let image = store.resolve(selector)?;
        let name = ImageRef::parse(selector)
            .ok()
            .filter(|r| image.names.contains(&r.full()));
        let i = *position
            .entry(image.target.digest().clone())
            .or_insert_with(|| {
                out.push((image, Vec::new()));
                out.len() - 1
            });
        if let Some(name) = name {
            if !out[i].1.contains(&name) {
                out[i].1.push(name);
            }
        }
    }
    Ok(out)
}

/// index.json entries for one manifest: one per name, with the annotations containerd
/// and docker read the name from; one bare entry for an unnamed image.
fn index_entries(manifest: &Descriptor, names: &[ImageRef]) -> Vec<Descriptor> {
    let bare = Descriptor::new(
        manifest.media_type().clone(),
        manifest.size(),
        manifest.digest().clone(),
    );
    if names.is_empty() {
        return vec![bare];
    }
    names
        .iter()
        .map(|name| {
            let mut d = bare.clone();
            let mut annotations = HashMap::new();
            annotations.insert("io.containerd.image.name".to_owned(), name.full());
            if let Some(tag) = name.tag() {
                annotations.insert("org.opencontainers.image.ref.name".to_owned(), tag.into());
            }
            d.set_annotations(Some(annotations));
            d
        })
        .collect()
}

fn path(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.digest())
}

fn append_blob<W: Write>(
    tar: &mut tar::Builder<W>,
    store: &Store,
    desc: &Descriptor,
) -> Result<()> {
    let blobs = store.blobs();
    let found = blobs.size(desc.digest()).map_err(StoreError::from)?;
    if found != desc.size() {
        return Err(ExportError::Corrupt {
            digest: desc.digest().to_string(),
            expected: desc.size(),
            found,
        });
    }
    let file = blobs.open(desc.digest()).map_err(StoreError::from)?;
    let name = path(desc.digest());
    append(
        &mut *tar,
        &name,
        tar::EntryType::Regular,
        0o444,
        file.take(found),
        found,
    )
}

/// One entry with fixed ownership and timestamps, so identical images export
/// byte-identical archives.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    kind: tar::EntryType,
    mode: u32,
    data: impl Read,
    size: u64,
) -> Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(size);
    tar.append_data(&mut header, name, data)
        .map_err(ExportError::Write)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::process::Command;

    use super::*;
    use crate::image::import::fixture::{assert_same_image, write_layout};
    use crate::image::import::{import_path, import_tar, ImportOptions};

    /// A store holding `docker.io/berth/test:1.0` (two gzip layers).
    fn store_with_image(dir: &std::path::Path) -> Store {
        let store = Store::open(dir.join("store")).unwrap();
        let layout = dir.join("layout");
        write_layout(&layout, "1.0");
        let options = ImportOptions {
            base_name: Some("berth/test".into()),
        };
        import_path(&store, &layout, &options).unwrap();
        store
    }

    fn entries(archive: &[u8]) -> Vec<String> {
        let mut a = tar::Archive::new(archive);
        let names = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string());
        names.collect()
    }

    #[test]
    fn export_then_import_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_image(dir.path());
        let archive = export(&store, &["berth/test:1.0"], Vec::new()).unwrap();
        let names = entries(&archive);
        for expected in ["manifest.json", "index.json", "oci-layout", "blobs/sha256/"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&read_entry(&archive, "manifest.json")).unwrap();
        assert_eq!(manifest[0]["RepoTags"][0], "berth/test:1.0");
        assert_eq!(manifest[0]["Layers"].as_array().unwrap().len(), 2);

        let other = Store::open(dir.path().join("other")).unwrap();
        let images = import_tar(&other, &archive[..], &ImportOptions::default()).unwrap();
        assert_eq!(images[0].names, ["docker.io/berth/test:1.0"]);
        assert_same_image(&store, &other, "berth/test:1.0");

        // Exporting twice gives the same bytes; by ID there is no name.
        let again = export(&store, &["berth/test:1.0"], Vec::new()).unwrap();
        assert!(archive == again, "exports of one image differ");
        let id = store.resolve("berth/test:1.0").unwrap().config.to_string();
        let by_id = export(&store, &[&id[7..19]], Vec::new()).unwrap();
        let manifest: serde_json::Value =
            serde_json::from_slice(&read_entry(&by_id, "manifest.json")).unwrap();
        assert_eq!(manifest[0]["RepoTags"], serde_json::json!([]));

        assert!(matches!(
            export(&store, &[], Vec::new()),
            Err(ExportError::NoImages)
        ));
        assert!(matches!(
            export(&store, &["nope"], Vec::new()),
            Err(ExportError::Store(_))
        ));
    }

    fn read_entry(archive: &[u8], name: &str) -> Vec<u8> {
        let mut a = tar::Archive::new(archive);
        let mut entry = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap())
            .find(|e| e.path().unwrap().to_str() == Some(name))
            .unwrap();
        let mut out = Vec::new();
        entry.read_to_end(&mut out).unwrap();
        out
    }

    fn run(cmd: &str, args: &[&str]) -> String {
        let out = Command::new(cmd)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{cmd} is installed (apt-get install {cmd}): {e}"));
        assert!(out.status.success(), "{cmd} {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn skopeo_and_podman_accept_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_image(dir.path());
        let file = dir.path().join("image.tar");
        let out = fs::File::create(&file).unwrap();
        export(&store, &["berth/test:1.0"], out).unwrap();
        let archive = format!("docker-archive:{}", file.display());

        let inspect: serde_json::Value =
            serde_json::from_str(&run("skopeo", &["inspect", &archive])).unwrap();
        assert_eq!(inspect["Layers"].as_array().unwrap().len(), 2);
        assert_eq!(inspect["Os"], "linux");

        // skopeo verifies every blob while copying; the copy imports back unchanged.
        let oci = dir.path().join("oci");
        let dest = format!("oci:{}:copied", oci.display());
        run("skopeo", &["copy", "--quiet", &archive, &dest]);
        let back = Store::open(dir.path().join("back")).unwrap();
        let options = ImportOptions {
            base_name: Some("berth/test".into()),
        };
        import_path(&back, &oci, &options).unwrap();
        let id = store.resolve("berth/test:1.0").unwrap().config;
        assert_eq!(back.resolve("berth/test:copied").unwrap().config, id);

        // podman load, into a throwaway storage root.
        let root = dir.path().join("podman");
        let (graph, run_root) = (root.join("root"), root.join("run"));
        let loaded = run(
            "podman",
            &[
                "--root",
                graph.to_str().unwrap(),
                "--runroot",
                run_root.to_str().unwrap(),
                "--storage-driver",
                "vfs",
                "load",
                "-i",
                file.to_str().unwrap(),
            ],
        );
        assert!(loaded.contains("berth/test:1.0"), "{loaded}");
    }
}
