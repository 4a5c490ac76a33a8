//! Berth's OCI runtime: a library with a builder API (used by the engine) and the
//! runc-compatible `berth-runtime` binary. See DESIGN.md for where it sits.

pub mod cgroups;
pub mod console;
pub mod container;
pub mod error;
pub mod hooks;
pub mod init;
pub mod namespaces;
pub mod process;
pub mod rootfs;
pub mod sealed;
pub mod seccomp;
pub mod spawn;
pub mod spec;
pub mod state;
pub mod sync;
pub mod sysctl;

pub use container::{Container, ContainerBuilder, ExecOptions, ExecOutcome, DEFAULT_ROOT};
pub use error::{Result, RuntimeError};
pub use state::{ContainerState, Status};
