//! `linux.resources` as cgroup v1 file writes. Pure: the v1 backend executes the plan.

use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxDeviceCgroup, LinuxMemory, LinuxNetwork, LinuxResources,
    LinuxThrottleDevice,
};

use super::convert;
use super::fs::{Step, Write};
use super::plan_common::{hugepages, invalid, rdma};
use super::CgroupError;

/// Every write `resources` asks for, in an order the kernel accepts.
pub(crate) fn plan(r: &LinuxResources) -> Result<Vec<Step>, CgroupError> {
    if r.unified().as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(CgroupError::Unsupported {
            what: "unified".to_owned(),
            version: "v1",
        });
    }
    let mut steps = Vec::new();
    if let Some(memory) = r.memory() {
        memory_steps(memory, &mut steps)?;
    }
    if let Some(cpu) = r.cpu() {
        cpu_steps(cpu, &mut steps);
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
    if let Some(devices) = r.devices() {
        device_steps(devices, &mut steps)?;
    }
    hugepages(r, "limit_in_bytes", convert::memory_v1, &mut steps)?;
    if let Some(network) = r.network() {
        network_steps(network, &mut steps);
    }
    rdma(r, &mut steps)?;
    Ok(steps)
}

fn memory_steps(m: &LinuxMemory, steps: &mut Vec<Step>) -> Result<(), CgroupError> {
    let bytes = |value: i64, what: &str| convert::memory_v1(value).map_err(|e| invalid(what, e));
    let write = |file, value, what| Write::new("memory", file, value, what);
    let limit = m
        .limit()
        .map(|v| bytes(v, "memory.limit"))
        .transpose()?
        .map(|v| write("memory.limit_in_bytes", v, "memory.limit"));
    // Swap 0 means "unset", as in runc.
    let swap = m
        .swap()
        .filter(|s| *s != 0)
        .map(|v| bytes(v, "memory.swap"))
        .transpose()?
        .map(|v| write("memory.memsw.limit_in_bytes", v, "memory.swap"));
    match (limit, swap) {
        (Some(limit), Some(swap)) => steps.push(Step::EitherOrder(limit, swap)),
        (one, other) => steps.extend(one.or(other).map(Step::Set)),
    }
    if let Some(v) = m.reservation() {
        let v = bytes(v, "memory.reservation")?;
        let w = write("memory.soft_limit_in_bytes", v, "memory.reservation");
        steps.push(Step::Set(w));
    }
    if m.kernel().is_some() {
        // Kernel memory limits are deprecated and fail on recent kernels; runc ignores them.
        tracing::debug!("ignoring memory.kernel: kernel memory limits are deprecated");
    }
    if let Some(v) = m.kernel_tcp() {
        let v = bytes(v, "memory.kernelTCP")?;
        let w = write("memory.kmem.tcp.limit_in_bytes", v, "memory.kernelTCP");
        steps.push(Step::Set(w));
    }
    if let Some(v) = m.swappiness() {
        if v > 100 {
            return Err(invalid("memory.swappiness", format!("{v} is above 100")));
        }
        let w = write("memory.swappiness", v.to_string(), "memory.swappiness");
        steps.push(Step::Set(w));
    }
    if m.disable_oom_killer() == Some(true) {
        let w = write(
            "memory.oom_control",
            "1".to_owned(),
            "memory.disableOOMKiller",
        );
        steps.push(Step::Set(w));
    }
    Ok(())
}

