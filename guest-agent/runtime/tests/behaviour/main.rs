//! Behaviour tests: what a process inside a container sees, and what the runtime's
//! commands report. Needs root (namespaces, mounts, cgroups); see `common` for the
//! harness and `BERTH_TEST_RUNTIME` for checking the expectations against runc.

#[path = "../common/mod.rs"]
mod common;

mod caps;
mod cgroups;
mod cli;
mod console;
mod devices;
mod errors;
mod exec;
mod fds;
mod fixture;
mod hooks;
mod lifecycle;
mod list_ps;
mod masked;
mod mounts;
mod namespaces;
mod process;
mod seccomp;
