use std::path::Path;

use berth_runtime::{Container, RuntimeError};

use crate::cli::DeleteArgs;

pub fn run(root: &Path, args: DeleteArgs) -> anyhow::Result<u8> {
    match Container::load(root, &args.id) {
        Ok(container) => container.delete(args.force)?,
        // `delete --force` of something already gone succeeds, as with runc.
        Err(RuntimeError::NotFound(_)) if args.force => {}
        Err(e) => return Err(e.into()),
    }
    Ok(0)
}
