//! How a layer blob is compressed: from its media type (OCI and Docker names) or by sniffing
//! its first bytes, and the matching streaming decoder.

use std::io::{self, Read};

use oci_spec::image::MediaType;

use super::error::LayerError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression a layer media type declares. Docker's schema 2 names are accepted as
    /// well as OCI's, since `docker save` archives and Docker Hub manifests use them.
    pub fn from_media_type(media_type: &MediaType) -> Result<Self, LayerError> {
        match media_type {
            MediaType::ImageLayer | MediaType::ImageLayerNonDistributable => Ok(Self::None),
            MediaType::ImageLayerGzip | MediaType::ImageLayerNonDistributableGzip => Ok(Self::Gzip),
            MediaType::ImageLayerZstd | MediaType::ImageLayerNonDistributableZstd => Ok(Self::Zstd),
            MediaType::Other(name) => match name.as_str() {
                "application/vnd.docker.image.rootfs.diff.tar"
                | "application/vnd.docker.image.rootfs.foreign.diff.tar" => Ok(Self::None),
                "application/vnd.docker.image.rootfs.diff.tar.gzip"
                | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Ok(Self::Gzip),
                "application/vnd.docker.image.rootfs.diff.tar.zstd" => Ok(Self::Zstd),
                _ => Err(LayerError::UnknownMediaType(name.clone())),
            },
            other => Err(LayerError::UnknownMediaType(other.to_string())),
        }
    }

    /// The compression whose magic number starts `magic`; anything else is taken as a plain
    /// tar (which has no magic at offset 0). Callers pass at least the first 4 bytes.
    pub fn sniff(magic: &[u8]) -> Self {
        if magic.starts_with(&GZIP_MAGIC) {
            Self::Gzip
        } else if magic.starts_with(&ZSTD_MAGIC) {
            Self::Zstd
        } else {
            Self::None
        }
    }

    /// Wraps `input` in the streaming decoder. Gzip accepts concatenated members and zstd
    /// concatenated frames, as Go's readers (and so Docker and containerd) do. zstd keeps its
    /// default window limit (128 MiB), so a frame cannot demand an unbounded buffer.
    pub(crate) fn decoder<'a, R: Read + 'a>(self, input: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Self::None => Box::new(input),
            Self::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Self::Zstd => Box::new(zstd::stream::read::Decoder::new(input)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_map_to_compressions() {
        let cases = [
            ("application/vnd.oci.image.layer.v1.tar", Compression::None),
            (
                "application/vnd.oci.image.layer.v1.tar+gzip",
                Compression::Gzip,
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+zstd",
                Compression::Zstd,
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                Compression::Gzip,
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar",
                Compression::None,
            ),
        ];
        for (name, expected) in cases {
            let found = Compression::from_media_type(&MediaType::from(name)).unwrap();
            assert_eq!(found, expected, "{name}");
        }
        let err = Compression::from_media_type(&MediaType::ImageConfig).unwrap_err();
        assert!(err.to_string().contains("image.config"), "{err}");
    }

    #[test]
    fn sniffing_recognises_magic_numbers() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"etc/"), Compression::None);
        assert_eq!(Compression::sniff(&[]), Compression::None);
    }
}
