//! Root tests of `--rm` (auto-remove): a container that ends, by itself or by a stop, is
//! removed with its anonymous volumes, after `die` and with `destroy`.

use std::time::Duration;

use super::tests_fixture::{sh, wait_until, Fixture};
use super::ErrorKind;

const TICK: Option<Duration> = Some(Duration::from_millis(50));

fn actions_for(events: &std::sync::mpsc::Receiver<crate::events::Event>, id: &str) -> Vec<String> {
    events
        .try_iter()
        .filter(|e| e.actor == id)
        .map(|e| e.action)
        .collect()
}

#[test]
fn root_an_auto_remove_container_is_removed_when_it_exits() {
    let f = Fixture::new();
    let engine = f.open(TICK);
    let events = engine.events().subscribe(None);
    let mut config = sh("exit 3");
    config.auto_remove = true;
    let record = engine.create(Some("gone"), config).unwrap();
    engine.start("gone").unwrap();
    wait_until("the removal", Duration::from_secs(20), || {
        engine.inspect("gone").is_err()
    });
    let err = engine.inspect("gone").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!f.container_dir(&record.id).exists(), "container dir left");
    let actions = actions_for(&events, &record.id);
    assert_eq!(actions, ["create", "start", "die", "destroy"]);
    assert!(engine.list(true).is_empty());
}

#[test]
fn root_a_stopped_auto_remove_container_is_removed_too() {
    let f = Fixture::new();
    // No supervisor: only the stop itself can remove it.
    let engine = f.open(None);
    let mut config = sh("sleep 100");
    config.auto_remove = true;
    let record = engine.create(Some("stopped"), config).unwrap();
    engine.start("stopped").unwrap();
    engine.stop("stopped", Some(1)).unwrap();
    assert_eq!(
        engine.inspect("stopped").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(!f.container_dir(&record.id).exists(), "container dir left");
    // Without `auto_remove` an ended container stays.
    engine.create(Some("kept"), sh("exit 0")).unwrap();
    engine.start("kept").unwrap();
    assert_eq!(engine.wait("kept").unwrap(), 0);
    engine.reap();
    assert!(engine.inspect("kept").is_ok());
}
