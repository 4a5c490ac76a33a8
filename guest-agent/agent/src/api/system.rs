//! `/_ping`, `/version`, `/info` and `/events`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use berth_engine::container::record::Status;
use berth_engine::events::Event;
use bollard_stubs::models::{
    EventActor, EventMessage, EventMessageScopeEnum, EventMessageTypeEnum, SystemInfo,
    SystemInfoCgroupDriverEnum, SystemInfoCgroupVersionEnum, SystemVersion,
    SystemVersionComponents, SystemVersionPlatform,
};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::extract::{parse_filters, Filters, Query};
use super::state::AppState;
use super::stream;
use super::version::{CURRENT_VERSION, MIN_VERSION};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_ping", get(ping).head(ping))
        .route("/version", get(version))
        .route("/info", get(info))
        .route("/events", get(events))
}

/// The headers the CLI reads from `/_ping` to pick its API version and builder.
async fn ping() -> Response {
    let mut headers = HeaderMap::new();
    let pairs = [
        ("Api-Version", CURRENT_VERSION.to_string()),
        ("Ostype", "linux".to_string()),
        ("Builder-Version", "1".to_string()),
        ("Docker-Experimental", "false".to_string()),
        (
            "Cache-Control",
            "no-cache, no-store, must-revalidate".to_string(),
        ),
        ("Pragma", "no-cache".to_string()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (headers, "OK").into_response()
}

fn kernel_version() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

async fn version() -> Json<SystemVersion> {
    let engine_version = env!("CARGO_PKG_VERSION").to_string();
    Json(SystemVersion {
        platform: Some(SystemVersionPlatform {
            name: "Berth".into(),
        }),
        components: Some(vec![SystemVersionComponents {
            name: "Engine".into(),
            version: engine_version.clone(),
            details: Some(HashMap::from([
                ("ApiVersion".to_string(), CURRENT_VERSION.to_string()),
                ("MinAPIVersion".to_string(), MIN_VERSION.to_string()),
                ("Os".to_string(), "linux".to_string()),
                ("Arch".to_string(), arch().to_string()),
            ])),
        }]),
        version: Some(engine_version),
        api_version: Some(CURRENT_VERSION.to_string()),
        min_api_version: Some(MIN_VERSION.to_string()),
        git_commit: Some(option_env!("BERTH_GIT_COMMIT").unwrap_or("unknown").into()),
        go_version: Some("none (Rust)".into()),
        os: Some("linux".into()),
        arch: Some(arch().into()),
        kernel_version: Some(kernel_version()),
        experimental: Some(false),
        build_time: None,
    })
}

fn mem_total() -> i64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<i64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

fn os_name() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

fn cgroup_version() -> SystemInfoCgroupVersionEnum {
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        SystemInfoCgroupVersionEnum::_2
    } else {
        SystemInfoCgroupVersionEnum::_1
    }
}

async fn info(State(state): State<AppState>) -> ApiResult<Json<SystemInfo>> {
    let daemon = state.daemon.clone();
    let (containers, images) = state
        .run(|engine| {
            let images = engine.images().images().map_or(0, |i| i.len());
            Ok((engine.list(true), images))
        })
        .await?;
    let count = |wanted: &[Status]| {
        containers
            .iter()
            .filter(|(_, s)| wanted.contains(&s.status))
            .count() as i64
    };
    let hostname = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Json(SystemInfo {
        id: Some(daemon.id.clone()),
        containers: Some(containers.len() as i64),
        containers_running: Some(count(&[Status::Running, Status::Restarting])),
        containers_paused: Some(count(&[Status::Paused])),
        containers_stopped: Some(count(&[Status::Created, Status::Exited, Status::Dead])),
        images: Some(images as i64),
        driver: Some("overlay2".into()),
        docker_root_dir: Some(daemon.root.display().to_string()),
        memory_limit: Some(true),
        swap_limit: Some(false),
        cpu_cfs_period: Some(true),
        cpu_cfs_quota: Some(true),
        cpu_shares: Some(true),
        pids_limit: Some(true),
        ipv4_forwarding: Some(true),
        debug: Some(false),
        logging_driver: Some("json-file".into()),
        cgroup_driver: Some(SystemInfoCgroupDriverEnum::CGROUPFS),
        cgroup_version: Some(cgroup_version()),
        kernel_version: Some(kernel_version()),
        operating_system: Some(os_name()),
        os_type: Some("linux".into()),
        architecture: Some(std::env::consts::ARCH.into()),
        ncpu: Some(std::thread::available_parallelism().map_or(1, |n| n.get() as i64)),
        mem_total: Some(mem_total()),
        name: Some(hostname),
        server_version: Some(env!("CARGO_PKG_VERSION").into()),
        default_runtime: Some("berth".into()),
        init_binary: Some("berth-init".into()),
        security_options: Some(vec![
            "name=seccomp,profile=builtin".into(),
            "name=cgroupns".into(),
        ]),
        experimental_build: Some(false),
        live_restore_enabled: Some(true),
        ..Default::default()
    }))
}

#[derive(Debug, Default, Deserialize)]
struct EventsQuery {
    since: Option<String>,
    until: Option<String>,
    filters: Option<String>,
}

