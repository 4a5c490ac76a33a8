//! Reading and checking a bundle's `config.json`.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Process, Spec};

use crate::error::{Result, RuntimeError};

/// A loaded bundle: its directory (absolute), its spec, and the absolute rootfs path.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub spec: Spec,
    pub rootfs: PathBuf,
}

impl Bundle {
    pub fn load(dir: &Path) -> Result<Self> {
        let dir = std::fs::canonicalize(dir).map_err(|source| RuntimeError::Io {
            context: format!("Bundle directory {} is not accessible", dir.display()),
            source,
        })?;
        let path = dir.join("config.json");
        let spec = Spec::load(&path).map_err(|source| RuntimeError::ReadSpec {
            path: path.clone(),
            source,
        })?;
        let root = spec
            .root()
            .as_ref()
            .ok_or_else(|| RuntimeError::InvalidSpec("root is missing".into()))?;
        let rootfs = dir.join(root.path());
        let rootfs = std::fs::canonicalize(&rootfs).map_err(|source| RuntimeError::Io {
            context: format!("Root filesystem {} is not accessible", rootfs.display()),
            source,
        })?;
        if !rootfs.is_dir() {
            return Err(RuntimeError::InvalidSpec(format!(
                "root.path {} is not a directory",
                rootfs.display()
            )));
        }
        let bundle = Bundle { dir, spec, rootfs };
        validate_process(bundle.process()?)?;
        Ok(bundle)
    }

    pub fn process(&self) -> Result<&Process> {
        self.spec
            .process()
            .as_ref()
            .ok_or_else(|| RuntimeError::InvalidSpec("process is missing".into()))
    }
}

/// Checks what the kernel would otherwise reject late and obscurely inside the child.
pub fn validate_process(process: &Process) -> Result<()> {
    let args = process.args().as_deref().unwrap_or_default();
    if args.is_empty() {
        return Err(RuntimeError::InvalidSpec("process.args is empty".into()));
    }
    if !process.cwd().is_absolute() {
        return Err(RuntimeError::InvalidSpec(format!(
            "process.cwd {} is not an absolute path",
            process.cwd().display()
        )));
    }
    for arg in args {
        if arg.contains('\0') {
            return Err(RuntimeError::InvalidSpec(format!(
                "process.args entry {arg:?} contains a NUL byte"
            )));
        }
    }
    for var in process.env().as_deref().unwrap_or_default() {
        if var.contains('\0') {
            return Err(RuntimeError::InvalidSpec(format!(
                "process.env entry {var:?} contains a NUL byte"
            )));
        }
        if var.starts_with('=') || var.is_empty() {
            return Err(RuntimeError::InvalidSpec(format!(
                "process.env entry {var:?} has no variable name"
            )));
        }
    }
    Ok(())
}

/// Container ids become directory names: allow only what cannot traverse or confuse.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+'));
    if ok {
        Ok(())
    } else {
        Err(RuntimeError::InvalidId(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_escape_the_state_root_are_refused() {
        for bad in ["", ".", "..", "../x", "a/b", "a\0b", ".hidden", "sp ace"] {
            assert!(validate_id(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["abc", "a-b_c.d", "0123456789abcdef", "x+y"] {
            validate_id(good).unwrap();
        }
    }

    #[test]
    fn process_without_args_or_with_bad_env_is_refused() {
        let mut process = Process::default();
        process.set_args(Some(vec![]));
        assert!(validate_process(&process).is_err());
        process.set_args(Some(vec!["/bin/true".into()]));
        validate_process(&process).unwrap();
        process.set_env(Some(vec!["=novalue".into()]));
        let err = validate_process(&process).unwrap_err().to_string();
        assert!(err.contains("no variable name"), "{err}");
        process.set_env(Some(vec!["A=b\0c".into()]));
        assert!(validate_process(&process).is_err());
        process.set_env(None);
        process.set_cwd("relative".into());
        assert!(validate_process(&process).is_err());
    }
}
