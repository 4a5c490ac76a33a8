//! Reading an image tar (OCI layout or `docker save`, possibly gzip or zstd compressed
//! as a whole) into a [`Staging`] area. Entry names are hostile: `..` and absolute names
//! are refused, and nothing is ever created on disk under an archive-chosen name.

use std::io::{self, BufReader, Read};

use tar::EntryType;

use super::names::{clean_name, BadName};
use super::staging::{Staging, StagingError};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("Cannot read the image archive")]
    Read(#[source] io::Error),
    #[error("Cannot read entry {name} of the image archive")]
    Entry {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("Archive entry {name} has unsupported type {kind}")]
    EntryType { name: String, kind: String },
    #[error("Archive entry {name} is a link without a target")]
    NoLinkTarget { name: String },
    #[error(transparent)]
    Staging(#[from] StagingError),
}

/// Streams the archive from `reader` into `staging`.
pub fn stage_tar(reader: impl Read, staging: &mut Staging<'_>) -> Result<(), ArchiveError> {
    let mut archive = tar::Archive::new(decompress(reader)?);
    for entry in archive.entries().map_err(ArchiveError::Read)? {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let raw = entry.path().map_err(ArchiveError::Read)?.into_owned();
        let name = clean_name(&raw).map_err(StagingError::from)?;
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Regular | EntryType::Continuous => {
                if name.is_empty() {
                    return Err(StagingError::from(BadName {
                        name: raw.display().to_string(),
                        reason: "a file has an empty name",
                    })
                    .into());
                }
                staging.add_file(name, &mut entry)?;
            }
            EntryType::Symlink | EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(|source| ArchiveError::Entry {
                        name: name.clone(),
                        source,
                    })?
                    .ok_or_else(|| ArchiveError::NoLinkTarget { name: name.clone() })?
                    .into_owned();
                staging.add_link(name, &target, kind == EntryType::Symlink)?;
            }
            // Directories carry nothing an importer needs; global PAX headers only hold
            // defaults for later entries, which the tar reader applies itself.
            EntryType::Directory | EntryType::XGlobalHeader => {}
            other => {
                return Err(ArchiveError::EntryType {
                    name,
                    kind: format!("{other:?}"),
                })
            }
        }
    }
    Ok(())
}

/// `docker load` accepts archives compressed as a whole; so does Berth.
fn decompress<'r>(mut reader: impl Read + 'r) -> Result<Box<dyn Read + 'r>, ArchiveError> {
    // A pipe may deliver the first bytes in pieces: gather the four the magic needs.
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ArchiveError::Read(e)),
        }
    }
    let head = &head[..got];
    let whole = BufReader::with_capacity(256 * 1024, io::Cursor::new(head.to_vec()).chain(reader));
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(whole))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::Decoder::with_buffer(whole).map_err(ArchiveError::Read)?)
    } else {
        Box::new(whole)
    })
}
