//! `berth config`: show, get and set the settings in `settings.json`.

use berth_host::daemon::proto::Phase;
use berth_host::settings::{Settings, KEYS};
use berth_host::state::StateDirs;

use super::{client, print_json};

pub fn show(dirs: &StateDirs, json: bool) -> anyhow::Result<i32> {
    let settings = Settings::load(dirs)?;
    if json {
        print_json(&settings)?;
        return Ok(0);
    }
    println!("# {}", Settings::path(dirs).display());
    for key in KEYS {
        println!("{key} = {}", settings.get(key)?);
    }
    Ok(0)
}

pub fn get(dirs: &StateDirs, key: &str) -> anyhow::Result<i32> {
    println!("{}", Settings::load(dirs)?.get(key)?);
    Ok(0)
}

pub async fn set(dirs: &StateDirs, key: &str, value: &str) -> anyhow::Result<i32> {
    dirs.create()?;
    let mut settings = Settings::load(dirs)?;
    let change = settings.set(key, value)?;
    settings.save(dirs)?;
    println!("{key} = {}", settings.get(key)?);
    if let Some(note) = change.note {
        println!("{note}");
    }
    let running = matches!(
        client(dirs).status().await.map(|r| r.phase),
        Ok(Phase::Running | Phase::EngineStarting | Phase::Booting | Phase::WaitingForAgent)
    );
    if change.needs_restart && running {
        println!("The running VM keeps the old value: run `berth restart` to apply it");
    }
    Ok(0)
}
