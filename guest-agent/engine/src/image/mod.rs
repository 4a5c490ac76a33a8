//! Images: the content store, layer unpacking, import and export.
pub mod commit;
pub mod export;
pub mod gc;
pub mod import;
pub mod layer;
pub mod layers;
pub mod reference;
mod reference_fast;
pub mod store;

#[cfg(test)]
mod tests_root_diskfull;
