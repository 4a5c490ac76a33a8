//! `container_stats`: one [`StatsSample`] a second, computed from Docker's stats the way
//! `docker stats` does.

use bollard::models::{ContainerCpuStats, ContainerStatsResponse};
use bollard::query_parameters::StatsOptions;
use futures_util::StreamExt;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{State, Window};

use crate::docker;
use crate::error::CmdResult;
use crate::state::AppState;
use crate::streams::StreamId;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSample {
    pub cpu_percent: f64,
    pub memory_bytes: u64,
    pub memory_limit: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub block_read_bytes: u64,
    pub block_write_bytes: u64,
    pub pids: u64,
}

#[tauri::command]
pub async fn container_stats(
    window: Window,
    state: State<'_, AppState>,
    id: String,
    on_sample: Channel<StatsSample>,
) -> CmdResult<StreamId> {
    let docker = docker::connect(&state.dirs)?;
    docker.inspect_container(&id, None).await?;
    let stream_id = state.streams.next_id();
    state.streams.spawn(stream_id, window.label(), async move {
        let options = StatsOptions {
            stream: true,
            one_shot: false,
        };
        let mut stats = docker.stats(&id, Some(options));
        let mut previous: Option<ContainerCpuStats> = None;
        while let Some(Ok(raw)) = stats.next().await {
            let sample = sample(&raw, previous.as_ref());
            previous = raw.cpu_stats.clone();
            if on_sample.send(sample).is_err() {
                return;
            }
        }
    });
    Ok(stream_id)
}

/// One sample. The CPU share needs two readings: the engine's `precpu_stats`, or the
/// previous sample's when the engine sends none.
pub fn sample(s: &ContainerStatsResponse, previous: Option<&ContainerCpuStats>) -> StatsSample {
    let pre = s
        .precpu_stats
        .as_ref()
        .filter(|p| total(p) > 0)
        .or(previous);
    let memory = s.memory_stats.as_ref();
    let networks = s.networks.iter().flat_map(|n| n.values());
    let blkio = s
        .blkio_stats
        .as_ref()
        .and_then(|b| b.io_service_bytes_recursive.as_ref())
        .into_iter()
        .flatten();
    let (mut read, mut write) = (0u64, 0u64);
    for entry in blkio {
        match entry.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => read += entry.value.unwrap_or(0),
            Some("write") => write += entry.value.unwrap_or(0),
            _ => {}
        }
    }
    let (mut rx, mut tx) = (0u64, 0u64);
    for n in networks {
        rx += n.rx_bytes.unwrap_or(0);
        tx += n.tx_bytes.unwrap_or(0);
    }
    StatsSample {
        cpu_percent: match (s.cpu_stats.as_ref(), pre) {
            (Some(cur), Some(pre)) => cpu_percent(cur, pre),
            _ => 0.0,
        },
        memory_bytes: memory.map(memory_used).unwrap_or(0),
        memory_limit: memory.and_then(|m| m.limit).unwrap_or(0),
        net_rx_bytes: rx,
        net_tx_bytes: tx,
        block_read_bytes: read,
        block_write_bytes: write,
        pids: s.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
    }
}

fn total(cpu: &ContainerCpuStats) -> u64 {
    cpu.cpu_usage
        .as_ref()
        .and_then(|u| u.total_usage)
        .unwrap_or(0)
}

/// `docker stats`' formula: the container's share of the host's CPU time between the
/// two readings, times the CPUs online (100% = one CPU busy).
fn cpu_percent(cur: &ContainerCpuStats, pre: &ContainerCpuStats) -> f64 {
    let cpu_delta = total(cur).saturating_sub(total(pre)) as f64;
    let system_delta = cur
        .system_cpu_usage
        .unwrap_or(0)
        .saturating_sub(pre.system_cpu_usage.unwrap_or(0)) as f64;
    let cpus = cur
        .online_cpus
        .filter(|n| *n > 0)
        .map(u64::from)
        .or_else(|| {
            cur.cpu_usage
                .as_ref()
                .and_then(|u| u.percpu_usage.as_ref())
                .map(|p| p.len() as u64)
        })
        .unwrap_or(1) as f64;
    if system_delta <= 0.0 || cpu_delta <= 0.0 {
        return 0.0;
    }
    cpu_delta / system_delta * cpus * 100.0
}

/// Memory in use less the page cache, as `docker stats` shows it (cgroup v2 reports
/// `inactive_file`, v1 `total_inactive_file`).
fn memory_used(m: &bollard::models::ContainerMemoryStats) -> u64 {
    let usage = m.usage.unwrap_or(0);
    let cache = m
        .stats
        .as_ref()
        .and_then(|s| {
            s.get("inactive_file")
                .or_else(|| s.get("total_inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    if cache < usage {
        usage - cache
    } else {
        usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(json: serde_json::Value) -> ContainerStatsResponse {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_sample_is_computed_as_docker_stats_does() {
        let s = stats(serde_json::json!({
            "cpu_stats": {"cpu_usage": {"total_usage": 300_000_000u64}, "system_cpu_usage": 4_000_000_000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 100_000_000u64}, "system_cpu_usage": 2_000_000_000u64},
            "memory_stats": {"usage": 10_000, "limit": 1_000_000, "stats": {"inactive_file": 4_000}},
            "networks": {"eth0": {"rx_bytes": 100, "tx_bytes": 50}, "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"op": "Read", "value": 7}, {"op": "write", "value": 9}, {"op": "Total", "value": 16}
            ]},
            "pids_stats": {"current": 3}
        }));
        let got = sample(&s, None);
        assert_eq!(
            got,
            StatsSample {
                // 0.2 s of 2 s of system time, on 2 CPUs.
                cpu_percent: 20.0,
                memory_bytes: 6_000,
                memory_limit: 1_000_000,
                net_rx_bytes: 101,
                net_tx_bytes: 52,
                block_read_bytes: 7,
                block_write_bytes: 9,
                pids: 3,
            }
        );
        let json = serde_json::to_value(&got).unwrap();
        assert_eq!(json["cpuPercent"], 20.0);
        assert_eq!(json["netRxBytes"], 101);
    }

    #[test]
    fn without_precpu_the_previous_sample_is_used_and_empty_stats_are_zero() {
        let cur = stats(serde_json::json!({
            "cpu_stats": {"cpu_usage": {"total_usage": 150, "percpu_usage": [1, 2, 3, 4]}, "system_cpu_usage": 1_000}
        }));
        assert_eq!(sample(&cur, None).cpu_percent, 0.0);
        let pre: ContainerCpuStats = serde_json::from_value(
            serde_json::json!({"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 800}),
        )
        .unwrap();
        // 50 of 200 on 4 CPUs.
        assert_eq!(sample(&cur, Some(&pre)).cpu_percent, 100.0);
        let empty = sample(&stats(serde_json::json!({})), None);
        assert_eq!(
            (empty.memory_bytes, empty.pids, empty.cpu_percent),
            (0, 0, 0.0)
        );
    }
}
