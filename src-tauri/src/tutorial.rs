//! The onboarding's shared folder and port: `tutorial_prepare` makes a folder inside a
//! share (so a container can bind-mount it) with an `index.html`, and finds a free host
//! port to publish; `tutorial_edit` rewrites the page, as a user's editor would.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use berth_host::settings::Settings;
use serde::Serialize;
use tauri::State;

use crate::error::{AppError, CmdResult};
use crate::state::AppState;

const FOLDER: &str = "berth-tutorial";
/// Ports tried, from the first (a web developer's habit) upwards.
const PORTS: std::ops::RangeInclusive<u16> = 8080..=8199;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prepared {
    pub dir: PathBuf,
    pub file: PathBuf,
    pub port: u16,
}

#[tauri::command]
pub async fn tutorial_prepare(state: State<'_, AppState>) -> CmdResult<Prepared> {
    let settings = Settings::load(&state.dirs)?;
    let dir = tutorial_dir(&settings, home().as_deref())?;
    let file = dir.join("index.html");
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::io(format!("Cannot create {}", dir.display()), e))?;
    write_atomic(&file, &default_page(&dir))?;
    // Ports the daemon forwards are taken even when a bind test would pass (its
    // listener may be on another address).
    let forwarded: HashSet<u16> = crate::engine::status_of(&state)
        .await
        .ports
        .iter()
        .map(|p| p.host_port)
        .collect();
    let port = choose_port(&forwarded, |port| {
        can_bind(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
            && (settings.bind_address.is_loopback() || can_bind(settings.bind_address, port))
    })
    .ok_or_else(|| AppError::msg("No free port between 8080 and 8199 for the tutorial"))?;
    Ok(Prepared { dir, file, port })
}

#[tauri::command]
pub async fn tutorial_edit(state: State<'_, AppState>, text: String) -> CmdResult<()> {
    let settings = Settings::load(&state.dirs)?;
    let dir = tutorial_dir(&settings, home().as_deref())?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::io(format!("Cannot create {}", dir.display()), e))?;
    write_atomic(&dir.join("index.html"), &text)
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `~/berth-tutorial` when a share holds it (the default: the home folder is shared),
/// else `berth-tutorial` in the first share.
pub fn tutorial_dir(settings: &Settings, home: Option<&Path>) -> CmdResult<PathBuf> {
    if let Some(dir) = home.map(|h| h.join(FOLDER)) {
        if settings.share_holding(&dir).is_some() {
            return Ok(dir);
        }
    }
    settings
        .shares
        .first()
        .map(|share| share.join(FOLDER))
        .ok_or_else(|| {
            AppError::msg("No folder is shared with the VM: add one in Settings (Shared folders)")
        })
}

/// The first port of [`PORTS`] not in `taken` for which `free` holds.
pub fn choose_port(taken: &HashSet<u16>, free: impl Fn(u16) -> bool) -> Option<u16> {
    PORTS.into_iter().find(|p| !taken.contains(p) && free(*p))
}

fn can_bind(ip: IpAddr, port: u16) -> bool {
    TcpListener::bind(SocketAddr::new(ip, port)).is_ok()
}

fn write_atomic(path: &Path, text: &str) -> CmdResult<()> {
    let err = |e| AppError::io(format!("Cannot write {}", path.display()), e);
    let tmp = path.with_extension("html.tmp");
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

fn default_page(dir: &Path) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello from Berth</title>
<style>body{{font-family:system-ui,sans-serif;margin:4rem auto;max-width:40rem;color:#123}}
code{{background:#eef;padding:.1rem .3rem;border-radius:4px}}</style></head>
<body>
<h1>Hello from Berth!</h1>
<p>A container is serving this page from <code>{}</code> on your computer.</p>
<p>Edit <code>index.html</code> there and reload: the container sees the change at once.</p>
</body>
</html>
"#,
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(shares: &str) -> Settings {
        let mut s = Settings::default();
        s.set("shares", shares).unwrap();
        s
    }

    #[test]
    fn the_folder_is_in_home_when_shared_else_in_the_first_share() {
        let home = Path::new("/home/u");
        assert_eq!(
            tutorial_dir(&settings("/home/u"), Some(home)).unwrap(),
            PathBuf::from("/home/u/berth-tutorial")
        );
        assert_eq!(
            tutorial_dir(&settings("/srv,/data"), Some(home)).unwrap(),
            PathBuf::from("/srv/berth-tutorial")
        );
        assert_eq!(
            tutorial_dir(&settings("/data"), None).unwrap(),
            PathBuf::from("/data/berth-tutorial")
        );
        let err = tutorial_dir(&settings(""), Some(home)).unwrap_err();
        assert!(err.message().contains("No folder is shared"));
    }

    #[test]
    fn the_port_is_the_first_free_one_from_8080() {
        let none = HashSet::new();
        assert_eq!(choose_port(&none, |_| true), Some(8080));
        let taken = HashSet::from([8080, 8081]);
        assert_eq!(choose_port(&taken, |p| p != 8082), Some(8083));
        assert_eq!(choose_port(&none, |_| false), None);
        // A port bound here is skipped for real.
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = busy.local_addr().unwrap().port();
        assert!(!can_bind(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }

    #[test]
    fn edits_replace_the_page_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index.html");
        write_atomic(&file, &default_page(dir.path())).unwrap();
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .contains("Hello from Berth"));
        write_atomic(&file, "<h1>Changed</h1>").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "<h1>Changed</h1>");
    }
}
