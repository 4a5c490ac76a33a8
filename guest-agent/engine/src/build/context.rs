//! The build context: the client's tar extracted into a private temporary directory by
//! the layer unpacker (names with `..` or absolute ones refused, every name resolved inside
//! the directory, symlinks never followed out of it), with a cap on its size; then the
//! `.dockerignore` patterns applied. Files are read from it through openat2
//! (RESOLVE_IN_ROOT), so a symlink in the context pointing at `/etc` means the context's
//! own `etc`.

use std::fs;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use berth_runtime::rootfs::safe_path::RootFs;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::BuildError;
use crate::image::layer::{self, Compression, Limits, WhiteoutMode};

/// The largest context accepted (uncompressed).
pub const MAX_CONTEXT: u64 = 4 << 30;
const MAX_ENTRIES: u64 = 1 << 20;

#[derive(Debug)]
pub struct Context {
    dir: tempfile::TempDir,
    root: RootFs,
}

impl Context {
    /// Extracts the tar `body` (plain, gzip or zstd) into a new directory under `tmp`.
    pub fn extract(tmp: &Path, mut body: impl Read) -> Result<Context, BuildError> {
        fs::create_dir_all(tmp).map_err(|e| BuildError::Context(e.to_string()))?;
        let dir = tempfile::Builder::new()
            .prefix("context-")
            .tempdir_in(tmp)
            .map_err(|e| BuildError::Context(e.to_string()))?;
        let mut magic = [0u8; 4];
        let mut n = 0;
        while n < magic.len() {
            match body.read(&mut magic[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(BuildError::Context(e.to_string())),
            }
        }
        if n > 0 {
            let compression = Compression::sniff(&magic[..n]);
            let limits = Limits {
                max_uncompressed: MAX_CONTEXT,
                max_entries: MAX_ENTRIES,
            };
            layer::unpack(
                (&magic[..n]).chain(body),
                compression,
                dir.path(),
                WhiteoutMode::Apply,
                &limits,
            )
            .map_err(|e| BuildError::Context(crate::container::lifecycle::chain(&e)))?;
        }
        let root = RootFs::open(dir.path()).map_err(|e| BuildError::Context(e.to_string()))?;
        Ok(Context { dir, root })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Reads a (small) file of the context, resolved inside it.
    pub fn read(&self, rel: &str, cap: u64) -> io::Result<Vec<u8>> {
        let fd = self.open(Path::new(rel), OFlag::O_RDONLY)?;
        let mut bytes = Vec::new();
        fs::File::from(fd).take(cap).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    pub fn open(&self, rel: &Path, flags: OFlag) -> io::Result<OwnedFd> {
        Ok(self
            .root
            .resolve(rel, flags | OFlag::O_CLOEXEC, Mode::empty())?)
    }

    /// Removes what `.dockerignore` excludes (the Dockerfile and .dockerignore stay, as
    /// docker sends them whatever the patterns say).
    pub fn apply_ignore(&self, dockerfile: &str) -> io::Result<()> {
        let Ok(text) = self.read(".dockerignore", 1 << 20) else {
            return Ok(());
        };
        let patterns = parse_ignore(&String::from_utf8_lossy(&text));
        if patterns.is_empty() {
            return Ok(());
        }
        let keep = [clean(dockerfile), ".dockerignore".to_string()];
        // Only real directories are entered (file_type does not follow symlinks) and only
        // this process writes here, so removing by path stays inside the context.
        let mut pending = vec![PathBuf::new()];
        while let Some(rel) = pending.pop() {
            for entry in fs::read_dir(self.path().join(&rel))? {
                let entry = entry?;
                let child = rel.join(entry.file_name());
                let text = child.to_string_lossy().into_owned();
                let is_dir = entry.file_type()?.is_dir();
                if ignored(&patterns, &text) && !keep.contains(&text) {
                    // An exception below an ignored directory needs the directory kept.
                    let exception_below = is_dir
                        && patterns
                            .iter()
                            .any(|p| p.exception && p.pattern.starts_with(&format!("{text}/")));
                    if !exception_below {
                        let path = self.path().join(&child);
                        if is_dir {
                            fs::remove_dir_all(&path)?;
                        } else {
                            fs::remove_file(&path)?;
                        }
                        continue;
                    }
                }
                if is_dir {
                    pending.push(child);
                }
            }
        }
        Ok(())
    }

    /// Context paths matching `pattern` (a path with glob characters, relative to the
    /// context root), sorted; a pattern without glob characters is returned as is.
    pub fn glob(&self, pattern: &str) -> io::Result<Vec<String>> {
        let pattern = clean(pattern);
        if !pattern.contains(['*', '?', '[']) {
            return Ok(vec![pattern]);
        }
        let parts: Vec<&str> = pattern.split('/').collect();
        let mut found = vec![String::new()];
        for (i, part) in parts.iter().enumerate() {
            let mut next = Vec::new();
            for base in &found {
                if !part.contains(['*', '?', '[']) {
                    next.push(join(base, part));
                    continue;
                }
                let dir = self.path().join(base);
                // Directories reached through symlinks are not searched.
                if !fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
                    continue;
                }
                for entry in fs::read_dir(&dir)? {
                    let name = entry?.file_name().to_string_lossy().into_owned();
                    if matches(part, &name) {
                        next.push(join(base, &name));
                    }
                }
            }
            found = next;
            if i + 1 < parts.len() {
                found.retain(|p| {
                    fs::symlink_metadata(self.path().join(p)).is_ok_and(|m| m.is_dir())
                });
            }
        }
        found.sort();
        Ok(found)
    }

    /// True when `rel` resolves to something inside the context.
    pub fn exists(&self, rel: &str) -> bool {
        self.open(Path::new(rel), OFlag::O_PATH).is_ok()
    }
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}

/// A context path cleaned: no leading `/`, `.` or `..` (clamped at the root).
pub fn clean(path: &str) -> String {
    berth_runtime::rootfs::safe_path::clean(Path::new(path))
        .to_string_lossy()
        .into_owned()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnorePattern {
    pub pattern: String,
    pub exception: bool,
}

pub fn parse_ignore(text: &str) -> Vec<IgnorePattern> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (exception, p) = match l.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, l),
            };
            IgnorePattern {
                pattern: clean(p),
                exception,
            }
        })
        .filter(|p| !p.pattern.is_empty())
        .collect()
}

