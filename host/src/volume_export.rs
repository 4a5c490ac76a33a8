//! Exporting volumes before `berth reset` deletes the data disk: each volume becomes
//! `<name>.tar` on the host, written by `tar` in a throwaway container of the bundled
//! `berth/hello` image (always loaded in the VM) that mounts the volume read-only and has
//! no network. A file is written as `.partial` and renamed when tar succeeded, so a
//! failed export never leaves a truncated archive that looks whole.

use std::path::{Path, PathBuf};

use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptions, ListVolumesOptions, RemoveContainerOptions, WaitContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

/// The image the export containers run (it has busybox `tar`).
pub const EXPORT_IMAGE: &str = "berth/hello";

/// How much of tar's stderr is kept for the error message.
const STDERR_LIMIT: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("Cannot reach the engine at {socket}")]
    Connect {
        socket: PathBuf,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("The engine refused to {what}")]
    Engine {
        what: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("{path} already exists: export into an empty folder")]
    Exists { path: PathBuf },
    #[error("Cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Exporting volume {name} failed (tar exited with {code}): {stderr}")]
    Tar {
        name: String,
        code: i64,
        stderr: String,
    },
    #[error("The engine named a volume {0:?}, which cannot be a file name")]
    BadName(String),
}

/// One exported volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub name: String,
    pub path: PathBuf,
    pub bytes: u64,
}

/// Connects to the Docker API on a Unix socket (the daemon's `docker.sock`).
pub fn connect(socket: &Path) -> Result<Docker, ExportError> {
    Docker::connect_with_unix(&socket.to_string_lossy(), 600, bollard::API_DEFAULT_VERSION).map_err(
        |source| ExportError::Connect {
            socket: socket.to_path_buf(),
            source,
        },
    )
}

/// The names of all volumes.
pub async fn volume_names(docker: &Docker) -> Result<Vec<String>, ExportError> {
    let list = docker
        .list_volumes(None::<ListVolumesOptions>)
        .await
        .map_err(|source| engine("list the volumes", source))?;
    let mut names: Vec<String> = list
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    names.sort();
    Ok(names)
}

/// Exports every named volume into `dir` (created if missing). Refuses to overwrite.
pub async fn export_volumes(
    docker: &Docker,
    names: &[String],
    dir: &Path,
    mut progress: impl FnMut(&str),
) -> Result<Vec<Exported>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    // Check every target first, so a clash is found before anything is written.
    let mut targets = Vec::new();
    for name in names {
        let path = dir.join(archive_name(name)?);
        if path.exists() {
            return Err(ExportError::Exists { path });
        }
        targets.push((name, path));
    }
    let mut done = Vec::new();
    for (name, path) in targets {
        progress(&format!("Exporting volume {name} to {}", path.display()));
        let bytes = export_one(docker, name, &path).await?;
        done.push(Exported {
            name: name.clone(),
            path,
            bytes,
        });
    }
    Ok(done)
}

/// `<name>.tar`, for the names the engine allows (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
fn archive_name(name: &str) -> Result<String, ExportError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return Err(ExportError::BadName(name.to_string()));
    }
    Ok(format!("{name}.tar"))
}

async fn export_one(docker: &Docker, name: &str, path: &Path) -> Result<u64, ExportError> {
    let body = ContainerCreateBody {
        image: Some(EXPORT_IMAGE.to_string()),
        cmd: Some(
            ["tar", "-C", "/v", "-cf", "-", "."]
                .map(String::from)
                .to_vec(),
        ),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        network_disabled: Some(true),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{name}:/v:ro")]),
            network_mode: Some("none".to_string()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = docker
        .create_container(None, body)
        .await
        .map_err(|source| engine(&format!("create the export container for {name}"), source))?
        .id;
    let result = run_tar(docker, &id, name, path).await;
    let _ = docker
        .remove_container(
            &id,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await;
    if result.is_err() {
        let _ = std::fs::remove_file(partial(path));
    }
    result
}

async fn run_tar(docker: &Docker, id: &str, name: &str, path: &Path) -> Result<u64, ExportError> {
    let partial = partial(path);
    let write_err = |source| ExportError::Write {
        path: partial.clone(),
        source,
    };
    let mut file = tokio::fs::File::create(&partial).await.map_err(write_err)?;
    // Attached before the start, so no byte of tar's output is missed.
    let mut attached = docker
        .attach_container(
            id,
            Some(AttachContainerOptions {
                stream: true,
                stdout: true,
                stderr: true,
                ..Default::default()
            }),
        )
        .await
        .map_err(|source| engine("attach to the export container", source))?;
    docker
        .start_container(id, None)
        .await
        .map_err(|source| engine("start the export container", source))?;
    let mut bytes = 0u64;
    let mut stderr = Vec::new();
    while let Some(chunk) = attached.output.next().await {
        match chunk.map_err(|source| engine("stream the volume's archive", source))? {
            LogOutput::StdOut { message } => {
                file.write_all(&message).await.map_err(write_err)?;
                bytes += message.len() as u64;
            }
            LogOutput::StdErr { message } => {
                let room = STDERR_LIMIT.saturating_sub(stderr.len());
                stderr.extend_from_slice(&message[..message.len().min(room)]);
            }
            _ => {}
        }
    }
    let code = match docker
        .wait_container(id, None::<WaitContainerOptions>)
        .next()
        .await
    {
        Some(Ok(answer)) => answer.status_code,
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
        Some(Err(source)) => return Err(engine("wait for the export container", source)),
        None => -1,
    };
    if code != 0 {
        return Err(ExportError::Tar {
            name: name.to_string(),
            code,
            stderr: String::from_utf8_lossy(&stderr).trim().to_string(),
        });
    }
    file.sync_all().await.map_err(write_err)?;
    drop(file);
    std::fs::rename(&partial, path).map_err(|source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(bytes)
}

fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn engine(what: &str, source: bollard::errors::Error) -> ExportError {
    ExportError::Engine {
        what: what.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_engine_volume_names_become_file_names() {
        assert_eq!(archive_name("data_1.x-y").unwrap(), "data_1.x-y.tar");
        for bad in ["", "../etc", "a/b", ".hidden", "-x", "a\0b"] {
            assert!(archive_name(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn an_existing_archive_stops_the_export_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.tar"), "keep").unwrap();
        // Nothing listens there: the clash is found before the engine is asked anything.
        let socket = dir.path().join("docker.sock");
        std::fs::write(&socket, "").unwrap();
        let docker = connect(&socket).unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        let err = export_volumes(&docker, &names, dir.path(), |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, ExportError::Exists { .. }), "{err}");
        assert!(!dir.path().join("a.tar").exists());
        assert_eq!(std::fs::read(dir.path().join("b.tar")).unwrap(), b"keep");
    }
}
