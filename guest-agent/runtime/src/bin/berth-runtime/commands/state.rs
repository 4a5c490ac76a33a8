use std::path::Path;

use berth_runtime::Container;

use crate::cli::IdArg;

pub fn run(root: &Path, args: IdArg) -> anyhow::Result<u8> {
    let mut container = Container::load(root, &args.id)?;
    container.state.status = container.status();
    println!(
        "{}",
        serde_json::to_string_pretty(&container.state.to_oci_json())?
    );
    Ok(0)
}
