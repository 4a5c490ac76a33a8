//! What a descriptor's media type says about its blob: which JSON document it is (and so
//! which size cap applies), or that it is layer-like content.
//!
//! Docker's schema-2 types are accepted beside the OCI ones because registries and
//! `docker save` with the containerd store still produce them.

use oci_spec::image::MediaType;

/// Manifests, indexes and configs are parsed in memory; nothing legitimate comes close to
/// this, and a larger "manifest" is an attempt to exhaust memory.
pub const JSON_CAP: u64 = 4 * 1024 * 1024;

/// Default cap for one layer (or any non-JSON blob): big enough for real images, small
/// enough that a hostile stream cannot fill the data disk unnoticed.
pub const DEFAULT_LAYER_CAP: u64 = 16 * 1024 * 1024 * 1024;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The role of a blob, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Index,
    Manifest,
    Config,
    /// Layers and anything else that is not parsed by the store.
    Content,
}

impl Kind {
    pub fn of(media_type: &MediaType) -> Kind {
        match media_type {
            MediaType::ImageIndex => Kind::Index,
            MediaType::ImageManifest => Kind::Manifest,
            MediaType::ImageConfig => Kind::Config,
            MediaType::Other(s) if s == DOCKER_MANIFEST_LIST => Kind::Index,
            MediaType::Other(s) if s == DOCKER_MANIFEST => Kind::Manifest,
            MediaType::Other(s) if s == DOCKER_CONFIG => Kind::Config,
            _ => Kind::Content,
        }
    }

    /// True for the documents the store parses, which are capped at [`JSON_CAP`].
    pub fn is_json(self) -> bool {
        self != Kind::Content
    }
}

/// Layer media type from the first bytes of a layer, for archives (docker save) that do
/// not say how their layers are compressed.
pub fn layer_type_from_magic(head: &[u8]) -> MediaType {
    if head.starts_with(&[0x1f, 0x8b]) {
        MediaType::ImageLayerGzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        MediaType::ImageLayerZstd
    } else {
        MediaType::ImageLayer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_magic() {
        assert_eq!(Kind::of(&MediaType::from(DOCKER_MANIFEST)), Kind::Manifest);
        assert_eq!(
            Kind::of(&MediaType::from(DOCKER_MANIFEST_LIST)),
            Kind::Index
        );
        assert_eq!(Kind::of(&MediaType::ImageLayerGzip), Kind::Content);
        assert!(Kind::of(&MediaType::ImageConfig).is_json());
        assert_eq!(
            layer_type_from_magic(&[0x1f, 0x8b, 8]),
            MediaType::ImageLayerGzip
        );
        assert_eq!(
            layer_type_from_magic(&[0x28, 0xb5, 0x2f, 0xfd]),
            MediaType::ImageLayerZstd
        );
        assert_eq!(layer_type_from_magic(b"etc/"), MediaType::ImageLayer);
    }
}
