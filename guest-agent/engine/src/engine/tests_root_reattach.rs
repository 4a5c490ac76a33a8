//! Root tests: an engine that goes away (dropped, as a SIGKILLed engine would leave its
//! files) and a new one that reattaches.

use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::tests_fixture::{alive, mounts_under, sh, wait_until, Fixture};
use crate::container::record::Status;
use crate::monitor::PID_FILE;

#[test]
fn root_a_running_container_survives_the_engine_and_is_stopped_by_the_next() {
    let f = Fixture::new();
    let engine = f.open(None);
    let record = engine.create(Some("keep"), sh("sleep 100")).unwrap();
    engine.start("keep").unwrap();
    let pid = engine.inspect("keep").unwrap().1.pid;
    drop(engine);

    let engine = f.open(None);
    let (_, status) = engine.inspect("keep").unwrap();
    assert_eq!((status.status, status.pid), (Status::Running, pid));
    assert!(alive(pid));
    engine.stop("keep", Some(1)).unwrap();
    let (_, status) = engine.inspect("keep").unwrap();
    assert_eq!(status.status, Status::Exited);
    assert!([137, 143].contains(&status.exit_code), "{status:?}");
    assert!(!alive(pid));
    assert_eq!(mounts_under(&f.container_dir(&record.id)), 0);
}

#[test]
fn root_exits_while_no_engine_runs_show_the_right_code_or_dead() {
    let f = Fixture::new();
    let engine = f.open(None);
    let quick = engine
        .create(Some("quick"), sh("sleep 0.3; exit 5"))
        .unwrap();
    engine.start("quick").unwrap();
    let lost = engine.create(Some("lost"), sh("sleep 100")).unwrap();
    engine.start("lost").unwrap();
    let lost_pid = engine.inspect("lost").unwrap().1.pid;
    drop(engine);

    let exit_file = f.container_dir(&quick.id).join(crate::monitor::EXIT_FILE);
    wait_until("quick's exit.json", Duration::from_secs(10), || {
        exit_file.exists()
    });
    let monitor: i32 = std::fs::read_to_string(f.container_dir(&lost.id).join(PID_FILE))
        .unwrap()
        .parse()
        .unwrap();
    kill(Pid::from_raw(monitor), Signal::SIGKILL).unwrap();
    wait_until("the monitor's death", Duration::from_secs(5), || {
        !alive(monitor)
    });

    let engine = f.open(None);
    let (_, status) = engine.inspect("quick").unwrap();
    assert_eq!((status.status, status.exit_code), (Status::Exited, 5));
    assert!(status.finished_at.is_some());
    assert_eq!(mounts_under(&f.container_dir(&quick.id)), 0);
    let (_, status) = engine.inspect("lost").unwrap();
    assert_eq!(status.status, Status::Dead);
    assert!(status.error.contains("monitor vanished"), "{status:?}");
    // Nothing that no monitor watches keeps running.
    wait_until("the orphan's death", Duration::from_secs(5), || {
        !alive(lost_pid)
    });
    assert!(!f.runtime_root().join(&lost.id).exists());
    // A dead container can be started again.
    engine.start("lost").unwrap();
    assert_eq!(engine.inspect("lost").unwrap().1.status, Status::Running);
    engine.remove("lost", true, false).unwrap();
}
