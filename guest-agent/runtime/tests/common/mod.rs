//! Harness for the runtime's integration tests.
//!
//! Every test here needs root: it creates namespaces, mounts and cgroups through a
//! real OCI runtime. The runtime under test is the crate's `berth-runtime` binary,
//! or whatever `BERTH_TEST_RUNTIME` names (`runc`, `crun` or a path), so that each
//! expectation can first be checked against a trusted runtime:
//!
//! ```text
//! BERTH_TEST_RUNTIME=runc cargo test -p berth-runtime --test behaviour
//! ```
//!
//! Each test owns a [`Sandbox`]: a temp dir with the runtime's state root and one
//! or more [`Bundle`]s. Dropping the sandbox (also when the test panics) force-deletes
//! its containers, removes their cgroups, detaches stray mounts and removes the dir.

// Each test binary uses its own subset of the harness.
#![allow(dead_code)]

pub mod bundle;
pub mod host;
pub mod output;
pub mod runtime;
pub mod sandbox;
pub mod spec;

// Not every test binary uses both.
#[allow(unused_imports)]
pub use bundle::Bundle;
#[allow(unused_imports)]
pub use sandbox::Sandbox;
