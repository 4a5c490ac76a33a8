//! Chain ids: the identity of a layer *together with everything below it*, which is what an
//! unpacked overlay-mode diff depends on (its whiteouts mean something only on top of its
//! parents). OCI image-spec, config.md: ChainID(L0) = DiffID(L0) and
//! ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)), over the `sha256:<hex>`
//! strings.

use oci_spec::image::{Digest, DigestAlgorithm};
use sha2::{Digest as _, Sha256};

use super::error::{LayersError, Result};

/// The chain id of each layer, bottom first, from the diff_ids (bottom first).
pub fn chain_ids(diff_ids: &[Digest]) -> Result<Vec<Digest>> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        // Only sha256 can be verified by the unpacker; refusing others here also keeps
        // every directory name 64 hex digits.
        if *diff_id.algorithm() != DigestAlgorithm::Sha256 {
            return Err(LayersError::UnsupportedDigest {
                digest: diff_id.to_string(),
            });
        }
        let chain = match out.last() {
            None => diff_id.clone(),
            Some(parent) => {
                let joined = format!("{parent} {diff_id}");
                let hex = hex::encode(Sha256::digest(joined.as_bytes()));
                Digest::try_from(format!("sha256:{hex}")).expect("sha256 hex is a valid digest")
            }
        };
        out.push(chain);
    }
    Ok(out)
}

/// Parses a directory name as a chain id's hex, `None` for anything else (temporary and
/// lock directories, stray files).
pub(super) fn from_dir_name(name: &str) -> Option<Digest> {
    let hex_ok = name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !hex_ok {
        return None;
    }
    Digest::try_from(format!("sha256:{name}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Digest {
        Digest::try_from(s).unwrap()
    }

    // Expected values computed independently with sha256sum over the digests of "a", "b"
    // and "c" (`printf '%s %s' $A $B | sha256sum`).
    const A: &str = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
    const B: &str = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";
    const C: &str = "sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6";
    const AB: &str = "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676";
    const ABC: &str = "sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106";

    #[test]
    fn chain_ids_follow_the_oci_formula() {
        let ids = chain_ids(&[d(A), d(B), d(C)]).unwrap();
        assert_eq!(ids, [d(A), d(AB), d(ABC)]);
        assert!(chain_ids(&[]).unwrap().is_empty());
    }

    #[test]
    fn same_diff_on_a_different_base_is_a_different_layer() {
        let on_a = chain_ids(&[d(A), d(C)]).unwrap();
        let on_b = chain_ids(&[d(B), d(C)]).unwrap();
        assert_ne!(on_a[1], on_b[1]);
    }

    #[test]
    fn non_sha256_diff_ids_are_refused() {
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        let err = chain_ids(&[d(A), d(&sha512)]).unwrap_err();
        assert!(err.to_string().contains("sha512"), "{err}");
    }

    #[test]
    fn only_64_lowercase_hex_names_are_chain_ids() {
        assert_eq!(from_dir_name(&A[7..]), Some(d(A)));
        for name in [
            ".tmp",
            ".locks",
            "ABC",
            &A[7..70],
            &A[8..],
            &A[7..].to_uppercase(),
        ] {
            assert_eq!(from_dir_name(name), None, "{name}");
        }
    }
}
