//! Finding an image from what a user typed, in docker's order: a name (short or full,
//! with a tag or a digest), then an ID (`sha256:<hex>`, `<hex>` or a prefix of it).

use super::refs::ImageRecord;
use crate::image::reference::{ImageRef, ReferenceError};

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("No such image: {input}")]
    NotFound { input: String },
    #[error("Image ID prefix {prefix:?} is ambiguous: it matches {count} images")]
    Ambiguous { prefix: String, count: usize },
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

/// The index in `images` of the image `input` designates.
pub fn find(images: &[ImageRecord], input: &str) -> Result<usize, ResolveError> {
    let not_found = || ResolveError::NotFound {
        input: input.to_owned(),
    };
    if let Some(hex) = input.strip_prefix("sha256:") {
        return by_id(images, hex, input)?.ok_or_else(not_found);
    }
    // A short hex string may be a name (`docker.io/library/abc:latest`) or an ID prefix;
    // docker tries the name first.
    let maybe_id = input.len() <= 64 && is_lower_hex(input);
    match ImageRef::parse(input) {
        Ok(reference) => match by_name(images, &reference) {
            Some(i) => Ok(i),
            None if maybe_id => by_id(images, input, input)?.ok_or_else(not_found),
            None => Err(not_found()),
        },
        Err(_) if maybe_id => by_id(images, input, input)?.ok_or_else(not_found),
        Err(e) => Err(e.into()),
    }
}

fn by_name(images: &[ImageRecord], reference: &ImageRef) -> Option<usize> {
    if let Some(digest) = reference.digest() {
        let repo = reference.repository();
        return images.iter().position(|r| {
            (r.target.digest().as_ref() == digest || r.manifest.digest().as_ref() == digest)
                && r.names.iter().any(|n| same_repository(n, &repo))
        });
    }
    let full = reference.full();
    images.iter().position(|r| r.names.contains(&full))
}

fn same_repository(name: &str, repo: &str) -> bool {
    name.strip_prefix(repo)
        .is_some_and(|rest| rest.starts_with(':') || rest.starts_with('@'))
}

/// Matches an ID (config digest) prefix; a full digest also matches the manifest or index
/// digest. Several records with one ID are the same runnable image, so only distinct IDs
/// make a prefix ambiguous.
fn by_id(images: &[ImageRecord], hex: &str, input: &str) -> Result<Option<usize>, ResolveError> {
    if hex.is_empty() || !is_lower_hex(hex) {
        return Ok(None);
    }
    if hex.len() == 64 {
        let exact = images.iter().position(|r| {
            r.config.digest() == hex
                || r.target.digest().digest() == hex
                || r.manifest.digest().digest() == hex
        });
        return Ok(exact);
    }
    let matching: Vec<usize> = (0..images.len())
        .filter(|&i| images[i].config.digest().starts_with(hex))
        .collect();
    let mut ids: Vec<&str> = matching
        .iter()
        .map(|&i| images[i].config.digest())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > 1 {
        return Err(ResolveError::Ambiguous {
            prefix: input.to_owned(),
            count: ids.len(),
        });
    }
    // Prefer a named record when several share the ID.
    Ok(matching
        .iter()
        .copied()
        .find(|&i| !images[i].names.is_empty())
        .or(matching.first().copied()))
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
