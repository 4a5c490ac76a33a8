//! `berth-host`: everything on the user's side of the VM. It never links guest crates; it
//! speaks to the agent through [`berth_protocol`] over a [`transport::Transport`].
//!
//! - [`backend`]: a VM backend per OS behind one trait: QEMU on Linux, Virtualization.framework
//!   on macOS, Hyper-V on Windows.
//! - [`transport`]: vsock connections to the guest: AF_VSOCK, hybrid vsock over a Unix
//!   socket, and the macOS and Windows channels.
//! - [`state`]: where Berth keeps its files, and the VM lock.
//! - [`agent`]: the client of the agent's control service.
//! - [`vm`]: a VM as the CLI and the GUI see it: backend, config and agent together.
//! - [`settings`]: the user's settings (`settings.json`), edited by `berth config`.
//! - [`daemon`] (Unix): the per-user host daemon: boots or reattaches to the VM, serves the
//!   Docker socket, forwards published ports, answers the `berth` CLI.

pub mod agent;
pub mod backend;
#[cfg(unix)]
pub mod daemon;
pub mod logging;
pub mod settings;
pub mod state;
pub mod transport;
pub mod vm;
#[cfg(unix)]
pub mod volume_export;
