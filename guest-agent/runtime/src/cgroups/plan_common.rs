//! Plan pieces whose files are the same on v1 and v2 apart from a suffix.

use oci_spec::runtime::LinuxResources;

use super::convert::{self, Invalid};
use super::fs::{Step, Write};
use super::CgroupError;

pub(crate) fn invalid(what: &str, reason: Invalid) -> CgroupError {
    CgroupError::InvalidValue {
        what: what.to_owned(),
        reason,
    }
}

/// `hugetlb.<size>.<suffix>` per limit, plus the reservation limit where the kernel has
/// one (the spec prefers reservations when supported).
pub(crate) fn hugepages(
    r: &LinuxResources,
    suffix: &str,
    to_value: fn(i64) -> Result<String, Invalid>,
    steps: &mut Vec<Step>,
) -> Result<(), CgroupError> {
    for limit in r.hugepage_limits().iter().flatten() {
        let what = format!("hugepageLimits[{}]", limit.page_size());
        let size = convert::hugepage_size(limit.page_size()).map_err(|e| invalid(&what, e))?;
        let value = to_value(limit.limit()).map_err(|e| invalid(&what, e))?;
        let file = format!("hugetlb.{size}.{suffix}");
        steps.push(Step::Set(Write::new(
            "hugetlb",
            &file,
            value.clone(),
            &what,
        )));
        let rsvd = format!("hugetlb.{size}.rsvd.{suffix}");
        steps.push(Step::IfPresent(Write::new("hugetlb", &rsvd, value, &what)));
    }
    Ok(())
}

/// One `rdma.max` line per device (same format on v1 and v2).
pub(crate) fn rdma(r: &LinuxResources, steps: &mut Vec<Step>) -> Result<(), CgroupError> {
    let mut devices: Vec<_> = r.rdma().iter().flatten().collect();
    // A stable order keeps plans reproducible (the spec's map has none).
    devices.sort_by(|a, b| a.0.cmp(b.0));
    for (device, limits) in devices {
        let what = format!("rdma[{device}]");
        let line = convert::rdma_line(device, limits.hca_handles(), limits.hca_objects())
            .map_err(|e| invalid(&what, e))?;
        if let Some(line) = line {
            steps.push(Step::Set(Write::new("rdma", "rdma.max", line, &what)));
        }
    }
    Ok(())
}
