//! The init `--init` runs as the container's pid 1 (reaping zombies, forwarding signals):
//! a STATIC binary, because it is bind-mounted into images that may have no libc at all.
//! Docker ships tini as `docker-init`; Berth uses Debian's `tini-static` (installed by
//! scripts/setup and shipped in the VM image).

use std::path::PathBuf;

/// Where an init is looked for, first match wins: `BERTH_INIT`, a `berth-init` beside
/// the running program, Debian's tini-static, docker's docker-init.
pub fn find() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name("berth-init"));
    let candidates = std::env::var_os("BERTH_INIT")
        .map(PathBuf::from)
        .into_iter()
        .chain(beside)
        .chain(["/usr/bin/tini-static", "/usr/libexec/docker/docker-init"].map(PathBuf::from));
    candidates.into_iter().find(|path| path.is_file())
}
