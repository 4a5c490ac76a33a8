//! Root tests of the engine's container operations with the real runtime and monitors.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::tests_fixture::{mounts_under, sh, wait_until, Fixture};
use super::ErrorKind;
use crate::container::record::Status;
use crate::logs::ReadOptions;

fn log_text(engine: &super::Engine, reference: &str) -> String {
    let mut text = String::new();
    engine
        .logs(reference, &ReadOptions::default(), |e| {
            text.push_str(&e.log);
            ControlFlow::Continue(())
        })
        .unwrap();
    text
}

#[test]
fn root_a_container_starts_logs_and_stops_with_sigkill_after_the_timeout() {
    let f = Fixture::new();
    let engine = f.open(None);
    let record = engine
        .create(Some("web"), sh("echo hi; sleep 100"))
        .unwrap();
    engine.start("web").unwrap();
    let (_, status) = engine.inspect("web").unwrap();
    assert_eq!(status.status, Status::Running);
    assert!(status.pid > 0 && status.started_at.is_some(), "{status:?}");
    wait_until("the log line", Duration::from_secs(10), || {
        log_text(&engine, "web") == "hi\n"
    });

    let again = engine.start("web").unwrap_err();
    assert_eq!(again.kind(), ErrorKind::NotModified, "{again}");
    let taken = engine.create(Some("web"), sh("true")).unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::Conflict, "{taken}");
    assert!(taken.to_string().contains("is already in use"), "{taken}");

    // sh as pid 1 ignores SIGTERM: the stop ends with SIGKILL after one second.
    let begun = Instant::now();
    engine.stop(&record.id[..12], Some(1)).unwrap();
    assert!(
        begun.elapsed() < Duration::from_secs(8),
        "{:?}",
        begun.elapsed()
    );
    let (_, status) = engine.inspect("web").unwrap();
    assert_eq!(status.status, Status::Exited);
    assert!([137, 143].contains(&status.exit_code), "{status:?}");
    assert!(status.stopped_by_user && status.pid == 0);
    assert!(!alive_pid_dir(&f, &record.id), "runtime state left");
    assert_eq!(mounts_under(&f.container_dir(&record.id)), 0);
    // Saved, not only in memory.
    let saved = crate::container::store::ContainerStore::open(&f.root())
        .unwrap()
        .status(&record.id)
        .unwrap();
    assert_eq!(saved, status);
    let twice = engine.stop("web", Some(1)).unwrap_err();
    assert_eq!(twice.kind(), ErrorKind::NotModified);
}

fn alive_pid_dir(f: &Fixture, id: &str) -> bool {
    f.runtime_root().join(id).exists()
}

#[test]
fn root_wait_returns_the_exit_code_and_force_removes_leave_nothing() {
    let f = Fixture::new();
    let engine = f.open(None);
    engine.create(Some("three"), sh("exit 3")).unwrap();
    engine.start("three").unwrap();
    assert_eq!(engine.wait("three").unwrap(), 3);
    let (_, status) = engine.inspect("three").unwrap();
    assert_eq!((status.status, status.exit_code), (Status::Exited, 3));
    // Waiting for an exited container returns at once.
    assert_eq!(engine.wait("three").unwrap(), 3);

    let record = engine.create(Some("busy"), sh("sleep 100")).unwrap();
    engine.start("busy").unwrap();
    let pid = engine.inspect("busy").unwrap().1.pid;
    let err = engine.remove("busy", false, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string()
            .contains("You cannot remove a running container"),
        "{err}"
    );
    engine.remove("busy", true, true).unwrap();
    let dir = f.container_dir(&record.id);
    assert!(!dir.exists(), "container dir left");
    assert_eq!(mounts_under(&dir), 0);
    assert!(!f.runtime_root().join(&record.id).exists());
    assert!(
        !super::tests_fixture::alive(pid),
        "the container still runs"
    );
    let gone = engine.inspect("busy").unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    engine.remove("three", false, false).unwrap();
}

#[test]
fn root_bad_creates_are_refused_and_leave_nothing() {
    let f = Fixture::new();
    let engine = f.open(None);
    let mut unknown = sh("true");
    unknown.image = "nope".into();
    let err = engine.create(None, unknown).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "No such image: nope");
    let mut no_command = sh("true");
    no_command.entrypoint = Some(vec![]);
    no_command.cmd = Some(vec![]);
    let err = engine.create(None, no_command).unwrap_err();
    assert_eq!(
        (err.kind(), err.to_string().as_str()),
        (ErrorKind::InvalidArgument, "No command specified")
    );
    let mut bad_env = sh("true");
    bad_env.env = vec!["=x".into()];
    let err = engine.create(None, bad_env).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(engine.list(true).is_empty());
    let missing = engine.start("nothing").unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

#[test]
fn root_pause_unpause_kill_and_rename() {
    let f = Fixture::new();
    let engine = f.open(None);
    engine.create(Some("p1"), sh("sleep 100")).unwrap();
    engine.start("p1").unwrap();
    engine.pause("p1").unwrap();
    assert_eq!(engine.inspect("p1").unwrap().1.status, Status::Paused);
    assert_eq!(engine.pause("p1").unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(engine.start("p1").unwrap_err().kind(), ErrorKind::Conflict);
    engine.unpause("p1").unwrap();
    assert_eq!(
        engine.unpause("p1").unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(engine.list(false).len(), 1);
    engine.rename("p1", "p2").unwrap();
    let bad = engine.kill("p2", "SIGNOPE").unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidArgument);
    engine.kill("p2", "KILL").unwrap();
    assert_eq!(engine.wait("p2").unwrap(), 137);
    assert_eq!(
        engine.kill("p2", "TERM").unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert!(engine.list(false).is_empty());
    // Restart brings an exited container back.
    engine.restart("p2", Some(1)).unwrap();
    assert_eq!(engine.inspect("p2").unwrap().1.status, Status::Running);
    engine.remove("p2", true, false).unwrap();
}