/// Docker's timestamps: seconds with an optional fraction (`1700000000.5`), or a
/// duration back from now (`10m`), or RFC 3339.
pub fn parse_time(text: &str) -> Result<SystemTime, ApiError> {
    let bad = || ApiError::bad_request(format!("invalid timestamp {text:?}"));
    if let Ok(seconds) = text.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(bad());
        }
        return Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }
    if let Ok(back) = humantime::parse_duration(text) {
        return Ok(SystemTime::now() - back);
    }
    humantime::parse_rfc3339_weak(text).map_err(|_| bad())
}

fn nanos(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Does `event` pass docker's event filters (type, event, container, image, volume,
/// network, label)?
fn wanted(filters: &Filters, event: &Event) -> bool {
    let any =
        |key: &str, value: &str| !filters.has(key) || filters.get(key).iter().any(|v| v == value);
    let named = event
        .attributes
        .get("name")
        .map(String::as_str)
        .unwrap_or("");
    let actor_matches = |key: &str| {
        !filters.has(key)
            || filters
                .get(key)
                .iter()
                .any(|v| v == &event.actor || v == named || event.actor.starts_with(v.as_str()))
    };
    let scoped = |key: &str, kind: &str| event.kind != kind || actor_matches(key);
    let image = event
        .attributes
        .get("image")
        .map(String::as_str)
        .unwrap_or("");
    any("type", event.kind)
        && any("event", &event.action)
        && scoped("container", "container")
        && scoped("volume", "volume")
        && scoped("network", "network")
        && (!filters.has("image")
            || filters
                .get("image")
                .iter()
                .any(|v| v == image || v == &event.actor))
        && filters.labels_match(&event.attributes.clone().into_iter().collect())
}

/// The event as docker's JSON (with the pre-1.22 `status`/`id`/`from` fields the CLI's
/// formatter still reads).
pub fn event_json(event: &Event) -> serde_json::Value {
    let typ = match event.kind {
        "container" => EventMessageTypeEnum::CONTAINER,
        "image" => EventMessageTypeEnum::IMAGE,
        "volume" => EventMessageTypeEnum::VOLUME,
        "network" => EventMessageTypeEnum::NETWORK,
        "builder" => EventMessageTypeEnum::BUILDER,
        _ => EventMessageTypeEnum::EMPTY,
    };
    let message = EventMessage {
        typ: Some(typ),
        action: Some(event.action.clone()),
        actor: Some(EventActor {
            id: Some(event.actor.clone()),
            attributes: Some(event.attributes.clone().into_iter().collect()),
        }),
        scope: Some(EventMessageScopeEnum::LOCAL),
        time: Some(event.time_nano / 1_000_000_000),
        time_nano: Some(event.time_nano),
    };
    let mut value = serde_json::to_value(message).unwrap_or_default();
    if typ == EventMessageTypeEnum::EMPTY {
        // Berth's own kinds (`port`) keep their name.
        value["Type"] = event.kind.into();
    }
    if event.kind == "container" {
        value["status"] = event.action.clone().into();
        value["id"] = event.actor.clone().into();
        if let Some(image) = event.attributes.get("image") {
            value["from"] = image.clone().into();
        }
    }
    value
}

async fn events(
    State(state): State<AppState>,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Response> {
    let filters = parse_filters(&query.filters)?;
    filters.only(&[
        "container",
        "daemon",
        "event",
        "image",
        "label",
        "network",
        "type",
        "volume",
        "scope",
    ])?;
    let since = query
        .since
        .as_deref()
        .map(parse_time)
        .transpose()?
        .map(nanos);
    let until = query.until.as_deref().map(parse_time).transpose()?;
    let receiver = state.engine.events().subscribe(since);
    let body = stream::blocking(move |tx| loop {
        let left = match until {
            Some(until) => match until.duration_since(SystemTime::now()) {
                Ok(left) => left.min(Duration::from_secs(1)),
                // Past `until`: what is already queued (the history since `since`) still
                // goes out, then the stream ends.
                Err(_) => Duration::ZERO,
            },
            None => Duration::from_secs(1),
        };
        match receiver.recv_timeout(left) {
            Ok(event) => {
                if until.is_some_and(|u| event.time_nano > nanos(u)) {
                    return;
                }
                if wanted(&filters, &event)
                    && tx
                        .blocking_send(stream::json_line(&event_json(&event)))
                        .is_err()
                {
                    return;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if tx.is_closed() || left.is_zero() => {
                return
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_docker_forms() {
        assert_eq!(
            nanos(parse_time("1700000000.5").unwrap()),
            1_700_000_000_500_000_000
        );
        assert!(parse_time("10m").unwrap() < SystemTime::now());
        assert!(parse_time("2024-01-02T03:04:05Z").is_ok());
        assert!(parse_time("yesterday-ish").is_err());
    }

    #[test]
    fn event_filters() {
        let event = Event::new("container", "start", "abc123").with("name", "web");
        let f = |json: &str| Filters::parse(Some(json)).unwrap();
        assert!(wanted(&f(r#"{"type":["container"]}"#), &event));
        assert!(!wanted(&f(r#"{"type":["image"]}"#), &event));
        assert!(wanted(
            &f(r#"{"container":["web"],"event":["start"]}"#),
            &event
        ));
        assert!(!wanted(&f(r#"{"event":["die"]}"#), &event));
        let json = event_json(&event);
        assert_eq!(json["Type"], "container");
        assert_eq!(json["status"], "start");
        let port = event_json(&Event::new("port", "add", "abc"));
        assert_eq!(port["Type"], "port");
    }
}
