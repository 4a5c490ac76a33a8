//! Volumes: list (with their usage from `/system/df`), create, remove.

use std::collections::HashMap;

use bollard::models::{Volume, VolumeCreateRequest, VolumeUsageData};
use bollard::query_parameters::{ListVolumesOptions, RemoveVolumeOptions};
use tauri::State;

use crate::docker;
use crate::error::CmdResult;
use crate::state::AppState;

#[tauri::command]
pub async fn volumes_list(state: State<'_, AppState>) -> CmdResult<Vec<Volume>> {
    let docker = docker::connect(&state.dirs)?;
    let mut volumes = docker
        .list_volumes(None::<ListVolumesOptions>)
        .await?
        .volumes
        .unwrap_or_default();
    // Usage is a nicety: a list without it beats no list.
    let v = docker::API_VERSION;
    let path = format!(
        "/v{}.{}/system/df?type=volume",
        v.major_version, v.minor_version
    );
    match docker::raw::get_json(&state.dirs, &path).await {
        Ok(df) => fill_usage(&mut volumes, &df),
        Err(e) => tracing::warn!("volume usage: {}", e.message()),
    }
    Ok(volumes)
}

/// Copies each volume's `UsageData` from a `/system/df` answer: `Volumes` up to API
/// 1.51, `VolumeUsage.Items` from 1.52.
fn fill_usage(volumes: &mut [Volume], df: &serde_json::Value) {
    let items = df["Volumes"]
        .as_array()
        .or_else(|| df["VolumeUsage"]["Items"].as_array());
    let usage: HashMap<&str, VolumeUsageData> = items
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let name = v["Name"].as_str()?;
            let data = serde_json::from_value(v["UsageData"].clone()).ok()?;
            Some((name, data))
        })
        .collect();
    for volume in volumes {
        if let Some(data) = usage.get(volume.name.as_str()) {
            volume.usage_data = Some(data.clone());
        }
    }
}

#[tauri::command]
pub async fn volume_create(state: State<'_, AppState>, name: String) -> CmdResult<Volume> {
    let request = VolumeCreateRequest {
        name: Some(name).filter(|n| !n.is_empty()),
        ..Default::default()
    };
    Ok(docker::connect(&state.dirs)?.create_volume(request).await?)
}

#[tauri::command]
pub async fn volume_remove(state: State<'_, AppState>, name: String, force: bool) -> CmdResult<()> {
    Ok(docker::connect(&state.dirs)?
        .remove_volume(&name, Some(RemoveVolumeOptions { force }))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(name: &str) -> Volume {
        Volume {
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn usage_is_read_from_either_df_shape() {
        let old = serde_json::json!({"Volumes": [
            {"Name": "data", "UsageData": {"Size": 2048, "RefCount": 1}}
        ]});
        let new = serde_json::json!({"VolumeUsage": {"Items": [
            {"Name": "data", "UsageData": {"Size": 10, "RefCount": 0}}
        ]}});
        let mut volumes = vec![volume("data"), volume("other")];
        fill_usage(&mut volumes, &old);
        assert_eq!(volumes[0].usage_data.as_ref().unwrap().size, 2048);
        assert!(volumes[1].usage_data.is_none());
        fill_usage(&mut volumes, &new);
        assert_eq!(volumes[0].usage_data.as_ref().unwrap().ref_count, 0);
        let json = serde_json::to_value(&volumes[0]).unwrap();
        assert_eq!(json["UsageData"]["Size"], 10);
    }
}
