//! The platform a pull is for (`--platform os/arch[/variant]`, else this host's) and
//! choosing its manifest from an index.

use std::fmt;

use oci_spec::image::{Descriptor, ImageIndex};

use super::{RegistryError, Result};
use crate::image::store::platform::host_arch;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    /// linux on this host's architecture.
    pub fn host() -> Platform {
        Platform {
            os: "linux".into(),
            arch: host_arch().to_string(),
            variant: None,
        }
    }

    /// `linux`, `linux/arm64`, `linux/arm64/v8`; an empty string is the host.
    pub fn parse(input: &str) -> Result<Platform> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(Self::host());
        }
        let parts: Vec<&str> = input.split('/').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(RegistryError::BadPlatform(input.into()));
        }
        let lower = |s: &str| s.to_ascii_lowercase();
        Ok(Platform {
            os: lower(parts[0]),
            arch: parts
                .get(1)
                .map_or_else(|| host_arch().to_string(), |a| lower(a)),
            variant: parts.get(2).map(|v| lower(v)),
        })
    }

    fn accepts(&self, desc: &Descriptor) -> bool {
        let Some(p) = desc.platform() else {
            return false;
        };
        if p.os().to_string() != self.os || p.architecture().to_string() != self.arch {
            return false;
        }
        match &self.variant {
            None => true,
            Some(want) => normal_variant(&self.arch, p.variant().as_deref()) == Some(want.as_str()),
        }
    }
}

/// arm64 images often leave out their (only) variant, v8.
fn normal_variant<'a>(arch: &str, variant: Option<&'a str>) -> Option<&'a str> {
    match (arch, variant) {
        ("arm64", None) => Some("v8"),
        (_, v) => v,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The index entry for `platform`.
pub fn choose<'a>(index: &'a ImageIndex, platform: &Platform) -> Option<&'a Descriptor> {
    index.manifests().iter().find(|d| platform.accepts(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(Platform::parse("linux//x").is_err());
        let index: ImageIndex = serde_json::from_str(&format!(
            r#"{{"schemaVersion":2,"manifests":[
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:{a}","platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:{b}","platform":{{"os":"linux","architecture":"arm64"}}}}]}}"#,
            a = "a".repeat(64),
            b = "b".repeat(64)
        ))
        .unwrap();
        let arm = choose(&index, &p).unwrap();
        assert!(arm.digest().to_string().ends_with('b'));
        let amd = choose(&index, &Platform::parse("linux/amd64").unwrap()).unwrap();
        assert!(amd.digest().to_string().ends_with('a'));
        assert!(choose(&index, &Platform::parse("linux/s390x").unwrap()).is_none());
    }
}
