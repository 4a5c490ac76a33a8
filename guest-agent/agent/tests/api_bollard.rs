//! A second Docker client against Berth: bollard (the Rust SDK), which negotiates its API
//! version down from 1.53 and decodes every answer with the same models Berth encodes them
//! with. A container's whole life: create, start, logs, exec, wait, inspect, remove.

mod common;

use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListImagesOptions, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptions,
};
use bollard::{Docker, API_DEFAULT_VERSION};
use common::daemon::Daemon;
use futures_util::StreamExt;

async fn client(daemon: &Daemon) -> Docker {
    let docker = Docker::connect_with_unix(&daemon.host(), 60, API_DEFAULT_VERSION).unwrap();
    docker.negotiate_version().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bollard_runs_a_container_through_its_life() {
    let daemon = Daemon::start();
    let docker = client(&daemon).await;
    assert_eq!(docker.client_version().to_string(), "1.51");

    let images = docker.list_images(None::<ListImagesOptions>).await.unwrap();
    assert!(
        images
            .iter()
            .any(|i| i.repo_tags.iter().any(|t| t == "berth/hello:latest")),
        "{images:?}"
    );

    let body = ContainerCreateBody {
        image: Some("berth/hello".into()),
        cmd: Some(vec![
            "sh".into(),
            "-c".into(),
            "echo out; echo err >&2; sleep 30".into(),
        ]),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::new()
        .name("bollard-one")
        .build();
    let created = docker.create_container(Some(options), body).await.unwrap();
    docker.start_container(&created.id, None).await.unwrap();

    let exec = docker
        .create_exec(
            "bollard-one",
            CreateExecOptions {
                cmd: Some(vec!["sh", "-c", "echo from-exec; exit 4"]),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let StartExecResults::Attached { mut output, .. } =
        docker.start_exec(&exec.id, None).await.unwrap()
    else {
        panic!("exec started detached");
    };
    let mut exec_out = String::new();
    while let Some(chunk) = output.next().await {
        exec_out.push_str(&chunk.unwrap().to_string());
    }
    assert_eq!(exec_out, "from-exec\n");
    let inspected = docker.inspect_exec(&exec.id).await.unwrap();
    assert_eq!(inspected.exit_code, Some(4));

    // The log, with stdout and stderr told apart by the multiplexed framing.
    let mut logs = docker.logs(
        "bollard-one",
        Some(LogsOptionsBuilder::new().stdout(true).stderr(true).build()),
    );
    let (mut stdout, mut stderr) = (String::new(), String::new());
    while let Some(entry) = logs.next().await {
        match entry.unwrap() {
            bollard::container::LogOutput::StdOut { message } => {
                stdout.push_str(&String::from_utf8_lossy(&message))
            }
            bollard::container::LogOutput::StdErr { message } => {
                stderr.push_str(&String::from_utf8_lossy(&message))
            }
            other => panic!("unexpected log frame {other:?}"),
        }
    }
    assert_eq!((stdout.as_str(), stderr.as_str()), ("out\n", "err\n"));

    docker
        .kill_container(
            "bollard-one",
            None::<bollard::query_parameters::KillContainerOptions>,
        )
        .await
        .unwrap();
    let mut wait = docker.wait_container("bollard-one", None::<WaitContainerOptions>);
    // bollard reports a non-zero exit as an error carrying the code.
    match wait.next().await.unwrap() {
        Ok(response) => assert_eq!(response.status_code, 137),
        Err(bollard::errors::Error::DockerContainerWaitError { code, .. }) => {
            assert_eq!(code, 137)
        }
        Err(e) => panic!("wait failed: {e}"),
    }
    let state = docker
        .inspect_container("bollard-one", None)
        .await
        .unwrap()
        .state
        .unwrap();
    assert_eq!(state.exit_code, Some(137));
    assert_eq!(state.running, Some(false));

    let options = RemoveContainerOptionsBuilder::new().force(true).build();
    docker
        .remove_container("bollard-one", Some(options))
        .await
        .unwrap();
    let gone = docker
        .inspect_container("bollard-one", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            gone,
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                ..
            }
        ),
        "{gone:?}"
    );
}
