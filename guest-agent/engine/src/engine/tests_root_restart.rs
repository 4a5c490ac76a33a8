//! Root tests of restart policies, with the supervisor thread polling every 50 ms.

use std::time::Duration;

use super::tests_fixture::{sh, wait_until, Fixture};
use crate::container::config::RestartPolicy;
use crate::container::record::Status;

const TICK: Option<Duration> = Some(Duration::from_millis(50));

#[test]
fn root_on_failure_2_restarts_a_failing_container_exactly_twice() {
    let f = Fixture::new();
    let engine = f.open(TICK);
    let mut config = sh("exit 1");
    config.restart_policy = RestartPolicy::OnFailure { max_retries: 2 };
    engine.create(Some("flaky"), config).unwrap();
    engine.start("flaky").unwrap();
    wait_until("two restarts", Duration::from_secs(20), || {
        let status = engine.inspect("flaky").unwrap().1;
        status.restart_count == 2 && status.status == Status::Exited
    });
    // Back-off after the second restart would be 400 ms: nothing more comes.
    std::thread::sleep(Duration::from_millis(1500));
    let status = engine.inspect("flaky").unwrap().1;
    assert_eq!(
        (status.status, status.restart_count, status.exit_code),
        (Status::Exited, 2, 1)
    );
}

#[test]
fn root_always_restarts_after_any_exit_but_not_after_a_user_stop() {
    let f = Fixture::new();
    let engine = f.open(TICK);
    for (name, code) in [("ok", 0), ("bad", 1)] {
        let mut config = sh(&format!("sleep 0.2; exit {code}"));
        config.restart_policy = RestartPolicy::Always;
        engine.create(Some(name), config).unwrap();
        engine.start(name).unwrap();
    }
    for name in ["ok", "bad"] {
        wait_until(name, Duration::from_secs(20), || {
            engine.inspect(name).unwrap().1.restart_count >= 1
        });
    }
    engine.stop("ok", Some(1)).unwrap();
    let stopped = engine.inspect("ok").unwrap().1;
    assert_eq!(stopped.status, Status::Exited);
    assert!(stopped.stopped_by_user);
    std::thread::sleep(Duration::from_millis(1500));
    let later = engine.inspect("ok").unwrap().1;
    assert_eq!(
        (later.status, later.restart_count),
        (Status::Exited, stopped.restart_count)
    );
    engine.remove("bad", true, false).unwrap();
    engine.remove("ok", false, false).unwrap();
}
