//! Images: list, pull with progress, remove, prune.

use std::collections::HashMap;

use bollard::models::{CreateImageInfo, ImageSummary};
use bollard::query_parameters::{
    CreateImageOptions, ListImagesOptions, PruneImagesOptions, RemoveImageOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::docker;
use crate::error::{AppError, CmdResult};
use crate::state::AppState;

#[tauri::command]
pub async fn images_list(state: State<'_, AppState>) -> CmdResult<Vec<ImageSummary>> {
    Ok(docker::connect(&state.dirs)?
        .list_images(Some(ListImagesOptions::default()))
        .await?)
}

#[tauri::command]
pub async fn image_pull(
    state: State<'_, AppState>,
    reference: String,
    on_progress: Channel<CreateImageInfo>,
) -> CmdResult<()> {
    let docker = docker::connect(&state.dirs)?;
    pull(&docker, &reference, |line| {
        let _ = on_progress.send(line);
    })
    .await
}

/// Pulls `reference`, each of docker's progress lines to `progress`; rejects with the
/// registry's message.
pub async fn pull(
    docker: &Docker,
    reference: &str,
    mut progress: impl FnMut(CreateImageInfo),
) -> CmdResult<()> {
    let (image, tag) = split_reference(reference)?;
    let options = CreateImageOptions {
        from_image: Some(image),
        tag,
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(line) = stream.next().await {
        progress(line?);
    }
    Ok(())
}

/// The image and tag the API wants. Without a tag the engine would pull every tag of
/// the repository; the docker CLI asks for `latest` then, and so does the app. A
/// digest stays in the image name.
pub fn split_reference(reference: &str) -> CmdResult<(String, Option<String>)> {
    let reference = reference.trim();
    if reference.is_empty() || reference.contains(char::is_whitespace) {
        return Err(AppError::msg(format!(
            "Invalid image reference {reference:?}"
        )));
    }
    if reference.contains('@') {
        return Ok((reference.to_string(), None));
    }
    // A colon after the last slash is a tag; before it, a registry's port.
    let last = reference.rsplit('/').next().unwrap_or(reference);
    match last.rsplit_once(':') {
        Some((_, tag)) => {
            let image = &reference[..reference.len() - tag.len() - 1];
            Ok((image.to_string(), Some(tag.to_string())))
        }
        None => Ok((reference.to_string(), Some("latest".into()))),
    }
}

#[tauri::command]
pub async fn image_remove(state: State<'_, AppState>, id: String, force: bool) -> CmdResult<()> {
    let options = RemoveImageOptions {
        force,
        ..Default::default()
    };
    docker::connect(&state.dirs)?
        .remove_image(&id, Some(options), None)
        .await?;
    Ok(())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pruned {
    deleted: usize,
    space_reclaimed: i64,
}

/// Removes dangling images, as `docker image prune` does.
#[tauri::command]
pub async fn images_prune(state: State<'_, AppState>) -> CmdResult<Pruned> {
    let filters = HashMap::from([("dangling".to_string(), vec!["true".to_string()])]);
    let answer = docker::connect(&state.dirs)?
        .prune_images(Some(PruneImagesOptions {
            filters: Some(filters),
        }))
        .await?;
    Ok(Pruned {
        deleted: answer.images_deleted.map(|d| d.len()).unwrap_or(0),
        space_reclaimed: answer.space_reclaimed.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_get_a_tag_unless_they_have_one_or_a_digest() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("alpine", "alpine", Some("latest")),
            ("alpine:3.20", "alpine", Some("3.20")),
            ("berth/hello", "berth/hello", Some("latest")),
            ("localhost:5000/app", "localhost:5000/app", Some("latest")),
            ("localhost:5000/app:v1", "localhost:5000/app", Some("v1")),
            ("alpine@sha256:abcd", "alpine@sha256:abcd", None),
        ];
        for (reference, image, tag) in cases {
            let (i, t) = split_reference(reference).unwrap();
            assert_eq!((i.as_str(), t.as_deref()), (*image, *tag), "{reference}");
        }
        assert!(split_reference("").is_err());
        assert!(split_reference("a b").is_err());
    }
}
