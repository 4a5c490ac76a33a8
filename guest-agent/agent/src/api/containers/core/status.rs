//! `ps`'s STATUS column in docker's words ("Up 3 seconds", "Exited (0) 2 minutes ago",
//! "Up 1 second (Paused)") and times as docker counts them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_engine::container::record::{ContainerStatus, Status};
use berth_engine::logs::parse_rfc3339;

/// Docker's `units.HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let minutes = seconds / 60;
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    match () {
        _ if seconds < 1 => "Less than a second".into(),
        _ if seconds == 1 => "1 second".into(),
        _ if seconds < 60 => format!("{seconds} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", seconds / 3600 / 24 / 365),
    }
}

fn since(time: &Option<String>, now: SystemTime) -> Option<Duration> {
    let then = parse_rfc3339(time.as_deref()?)?;
    Some(now.duration_since(then).unwrap_or_default())
}

/// Docker's `State.String()`.
pub fn status_text(status: &ContainerStatus, now: SystemTime) -> String {
    let ago = |time: &Option<String>| human_duration(since(time, now).unwrap_or_default());
    match status.status {
        Status::Running => format!("Up {}", ago(&status.started_at)),
        Status::Paused => format!("Up {} (Paused)", ago(&status.started_at)),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            status.exit_code,
            ago(&status.finished_at)
        ),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Created => "Created".into(),
        Status::Exited if status.started_at.is_none() => "Created".into(),
        Status::Exited if status.finished_at.is_none() => String::new(),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            status.exit_code,
            ago(&status.finished_at)
        ),
    }
}

/// Seconds since the epoch of an RFC 3339 time (0 when unreadable).
pub fn unix_seconds(time: &str) -> i64 {
    parse_rfc3339(time)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_docker_words() {
        let s = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(42)), "42 seconds");
        assert_eq!(human_duration(s(90)), "About a minute");
        assert_eq!(human_duration(s(600)), "10 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(5 * 3600)), "5 hours");
        assert_eq!(human_duration(s(3 * 86400)), "3 days");
    }

    #[test]
    fn status_texts() {
        let now = parse_rfc3339("2026-01-01T00:00:10Z").unwrap();
        let mut status = ContainerStatus {
            status: Status::Running,
            started_at: Some("2026-01-01T00:00:07Z".into()),
            ..Default::default()
        };
        assert_eq!(status_text(&status, now), "Up 3 seconds");
        status.status = Status::Paused;
        assert_eq!(status_text(&status, now), "Up 3 seconds (Paused)");
        status.status = Status::Exited;
        status.exit_code = 3;
        status.finished_at = Some("2026-01-01T00:00:08Z".into());
        assert_eq!(status_text(&status, now), "Exited (3) 2 seconds ago");
        assert_eq!(status_text(&ContainerStatus::default(), now), "Created");
    }
}
