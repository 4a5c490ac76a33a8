use std::path::Path;

use berth_runtime::container::parse_signal;
use berth_runtime::Container;

use crate::cli::KillArgs;

pub fn run(root: &Path, args: KillArgs) -> anyhow::Result<u8> {
    let signal = parse_signal(&args.signal)?;
    Container::load(root, &args.id)?.kill(signal, args.all)?;
    Ok(0)
}
