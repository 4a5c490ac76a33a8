//! The uncompressed tar stream as the unpacker sees it: every byte is hashed (the diff_id is
//! the sha256 of exactly these bytes) and counted against the caps before the tar reader gets
//! it, so a decompression bomb stops at the cap instead of filling the disk.
//!
//! The `tar` crate reads a PAX or GNU long-name header wholly into memory before handing out
//! the entry it describes. The unpacker therefore marks the time spent inside
//! `Entries::next` as the header phase, and bytes read in that phase have a cap of their own.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use oci_spec::image::{Digest, Sha256Digest};
use sha2::{Digest as _, Sha256};

use super::error::LayerError;

/// Bytes allowed between two entries (padding, the header, PAX and long-name records).
/// Go's archive/tar allows 1 MiB of PAX data; a few blocks more cover the headers around it.
pub(super) const HEADER_BYTES_MAX: u64 = (1 << 20) + 8 * 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exceeded {
    Stream,
    Header,
}

/// State shared between the reader (owned by the tar archive) and the unpack loop.
#[derive(Debug)]
pub(super) struct Meter {
    max: u64,
    total: Cell<u64>,
    header_start: Cell<Option<u64>>,
    exceeded: Cell<Option<Exceeded>>,
}

impl Meter {
    pub(super) fn new(max: u64) -> Rc<Self> {
        Rc::new(Meter {
            max,
            total: Cell::new(0),
            header_start: Cell::new(None),
            exceeded: Cell::new(None),
        })
    }

    pub(super) fn enter_header(&self) {
        self.header_start.set(Some(self.total.get()));
    }

    pub(super) fn leave_header(&self) {
        self.header_start.set(None);
    }

    /// Turns a read error into the cap error that caused it, if one did.
    pub(super) fn classify(&self, err: io::Error) -> LayerError {
        match self.exceeded.get() {
            Some(Exceeded::Stream) => LayerError::TooLarge { max: self.max },
            Some(Exceeded::Header) => LayerError::HeaderTooLarge {
                max: HEADER_BYTES_MAX,
            },
            None => LayerError::Read(err),
        }
    }

    fn admit(&self, n: usize) -> io::Result<()> {
        let total = self.total.get().saturating_add(n as u64);
        if total > self.max {
            self.exceeded.set(Some(Exceeded::Stream));
            return Err(io::Error::other("uncompressed size cap reached"));
        }
        if let Some(start) = self.header_start.get() {
            if total - start > HEADER_BYTES_MAX {
                self.exceeded.set(Some(Exceeded::Header));
                return Err(io::Error::other("tar header size cap reached"));
            }
        }
        self.total.set(total);
        Ok(())
    }
}

/// Hashes and meters the decompressed stream.
pub(super) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    meter: Rc<Meter>,
}

impl<R: Read> HashingReader<R> {
    pub(super) fn new(inner: R, meter: Rc<Meter>) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            meter,
        }
    }

    /// Reads what follows the end-of-archive marker (tar writers pad to a record size), which
    /// the diff_id covers too; returns the diff_id and the stream's length.
    pub(super) fn finish(mut self) -> Result<(Digest, u64), LayerError> {
        io::copy(&mut self, &mut io::sink()).map_err(|e| self.meter.classify(e))?;
        let hex = hex::encode(self.hasher.finalize());
        // 64 lowercase hex digits are by construction a valid sha256 encoding.
        let digest: Sha256Digest = hex.parse().expect("sha256 hex is a valid digest");
        Ok((digest.into(), self.meter.total.get()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Never read past the cap: ask for one byte more than allowed at most, so crossing it
        // is detected without decompressing a large chunk beyond it.
        let allowed = self.meter.max.saturating_sub(self.meter.total.get());
        let want = buf
            .len()
            .min(usize::try_from(allowed.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.meter.admit(n)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_and_size_cover_every_byte() {
        let data = vec![7u8; 100_000];
        let mut reader = HashingReader::new(&data[..], Meter::new(1 << 20));
        let mut first = [0u8; 10];
        reader.read_exact(&mut first).unwrap();
        let (digest, size) = reader.finish().unwrap();
        assert_eq!(size, 100_000);
        let expected = format!("sha256:{}", hex::encode(Sha256::digest(&data)));
        assert_eq!(digest.to_string(), expected);
    }

    #[test]
    fn crossing_the_cap_is_an_error_naming_it() {
        let data = vec![0u8; 5000];
        let meter = Meter::new(4096);
        let mut reader = HashingReader::new(&data[..], meter.clone());
        let err = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        let err = meter.classify(err);
        assert!(err.to_string().contains("4096"), "{err}");
        assert!(meter.total.get() <= 4096);
    }

    #[test]
    fn header_phase_has_its_own_cap() {
        let data = vec![0u8; 2 << 20];
        let meter = Meter::new(u64::MAX);
        let mut reader = HashingReader::new(&data[..], meter.clone());
        meter.enter_header();
        let err = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert!(matches!(
            meter.classify(err),
            LayerError::HeaderTooLarge { .. }
        ));
    }
}
