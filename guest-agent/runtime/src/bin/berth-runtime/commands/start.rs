use std::path::Path;

use berth_runtime::Container;

use crate::cli::IdArg;

pub fn run(root: &Path, args: IdArg) -> anyhow::Result<u8> {
    Container::load(root, &args.id)?.start()?;
    Ok(0)
}
