//! The five capability sets. Bounding is dropped while we still hold CAP_SETPCAP (before
//! changing uid); the others are set after the uid change, which KEEPCAPS survives.

use caps::{CapSet, Capability as Cap, CapsHashSet};
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

use crate::error::{Result, RuntimeError};

/// Spec capability names that this kernel does not know are skipped, as runc does: a
/// profile written for a newer kernel still runs.
fn to_caps(set: &Option<Capabilities>) -> CapsHashSet {
    let supported = caps::runtime::thread_all_supported();
    set.iter()
        .flatten()
        .filter_map(|c| format!("CAP_{c}").parse::<Cap>().ok())
        .filter(|c| supported.contains(c))
        .collect()
}

/// A capabilities object with every set empty (the type's Default is not empty).
pub fn none() -> LinuxCapabilities {
    let mut caps = LinuxCapabilities::default();
    caps.set_bounding(None);
    caps.set_effective(None);
    caps.set_inheritable(None);
    caps.set_permitted(None);
    caps.set_ambient(None);
    caps
}

fn caps_error(what: &str, e: caps::errors::CapsError) -> RuntimeError {
    RuntimeError::Setup(format!("cannot set the {what} capability set: {e}"))
}

pub fn drop_bounding(spec: &LinuxCapabilities) -> Result<()> {
    let keep = to_caps(spec.bounding());
    for cap in caps::runtime::thread_all_supported() {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap).map_err(|e| caps_error("bounding", e))?;
        }
    }
    Ok(())
}

pub fn set_sets(spec: &LinuxCapabilities) -> Result<()> {
    let permitted = to_caps(spec.permitted());
    let effective = to_caps(spec.effective());
    let inheritable = to_caps(spec.inheritable());
    let ambient = to_caps(spec.ambient());
    if let Some(c) = effective.difference(&permitted).next() {
        return Err(RuntimeError::InvalidSpec(format!(
            "capability {c} is effective but not permitted"
        )));
    }
    // capset(2) wants effective within permitted at every step, and inheritable within
    // the old inheritable+permitted: set inheritable while permitted is still whole, then
    // shrink effective, then permitted.
    caps::set(None, CapSet::Inheritable, &inheritable).map_err(|e| caps_error("inheritable", e))?;
    caps::set(None, CapSet::Effective, &effective).map_err(|e| caps_error("effective", e))?;
    caps::set(None, CapSet::Permitted, &permitted).map_err(|e| caps_error("permitted", e))?;
    caps::clear(None, CapSet::Ambient).map_err(|e| caps_error("ambient", e))?;
    for cap in ambient {
        // The kernel only keeps an ambient capability that is permitted and inheritable;
        // like runc and crun, skip the others (specs from `runc spec` list some).
        if !permitted.contains(&cap) || !inheritable.contains(&cap) {
            tracing::debug!("ambient capability {cap} skipped: not permitted and inheritable");
            continue;
        }
        caps::raise(None, CapSet::Ambient, cap).map_err(|e| caps_error("ambient", e))?;
    }
    Ok(())
}
