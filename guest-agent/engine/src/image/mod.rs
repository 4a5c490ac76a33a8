//! Images: the content store, layer unpacking, import and export.
