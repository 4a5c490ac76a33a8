//! Choosing the manifest of a multi-platform index that runs on this host.

use oci_spec::image::{Arch, Descriptor, Os};

/// This host's architecture in Go's GOARCH spelling, which image indexes use.
pub fn host_arch() -> Arch {
    let goarch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    };
    Arch::from(goarch)
}

/// Index of the best manifest for this host among `candidates`: linux on this
/// architecture first, then any entry without a platform, then the first real platform.
/// Attestation manifests (`unknown/unknown`) are never chosen.
pub fn choose(candidates: &[&Descriptor]) -> Option<usize> {
    let arch = host_arch();
    let unknown = |d: &Descriptor| {
        d.platform()
            .as_ref()
            .is_some_and(|p| p.os() == &Os::Other("unknown".into()))
    };
    candidates
        .iter()
        .position(|d| {
            d.platform()
                .as_ref()
                .is_some_and(|p| p.os() == &Os::Linux && p.architecture() == &arch)
        })
        .or_else(|| candidates.iter().position(|d| d.platform().is_none()))
        .or_else(|| candidates.iter().position(|d| !unknown(d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::{MediaType, PlatformBuilder};

    fn desc(os: &str, arch: &str) -> Descriptor {
        let digest = format!("sha256:{}", "0".repeat(64));
        let mut d = Descriptor::new(
            MediaType::ImageManifest,
            1,
            digest.parse::<oci_spec::image::Digest>().unwrap(),
        );
        let p = PlatformBuilder::default()
            .os(Os::from(os))
            .architecture(Arch::from(arch))
            .build()
            .unwrap();
        d.set_platform(Some(p));
        d
    }

    #[test]
    fn prefers_host_then_skips_attestations() {
        let host = host_arch().to_string();
        let other = if host == "s390x" { "amd64" } else { "s390x" };
        let a = desc("unknown", "unknown");
        let b = desc("linux", other);
        let c = desc("linux", &host);
        assert_eq!(choose(&[&a, &b, &c]), Some(2));
        assert_eq!(choose(&[&a, &b]), Some(1));
        assert_eq!(choose(&[&a]), None);
    }
}
