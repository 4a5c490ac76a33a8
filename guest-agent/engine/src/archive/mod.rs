//! `docker cp`: container paths in and out as tar streams, on a container's root directory
//! (its mounted rootfs, passed by the caller).
//!
//! - `stat` answers `HEAD /containers/{id}/archive` (`X-Docker-Container-Path-Stat`);
//! - `open`/`get` answer `GET`: the path as a tar rooted at its base name;
//! - `put` answers `PUT`: a tar extracted into a directory of the container.
//!
//! Every path is resolved inside the root with openat2(RESOLVE_IN_ROOT) and everything after
//! that acts on fds (CVE-2018-15664: docker resolved the path, then used it by name, so a
//! container swapping a directory for a symlink to `/` in between made the daemon read or
//! write the host). A symlink in the container pointing at `/etc` means the container's
//! `/etc`; one pointing at `../../..` stops at the container root.

mod error;
mod gate;
mod get;
mod put;
mod resolve;
mod stat;
pub(crate) mod tree;
pub(crate) mod xattr;

#[cfg(test)]
mod test_fixture;
#[cfg(test)]
mod tests_root_get;
#[cfg(test)]
mod tests_root_put;
#[cfg(test)]
mod tests_root_stat;

pub use error::ArchiveError;
pub use get::{get, open, Source};
pub use put::put;
pub use stat::{go_file_mode, rfc3339_nanos, stat, PathStat};
