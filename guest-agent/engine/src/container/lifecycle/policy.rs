//! Restart policies, decided from the status a container ended with: docker's rules and
//! its back-off (100 ms, doubling with each restart, capped; reset by a run of 10 s), and
//! which stopped containers a daemon starts as it starts (docker's restore).

use std::time::Duration;

use crate::container::config::RestartPolicy;
use crate::container::record::{ContainerStatus, Status};
use crate::logs::parse_rfc3339;

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run at least this long counts as healthy: the next restart waits the first delay.
const HEALTHY_RUN: Duration = Duration::from_secs(10);

/// Whether a container that ended with `status` restarts. A stop or kill by the user
/// never restarts it; `on-failure` only after a non-zero exit, at most N times (0: no
/// limit), counting the restarts already done.
pub fn should_restart(policy: RestartPolicy, status: &ContainerStatus) -> bool {
    if status.stopped_by_user {
        return false;
    }
    match policy {
        RestartPolicy::No => false,
        RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        RestartPolicy::OnFailure { max_retries } => {
            status.exit_code != 0 && retries_left(max_retries, status)
        }
    }
}

/// Whether a daemon that starts (the API server's engine; the VM's boot) starts this
/// stopped (exited or dead) container, as docker's restore does: `always` even after a
/// stop by the user, `unless-stopped` unless the user stopped it, `on-failure` after a
/// non-zero exit (or a run whose monitor vanished: the machine went down under it) with
/// retries left. A daemon's shutdown stop is no stop by the user (`StopBy::Shutdown`).
pub fn starts_with_daemon(policy: RestartPolicy, status: &ContainerStatus) -> bool {
    if !matches!(status.status, Status::Exited | Status::Dead) {
        return false;
    }
    match policy {
        RestartPolicy::No => false,
        RestartPolicy::Always => true,
        RestartPolicy::UnlessStopped => !status.stopped_by_user,
        RestartPolicy::OnFailure { max_retries } => {
            (status.exit_code != 0 || status.status == Status::Dead)
                && retries_left(max_retries, status)
        }
    }
}

/// `on-failure:N` has restarts left (N = 0: no limit).
fn retries_left(max_retries: u32, status: &ContainerStatus) -> bool {
    max_retries == 0 || status.restart_count < max_retries
}

/// How long to wait before restarting a container that ended with `status`.
pub fn backoff(status: &ContainerStatus) -> Duration {
    let ran = match (&status.started_at, &status.finished_at) {
        (Some(start), Some(end)) => parse_rfc3339(start)
            .zip(parse_rfc3339(end))
            .and_then(|(s, e)| e.duration_since(s).ok()),
        _ => None,
    };
    if ran.is_some_and(|d| d >= HEALTHY_RUN) {
        return FIRST_DELAY;
    }
    FIRST_DELAY
        .saturating_mul(1 << status.restart_count.min(16))
        .min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(code: i32, restarts: u32, by_user: bool) -> ContainerStatus {
        ContainerStatus {
            exit_code: code,
            restart_count: restarts,
            stopped_by_user: by_user,
            ..Default::default()
        }
    }

    #[test]
    fn policies_follow_docker() {
        let on_failure = |n| RestartPolicy::OnFailure { max_retries: n };
        let cases = [
            (RestartPolicy::No, ended(1, 0, false), false),
            (RestartPolicy::Always, ended(0, 5, false), true),
            (RestartPolicy::Always, ended(137, 0, true), false),
            (RestartPolicy::UnlessStopped, ended(1, 0, false), true),
            (RestartPolicy::UnlessStopped, ended(143, 0, true), false),
            (on_failure(2), ended(0, 0, false), false),
            (on_failure(2), ended(1, 1, false), true),
            (on_failure(2), ended(1, 2, false), false),
            (on_failure(0), ended(1, 99, false), true),
        ];
        for (policy, status, want) in cases {
            assert_eq!(
                should_restart(policy, &status),
                want,
                "{policy:?} {status:?}"
            );
        }
    }

    #[test]
    fn daemon_start_follows_docker_restore() {
        let exited = |code, restarts, by_user| ContainerStatus {
            status: Status::Exited,
            ..ended(code, restarts, by_user)
        };
        let dead = ContainerStatus {
            status: Status::Dead,
            ..ended(0, 0, false)
        };
        let on_failure = |n| RestartPolicy::OnFailure { max_retries: n };
        let cases = [
            (RestartPolicy::No, exited(137, 0, false), false),
            (RestartPolicy::Always, exited(143, 0, false), true),
            (RestartPolicy::Always, exited(137, 0, true), true),
            (RestartPolicy::Always, dead.clone(), true),
            (RestartPolicy::Always, ended(0, 0, false), false), // created, never run
            (RestartPolicy::UnlessStopped, exited(143, 0, false), true),
            (RestartPolicy::UnlessStopped, exited(143, 0, true), false),
            (on_failure(2), exited(0, 0, false), false),
            (on_failure(2), exited(143, 1, false), true),
            (on_failure(2), exited(1, 2, false), false),
            (on_failure(0), dead, true),
        ];
        for (policy, status, want) in cases {
            assert_eq!(
                starts_with_daemon(policy, &status),
                want,
                "{policy:?} {status:?}"
            );
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_resets_after_a_healthy_run() {
        assert_eq!(backoff(&ended(1, 0, false)), Duration::from_millis(100));
        assert_eq!(backoff(&ended(1, 3, false)), Duration::from_millis(800));
        assert_eq!(backoff(&ended(1, 40, false)), MAX_DELAY);
        let long_run = ContainerStatus {
            started_at: Some("2026-01-01T00:00:00Z".into()),
            finished_at: Some("2026-01-01T00:01:00Z".into()),
            ..ended(1, 7, false)
        };
        assert_eq!(backoff(&long_run), FIRST_DELAY);
    }
}
