//! `GET /containers/{id}/stats`: samples in docker's shape, one a second while streaming.
//! Each carries the previous one's CPU numbers (`precpu_stats`) so the client computes
//! CPU% as (container delta / host delta) x CPUs. Without `stream`, two samples are taken
//! a moment apart, unless `one-shot` asks for a single one (then `precpu_stats` is empty).
//! A container that is not running answers zeros, as docker does.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use berth_engine::engine::{Engine, ErrorKind, Stats};
use berth_engine::logs::format_rfc3339_nano;
use bollard_stubs::models::{
    ContainerBlkioStatEntry, ContainerBlkioStats, ContainerCpuStats, ContainerCpuUsage,
    ContainerMemoryStats, ContainerNetworkStats, ContainerPidsStats, ContainerStatsResponse,
    ContainerThrottlingData,
};
use serde::Deserialize;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{docker_bool, Query};
use crate::api::state::AppState;
use crate::api::stream;

const INTERVAL: Duration = Duration::from_secs(1);
/// Between the two samples of a non-streaming answer.
const SINGLE_INTERVAL: Duration = Duration::from_millis(500);
/// docker's zero time, for a container that does not run.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    #[serde(default = "yes", deserialize_with = "docker_bool")]
    stream: bool,
    #[serde(rename = "one-shot", default, deserialize_with = "docker_bool")]
    one_shot: bool,
}

/// One reading: the container's numbers, the host's CPU time, and when.
#[derive(Debug, Clone)]
struct Sample {
    stats: Option<Stats>,
    system_ns: u64,
    at: SystemTime,
}

pub async fn stats(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(query): Query<StatsQuery>,
) -> ApiResult<Response> {
    let (record, _) = state
        .run(move |engine| Ok(engine.inspect(&reference)?))
        .await?;
    let (id, name) = (record.id, format!("/{}", record.name));
    let engine = state.engine.clone();
    if !query.stream {
        let one_shot = query.one_shot;
        let answer = state
            .run(move |engine| {
                let first = sample(engine, &id)?;
                if one_shot || first.stats.is_none() {
                    return Ok(response(&id, &name, &first, None));
                }
                std::thread::sleep(SINGLE_INTERVAL);
                let second = sample(engine, &id)?;
                Ok(response(&id, &name, &second, Some(&first)))
            })
            .await?;
        return Ok(axum::Json(answer).into_response());
    }
    let body = stream::blocking(move |tx| {
        let mut previous: Option<Sample> = None;
        loop {
            let Ok(current) = sample(&engine, &id) else {
                return;
            };
            let line = stream::json_line(&response(&id, &name, &current, previous.as_ref()));
            if tx.blocking_send(line).is_err() || current.stats.is_none() {
                return;
            }
            previous = Some(current);
            std::thread::sleep(INTERVAL);
        }
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn sample(engine: &Engine, id: &str) -> ApiResult<Sample> {
    let stats = match engine.stats(id) {
        Ok(stats) => Some(stats),
        Err(e) if e.kind() == ErrorKind::Conflict => None,
        Err(e) => return Err(ApiError::from_kind(e.kind(), crate::api::error::chain(&e))),
    };
    Ok(Sample {
        stats,
        system_ns: system_cpu_ns().unwrap_or(0),
        at: SystemTime::now(),
    })
}

fn cpu_stats(sample: &Sample) -> ContainerCpuStats {
    let Some(stats) = &sample.stats else {
        return ContainerCpuStats::default();
    };
    ContainerCpuStats {
        cpu_usage: Some(ContainerCpuUsage {
            total_usage: Some(stats.cpu_usage_ns),
            percpu_usage: None,
            usage_in_kernelmode: Some(0),
            usage_in_usermode: Some(0),
        }),
        system_cpu_usage: Some(sample.system_ns),
        online_cpus: Some(online_cpus()),
        throttling_data: Some(ContainerThrottlingData {
            periods: Some(0),
            throttled_periods: Some(0),
            throttled_time: Some(0),
        }),
    }
}

fn response(
    id: &str,
    name: &str,
    current: &Sample,
    previous: Option<&Sample>,
) -> ContainerStatsResponse {
    let running = current.stats.is_some();
    let read = match running {
        true => format_rfc3339_nano(current.at),
        false => ZERO_TIME.to_string(),
    };
    let preread = match previous.filter(|p| p.stats.is_some()) {
        Some(p) => format_rfc3339_nano(p.at),
        None => ZERO_TIME.to_string(),
    };
    let mut response = ContainerStatsResponse {
        id: Some(id.to_string()),
        name: Some(name.to_string()),
        os_type: Some("linux".into()),
        read: Some(read),
        preread: Some(preread),
        cpu_stats: Some(cpu_stats(current)),
        precpu_stats: Some(previous.map(cpu_stats).unwrap_or_default()),
        memory_stats: Some(ContainerMemoryStats::default()),
        pids_stats: Some(ContainerPidsStats::default()),
        blkio_stats: Some(ContainerBlkioStats::default()),
        num_procs: Some(0),
        ..Default::default()
    };
    let Some(stats) = &current.stats else {
        return response;
    };
    response.memory_stats = Some(ContainerMemoryStats {
        usage: Some(stats.memory_usage),
        limit: stats.memory_limit.or_else(host_memory),
        stats: Some(HashMap::new()),
        ..Default::default()
    });
    response.pids_stats = Some(ContainerPidsStats {
        current: Some(stats.pids),
        limit: None,
    });
    let entry = |op: &str, value| ContainerBlkioStatEntry {
        major: Some(0),
        minor: Some(0),
        op: Some(op.to_string()),
        value: Some(value),
    };
    response.blkio_stats = Some(ContainerBlkioStats {
        io_service_bytes_recursive: Some(vec![
            entry("read", stats.block_read_bytes),
            entry("write", stats.block_write_bytes),
        ]),
        ..Default::default()
    });
    response.networks = Some(HashMap::from([(
        "eth0".to_string(),
        ContainerNetworkStats {
            rx_bytes: Some(stats.net_rx_bytes),
            tx_bytes: Some(stats.net_tx_bytes),
            rx_packets: Some(0),
            tx_packets: Some(0),
            rx_errors: Some(0),
            tx_errors: Some(0),
            rx_dropped: Some(0),
            tx_dropped: Some(0),
            ..Default::default()
        },
    )]));
    response
}

/// The host's CPU time in nanoseconds: the first line of /proc/stat (user through steal),
/// in clock ticks.
fn system_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: u64 = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|h| *h > 0).unwrap_or(100);
    Some(ticks.saturating_mul(1_000_000_000) / hz)
}

fn online_cpus() -> u32 {
    // SAFETY: sysconf only reads a configuration value.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u32::try_from(n).ok().filter(|n| *n > 0).unwrap_or(1)
}

/// The host's memory: docker's limit for a container without one.
fn host_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
