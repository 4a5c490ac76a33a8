//! `linux.resources` as cgroup v2 file writes. Pure: the v2 backend executes the plan.
//!
//! Devices are not here: v2 has no devices files, so the rules become an eBPF program
//! attached to the cgroup (`v2_devices`), enforced even against a process holding
//! CAP_MKNOD that makes its own device nodes.

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

use super::convert;
use super::fs::{Step, Write};
use super::plan_common::{hugepages, invalid, rdma};
use super::CgroupError;

fn unsupported(what: &str) -> CgroupError {
    CgroupError::Unsupported {
        what: what.to_owned(),
        version: "v2",
    }
}

/// Every write `resources` asks for; `unified` entries come last so they can override.
pub(crate) fn plan(r: &LinuxResources) -> Result<Vec<Step>, CgroupError> {
    let mut steps = Vec::new();
    if let Some(memory) = r.memory() {
        memory_steps(memory, &mut steps)?;
    }
    if let Some(cpu) = r.cpu() {
        cpu_steps(cpu, &mut steps)?;
    }
    if let Some(pids) = r.pids() {
        let value = convert::pids_max(pids.limit());
        steps.push(Step::Set(Write::new(
            "pids",
            "pids.max",
            value,
            "pids.limit",
        )));
    }
    if let Some(block_io) = r.block_io() {
        block_io_steps(block_io, &mut steps)?;
    }
    hugepages(r, "max", convert::memory_v2, &mut steps)?;
    if let Some(network) = r.network() {
        if network.class_id().is_some() || network.priorities().is_some() {
            return Err(unsupported("network"));
        }
    }
    rdma(r, &mut steps)?;
    unified_steps(r, &mut steps)?;
    Ok(steps)
}

fn memory_steps(m: &LinuxMemory, steps: &mut Vec<Step>) -> Result<(), CgroupError> {
    let mut set = |file, value: String, what| {
        steps.push(Step::Set(Write::new("memory", file, value, what)));
    };
    let bytes = |value: i64, what: &str| convert::memory_v2(value).map_err(|e| invalid(what, e));
    if let Some(limit) = m.limit() {
        set("memory.max", bytes(limit, "memory.limit")?, "memory.limit");
    }
    let swap = convert::swap_v2(m.limit(), m.swap()).map_err(|e| invalid("memory.swap", e))?;
    if let Some(swap) = swap {
        set("memory.swap.max", swap, "memory.swap");
    }
    if let Some(reservation) = m.reservation() {
        let what = "memory.reservation";
        set("memory.low", bytes(reservation, what)?, what);
    }
    if m.kernel().is_some() {
        tracing::debug!("ignoring memory.kernel: cgroup v2 has no kernel memory limit");
    }
    if m.kernel_tcp().is_some() {
        return Err(unsupported("memory.kernelTCP"));
    }
    if m.swappiness().is_some() {
        return Err(unsupported("memory.swappiness"));
    }
    if m.disable_oom_killer() == Some(true) {
        return Err(unsupported("memory.disableOOMKiller"));
    }
    Ok(())
}

fn cpu_steps(c: &LinuxCpu, steps: &mut Vec<Step>) -> Result<(), CgroupError> {
    let rt_period = c.realtime_period().is_some_and(|p| p != 0);
    let rt_runtime = c.realtime_runtime().is_some_and(|r| r != 0);
    if rt_period || rt_runtime {
        // The v2 cpu controller only takes realtime tasks when no budget is configured.
        return Err(unsupported("cpu.realtimePeriod/realtimeRuntime"));
    }
    let mut set = |controller, file, value: String, what| {
        steps.push(Step::Set(Write::new(controller, file, value, what)));
    };
    if let Some(weight) = c.shares().and_then(convert::shares_to_weight) {
        set("cpu", "cpu.weight", weight.to_string(), "cpu.shares");
    }
    if let Some(max) = convert::cpu_max(c.quota(), c.period()) {
        set("cpu", "cpu.max", max, "cpu.quota/period");
    }
    if let Some(burst) = c.burst() {
        set("cpu", "cpu.max.burst", burst.to_string(), "cpu.burst");
    }
    if let Some(idle) = c.idle() {
        set("cpu", "cpu.idle", idle.to_string(), "cpu.idle");
    }
    if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
        set("cpuset", "cpuset.cpus", cpus.to_owned(), "cpu.cpus");
    }
    if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
        set("cpuset", "cpuset.mems", mems.to_owned(), "cpu.mems");
    }
    Ok(())
}

/// BFQ's io.bfq.weight takes the v1 range as is; io.weight (iocost) takes [1, 10000].
fn weight_alternatives(target: &str, weight: u16, what: &str) -> Step {
    let converted = convert::blkio_to_io_weight(weight);
    Step::FirstPresent(vec![
        Write::new("io", "io.bfq.weight", format!("{target} {weight}"), what),
        Write::new("io", "io.weight", format!("{target} {converted}"), what),
    ])
}

fn block_io_steps(b: &LinuxBlockIo, steps: &mut Vec<Step>) -> Result<(), CgroupError> {
    if let Some(weight) = b.weight() {
        steps.push(weight_alternatives("default", weight, "blockIO.weight"));
    }
    if b.leaf_weight().is_some() {
        return Err(unsupported("blockIO.leafWeight"));
    }
    for device in b.weight_device().iter().flatten() {
        let what = "blockIO.weightDevice";
        let number =
            convert::device_number(device.major(), device.minor()).map_err(|e| invalid(what, e))?;
        if let Some(weight) = device.weight() {
            steps.push(weight_alternatives(&number, weight, what));
        }
        if device.leaf_weight().is_some() {
            return Err(unsupported("blockIO.weightDevice.leafWeight"));
        }
    }
    let throttles = [
        (
            b.throttle_read_bps_device(),
            "rbps",
            "blockIO.throttleReadBpsDevice",
        ),
        (
            b.throttle_write_bps_device(),
            "wbps",
            "blockIO.throttleWriteBpsDevice",
        ),
        (
            b.throttle_read_iops_device(),
            "riops",
            "blockIO.throttleReadIOPSDevice",
        ),
        (
            b.throttle_write_iops_device(),
            "wiops",
            "blockIO.throttleWriteIOPSDevice",
        ),
    ];
    for (devices, key, what) in throttles {
        for device in devices.iter().flatten() {
            let number = convert::device_number(device.major(), device.minor())
                .map_err(|e| invalid(what, e))?;
            // Rate 0 means "no limit" in the spec; io.max spells that "max".
            let rate = match device.rate() {
                0 => "max".to_owned(),
                rate => rate.to_string(),
            };
            let value = format!("{number} {key}={rate}");
            steps.push(Step::Set(Write::new("io", "io.max", value, what)));
        }
    }
    Ok(())
}

fn unified_steps(r: &LinuxResources, steps: &mut Vec<Step>) -> Result<(), CgroupError> {
    let mut entries: Vec<_> = r.unified().iter().flatten().collect();
    entries.sort();
    for (key, value) in entries {
        let what = format!("unified[{key}]");
        let file = convert::unified_key(key).map_err(|e| invalid(&what, e))?;
        // The controller is the file's prefix; it only selects a v1 hierarchy, unused here.
        steps.push(Step::Set(Write::new("unified", file, value.clone(), &what)));
    }
    Ok(())
}