fn cpu_steps(c: &LinuxCpu, steps: &mut Vec<Step>) {
    let mut set = |controller, file, value: String, what| {
        steps.push(Step::Set(Write::new(controller, file, value, what)));
    };
    if let Some(shares) = c.shares().filter(|s| *s != 0) {
        set("cpu", "cpu.shares", shares.to_string(), "cpu.shares");
    }
    // The period first: the kernel checks a quota against the current period.
    if let Some(period) = c.period().filter(|p| *p != 0) {
        set("cpu", "cpu.cfs_period_us", period.to_string(), "cpu.period");
    }
    if let Some(quota) = c.quota().filter(|q| *q != 0) {
        let quota = if quota < 0 { -1 } else { quota };
        set("cpu", "cpu.cfs_quota_us", quota.to_string(), "cpu.quota");
    }
    if let Some(burst) = c.burst() {
        set("cpu", "cpu.cfs_burst_us", burst.to_string(), "cpu.burst");
    }
    if let Some(period) = c.realtime_period().filter(|p| *p != 0) {
        let what = "cpu.realtimePeriod";
        set("cpu", "cpu.rt_period_us", period.to_string(), what);
    }
    if let Some(runtime) = c.realtime_runtime().filter(|r| *r != 0) {
        let what = "cpu.realtimeRuntime";
        set("cpu", "cpu.rt_runtime_us", runtime.to_string(), what);
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
}

fn block_io_steps(b: &LinuxBlockIo, steps: &mut Vec<Step>) -> Result<(), CgroupError> {
    let blkio = |file: &str, value: String, what: &str| Write::new("blkio", file, value, what);
    if let Some(weight) = b.weight() {
        // CFQ's blkio.weight left with kernel 5.0; BFQ offers blkio.bfq.weight instead.
        let what = "blockIO.weight";
        let alternatives = ["blkio.weight", "blkio.bfq.weight"]
            .map(|file| blkio(file, weight.to_string(), what))
            .to_vec();
        steps.push(Step::FirstPresent(alternatives));
    }
    if let Some(weight) = b.leaf_weight() {
        let what = "blockIO.leafWeight";
        steps.push(Step::Set(blkio(
            "blkio.leaf_weight",
            weight.to_string(),
            what,
        )));
    }
    for device in b.weight_device().iter().flatten() {
        let number = convert::device_number(device.major(), device.minor())
            .map_err(|e| invalid("blockIO.weightDevice", e))?;
        if let Some(weight) = device.weight() {
            let what = "blockIO.weightDevice";
            let alternatives = ["blkio.weight_device", "blkio.bfq.weight_device"]
                .map(|file| blkio(file, format!("{number} {weight}"), what))
                .to_vec();
            steps.push(Step::FirstPresent(alternatives));
        }
        if let Some(weight) = device.leaf_weight() {
            let (file, what) = (
                "blkio.leaf_weight_device",
                "blockIO.weightDevice.leafWeight",
            );
            steps.push(Step::Set(blkio(file, format!("{number} {weight}"), what)));
        }
    }
    let throttles: [(&Option<Vec<LinuxThrottleDevice>>, &str, &str); 4] = [
        (
            b.throttle_read_bps_device(),
            "read_bps_device",
            "blockIO.throttleReadBpsDevice",
        ),
        (
            b.throttle_write_bps_device(),
            "write_bps_device",
            "blockIO.throttleWriteBpsDevice",
        ),
        (
            b.throttle_read_iops_device(),
            "read_iops_device",
            "blockIO.throttleReadIOPSDevice",
        ),
        (
            b.throttle_write_iops_device(),
            "write_iops_device",
            "blockIO.throttleWriteIOPSDevice",
        ),
    ];
    for (devices, suffix, what) in throttles {
        let file = format!("blkio.throttle.{suffix}");
        for device in devices.iter().flatten() {
            let number = convert::device_number(device.major(), device.minor())
                .map_err(|e| invalid(what, e))?;
            let value = format!("{number} {}", device.rate());
            steps.push(Step::Set(blkio(&file, value, what)));
        }
    }
    Ok(())
}

/// Deny everything, then replay the spec's rules in order, so the result is exactly the
/// spec's allowlist whatever the parent allowed.
fn device_steps(rules: &[LinuxDeviceCgroup], steps: &mut Vec<Step>) -> Result<(), CgroupError> {
    let what = "devices";
    steps.push(Step::Set(Write::new("devices", "devices.deny", "a", what)));
    for rule in rules {
        let line = convert::device_rule(rule).map_err(|e| invalid(what, e))?;
        let file = if rule.allow() {
            "devices.allow"
        } else {
            "devices.deny"
        };
        steps.push(Step::Set(Write::new("devices", file, line, what)));
    }
    Ok(())
}

fn network_steps(n: &LinuxNetwork, steps: &mut Vec<Step>) {
    if let Some(class_id) = n.class_id() {
        let w = Write::new(
            "net_cls",
            "net_cls.classid",
            class_id.to_string(),
            "network.classID",
        );
        steps.push(Step::Set(w));
    }
    for p in n.priorities().iter().flatten() {
        let value = format!("{} {}", p.name(), p.priority());
        let w = Write::new(
            "net_prio",
            "net_prio.ifpriomap",
            value,
            "network.priorities",
        );
        steps.push(Step::Set(w));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan_of(value: serde_json::Value) -> Result<Vec<Step>, CgroupError> {
        plan(&serde_json::from_value(value).expect("valid resources"))
    }

    /// (file, value) of every Set step, in order.
    fn sets(steps: &[Step]) -> Vec<(String, String)> {
        let pairs = steps.iter().filter_map(|s| match s {
            Step::Set(w) => Some((w.file.clone(), w.value.clone())),
            _ => None,
        });
        pairs.collect()
    }

    #[test]
    fn memory_and_swap_are_written_as_a_pair() {
        let steps = plan_of(json!({"memory": {"limit": 100, "swap": 200}})).unwrap();
        let [Step::EitherOrder(limit, swap)] = steps.as_slice() else {
            panic!("{steps:?}");
        };
        assert_eq!(
            (limit.file.as_str(), limit.value.as_str()),
            ("memory.limit_in_bytes", "100")
        );
        assert_eq!(
            (swap.file.as_str(), swap.value.as_str()),
            ("memory.memsw.limit_in_bytes", "200")
        );
    }

    #[test]
    fn period_precedes_quota_and_devices_start_denied() {
        let steps = plan_of(json!({
            "cpu": {"quota": 20000, "period": 50000},
            "devices": [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
        }))
        .unwrap();
        let expected = [
            ("cpu.cfs_period_us", "50000"),
            ("cpu.cfs_quota_us", "20000"),
            ("devices.deny", "a"),
            ("devices.allow", "c 1:3 rw"),
        ]
        .map(|(f, v)| (f.to_owned(), v.to_owned()));
        assert_eq!(sets(&steps), expected);
    }

    #[test]
    fn unified_and_bad_values_are_refused() {
        let unified = plan_of(json!({"unified": {"memory.high": "1"}})).unwrap_err();
        assert!(matches!(unified, CgroupError::Unsupported { .. }));
        let swappiness = plan_of(json!({"memory": {"swappiness": 101}})).unwrap_err();
        assert!(swappiness.to_string().contains("memory.swappiness"));
        let fifo = plan_of(json!({"devices": [{"allow": true, "type": "p"}]})).unwrap_err();
        assert!(matches!(fifo, CgroupError::InvalidValue { .. }));
    }
}
