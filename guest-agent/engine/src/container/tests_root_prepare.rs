//! Root test: a container record becomes a bundle that the real runtime runs — berth/hello's
//! layers, an overlay root, a named volume filled by the container, /etc files, the spec.

use std::time::{Duration, Instant};

use berth_runtime::{ContainerBuilder, Status as RuntimeStatus};

use super::config::{ContainerConfig, MountConfig};
use super::prepare::{prepare, release, Parts};
use super::spec::NetworkNamespace;
use super::store::ContainerStore;
use crate::image::layers::test_images::{hello, store};
use crate::image::layers::LayerStore;
use crate::volume::VolumeStore;

#[test]
fn root_a_prepared_bundle_runs_berth_hello_with_a_named_volume() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root (CI runs as root)"
    );
    let dir = tempfile::tempdir().unwrap();
    let images = store(dir.path());
    let image = hello(dir.path(), &images);
    let root = dir.path().join("root");
    let layers = LayerStore::open(&root).unwrap();
    let volumes = VolumeStore::open(&root).unwrap();
    let containers = ContainerStore::open(&root).unwrap();

    let script = "cat /var/www/index.html > /data/page; hostname > /data/who; id -u >> /data/who";
    let config = ContainerConfig {
        image: "berth/hello".into(),
        cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
        hostname: Some("hello-box".into()),
        mounts: vec![MountConfig::Volume {
            name: "pagevol".into(),
            target: "/data".into(),
            readonly: false,
        }],
        ..Default::default()
    };
    config.validate().unwrap();
    let record = containers
        .create(Some("web1"), image.config.as_ref(), config, "now".into())
        .unwrap();
    let container_dir = containers.container_dir(&record.id);
    let parts = Parts {
        images: &images,
        layers: &layers,
        volumes: &volumes,
    };
    let prepared = prepare(parts, &record, &container_dir, NetworkNamespace::Private).unwrap();
    assert!(prepared.rootfs.join("var/www/index.html").is_file());

    let runtime_root = dir.path().join("runtime");
    let mut container = ContainerBuilder::new(&record.id, &runtime_root)
        .bundle(&prepared.bundle)
        .create()
        .unwrap();
    container.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while container.status() != RuntimeStatus::Stopped {
        assert!(Instant::now() < deadline, "the container did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    container.delete(false).unwrap();

    let data = volumes.inspect("pagevol").unwrap().mountpoint;
    let page = std::fs::read_to_string(data.join("page")).unwrap();
    assert!(page.contains("Berth"), "{page}");
    assert_eq!(
        std::fs::read_to_string(data.join("who")).unwrap(),
        "hello-box\n0\n"
    );
    // The second preparation re-uses the mounted root and the same volume.
    let again = prepare(parts, &record, &container_dir, NetworkNamespace::Private).unwrap();
    assert_eq!(again, prepared);
    release(&container_dir).unwrap();
    assert!(
        !prepared.rootfs.join("var").exists(),
        "root still mounted after release"
    );
}
