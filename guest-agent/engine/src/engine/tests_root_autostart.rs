//! Root tests of what a daemon starts as it starts (`Engine::start_by_policy`): a VM's
//! shutdown stops its containers with `StopBy::Shutdown`, and the next boot's engine (a
//! new `Engine` on the same root) brings back those whose restart policy says so.

use super::tests_fixture::{sh, Fixture};
use super::{Engine, StopBy};
use crate::container::config::RestartPolicy;
use crate::container::record::Status;

/// Creates and starts a long-running container with `policy`.
fn run(engine: &Engine, name: &str, policy: RestartPolicy) {
    let mut config = sh("sleep 100");
    config.restart_policy = policy;
    engine.create(Some(name), config).unwrap();
    engine.start(name).unwrap();
}

fn status_of(engine: &Engine, name: &str) -> Status {
    engine.inspect(name).unwrap().1.status
}

fn remove_all(engine: &Engine, names: &[&str]) {
    for name in names {
        engine.remove(name, true, false).unwrap();
    }
}

#[test]
fn root_shutdown_stopped_always_and_unless_stopped_containers_start_with_the_daemon() {
    let f = Fixture::new();
    let engine = f.open(None);
    run(&engine, "always", RestartPolicy::Always);
    run(&engine, "unless", RestartPolicy::UnlessStopped);
    run(&engine, "never", RestartPolicy::No);
    for name in ["always", "unless", "never"] {
        engine.stop_by(name, Some(1), StopBy::Shutdown).unwrap();
        let status = engine.inspect(name).unwrap().1;
        assert_eq!(status.status, Status::Exited);
        assert!(!status.stopped_by_user, "{name}: {status:?}");
    }
    drop(engine);

    // A one-shot command's engine starts nothing; the daemon's does.
    let engine = f.open(None);
    assert_eq!(status_of(&engine, "always"), Status::Exited);
    engine.start_by_policy();
    for name in ["always", "unless"] {
        let status = engine.inspect(name).unwrap().1;
        assert_eq!((status.status, status.restart_count), (Status::Running, 0));
    }
    assert_eq!(status_of(&engine, "never"), Status::Exited);
    remove_all(&engine, &["always", "unless", "never"]);
}

#[test]
fn root_a_user_stop_holds_at_daemon_start_for_unless_stopped_only() {
    let f = Fixture::new();
    let engine = f.open(None);
    run(&engine, "always", RestartPolicy::Always);
    run(&engine, "unless", RestartPolicy::UnlessStopped);
    for name in ["always", "unless"] {
        engine.stop(name, Some(1)).unwrap();
        assert!(engine.inspect(name).unwrap().1.stopped_by_user);
    }
    drop(engine);

    let engine = f.open(None);
    engine.start_by_policy();
    // Docker: "if it is manually stopped, it is restarted only when Docker daemon
    // restarts" for `always`; `unless-stopped` stays stopped.
    let always = engine.inspect("always").unwrap().1;
    assert_eq!(always.status, Status::Running);
    assert!(!always.stopped_by_user);
    let unless = engine.inspect("unless").unwrap().1;
    assert_eq!(unless.status, Status::Exited);
    assert!(unless.stopped_by_user);
    remove_all(&engine, &["always", "unless"]);
}
