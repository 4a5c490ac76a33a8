//! Images: the content store, layer unpacking, import and export.
pub mod export;
pub mod import;
pub mod layer;
pub mod layers;
pub mod reference;
pub mod store;
