//! Berth's container engine (`berth-engine`): images, containers, volumes, logs and exec,
//! on top of `berth-runtime`. Built issue by issue; see docs/engine.md.

pub mod archive;
pub mod build;
pub mod chunks;
pub mod container;
pub mod engine;
pub mod events;
pub mod image;
pub mod logs;
pub mod monitor;
pub mod network;
pub mod registry;
pub mod volume;
