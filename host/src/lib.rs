//! `berth-host`: everything on the user's side of the VM. It never links guest crates; it
//! speaks to the agent through [`berth_protocol`] over a [`transport::Transport`].
//!
//! - [`backend`]: a VM backend per OS behind one trait: QEMU on Linux, Virtualization.framework
//!   on macOS, Hyper-V on Windows.
//! - [`transport`]: vsock connections to the guest: AF_VSOCK, hybrid vsock over a Unix
//!   socket, and the macOS and Windows channels.

pub mod backend;
pub mod transport;