/// Docker's rule: the last matching pattern decides; a pattern matching a parent matches
/// everything below it.
pub fn ignored(patterns: &[IgnorePattern], path: &str) -> bool {
    let mut out = false;
    for p in patterns {
        let hit = path_matches(&p.pattern, path)
            || Path::new(path)
                .ancestors()
                .skip(1)
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| path_matches(&p.pattern, &a.to_string_lossy()));
        if hit {
            out = !p.exception;
        }
    }
    out
}

/// A path pattern per component; `**` matches any number of components.
fn path_matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    match_parts(&pat, &parts)
}

fn match_parts(pat: &[&str], parts: &[&str]) -> bool {
    match pat.first() {
        None => parts.is_empty(),
        Some(&"**") => (0..=parts.len()).any(|i| match_parts(&pat[1..], &parts[i..])),
        Some(p) => !parts.is_empty() && matches(p, parts[0]) && match_parts(&pat[1..], &parts[1..]),
    }
}

/// One component against a glob: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`, `\` escapes.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| glob_at(&p[1..], &n[i..])),
        Some('?') => !n.is_empty() && glob_at(&p[1..], &n[1..]),
        Some('[') => {
            let Some(close) = p.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                return !n.is_empty() && n[0] == '[' && glob_at(&p[1..], &n[1..]);
            };
            if n.is_empty() {
                return false;
            }
            let mut class = &p[1..close];
            let negate = matches!(class.first(), Some('!' | '^'));
            if negate {
                class = &class[1..];
            }
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= n[0] && n[0] <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == n[0];
                    i += 1;
                }
            }
            hit != negate && glob_at(&p[close + 1..], &n[1..])
        }
        Some('\\') if p.len() > 1 => !n.is_empty() && n[0] == p[1] && glob_at(&p[2..], &n[1..]),
        Some(&c) => !n.is_empty() && n[0] == c && glob_at(&p[1..], &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.md"));
        assert!(matches("f?le[0-9]", "file7"));
        assert!(!matches("[!a]x", "ax"));
    }

    #[test]
    fn ignore_rules() {
        let p = parse_ignore("# c\n*.log\nbuild\n!build/keep\n**/secret\n");
        assert!(ignored(&p, "a.log"));
        assert!(!ignored(&p, "sub/a.log"));
        assert!(ignored(&p, "build/x"));
        assert!(!ignored(&p, "build/keep"));
        assert!(ignored(&p, "deep/down/secret"));
        assert!(!ignored(&p, "src/main.rs"));
    }
}
