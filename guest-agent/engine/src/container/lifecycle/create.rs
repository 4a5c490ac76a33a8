//! `create`: a validated config for an image that exists and yields a command becomes a
//! container record. Everything that can be checked is checked before anything is written.

use super::{now, Ctx, Result};
use crate::container::config::ContainerConfig;
use crate::container::record::ContainerRecord;
use crate::container::spec;

pub fn create(ctx: &Ctx, name: Option<&str>, config: ContainerConfig) -> Result<ContainerRecord> {
    config.validate()?;
    let image = ctx.images.resolve(&config.image)?;
    // Merging now refuses an image and request that make no command ("No command
    // specified") at create, as docker does, instead of at start.
    spec::merge(&config, &ctx.images.config(&image)?)?;
    Ok(ctx
        .containers
        .create(name, image.config.as_ref(), config, now())?)
}
