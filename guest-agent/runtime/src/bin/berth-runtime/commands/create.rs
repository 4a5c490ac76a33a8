use std::path::Path;

use berth_runtime::{Container, ContainerBuilder};

use crate::cli::CreateArgs;

pub fn build(root: &Path, args: CreateArgs) -> anyhow::Result<Container> {
    Ok(ContainerBuilder::new(args.id, root)
        .bundle(args.bundle)
        .console_socket(args.console_socket)
        .pid_file(args.pid_file)
        .preserve_fds(args.preserve_fds)
        .create()?)
}

pub fn run(root: &Path, args: CreateArgs) -> anyhow::Result<u8> {
    build(root, args)?;
    Ok(0)
}
