use std::path::Path;

use berth_runtime::Container;

use crate::cli::IdArg;

pub fn pause(root: &Path, args: IdArg) -> anyhow::Result<u8> {
    Container::load(root, &args.id)?.pause()?;
    Ok(0)
}

pub fn resume(root: &Path, args: IdArg) -> anyhow::Result<u8> {
    Container::load(root, &args.id)?.resume()?;
    Ok(0)
}
