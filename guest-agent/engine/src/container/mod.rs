//! Containers: what they are asked to be, and how that becomes an OCI runtime spec.

pub mod changes;
pub mod config;
pub mod etc_files;
pub mod init_binary;
pub mod lifecycle;
pub mod rootfs;
pub mod spec;
pub mod user;

pub mod names;
pub mod prepare;
pub mod record;
pub mod store;
#[cfg(test)]
mod tests_root_prepare;
