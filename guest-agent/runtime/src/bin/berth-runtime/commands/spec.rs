use anyhow::Context;
use oci_spec::runtime::Spec;

use crate::cli::SpecArgs;

pub fn run(args: SpecArgs) -> anyhow::Result<u8> {
    let path = args.bundle.join("config.json");
    anyhow::ensure!(
        !path.exists(),
        "{} already exists; remove it first",
        path.display()
    );
    let spec = Spec::default();
    spec.save(&path)
        .with_context(|| format!("Cannot write {}", path.display()))?;
    Ok(0)
}
