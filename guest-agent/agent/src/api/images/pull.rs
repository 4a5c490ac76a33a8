//! `POST /images/create` (`docker pull`, `docker import`), `GET /images/search` and
//! `POST /images/{name}/push`: registries come in a later issue. Until then each answers
//! at once with an error saying what to do instead, never a hang; `docker run` of an image
//! that is not loaded ends on this error too (the CLI pulls after the create's 404).

use serde::Deserialize;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::Query;

#[derive(Debug, Default, Deserialize)]
pub struct CreateQuery {
    #[serde(rename = "fromImage")]
    from_image: Option<String>,
    #[serde(rename = "fromSrc")]
    from_src: Option<String>,
    tag: Option<String>,
}

pub async fn create(Query(query): Query<CreateQuery>) -> ApiResult<()> {
    if query.from_src.is_some() {
        return Err(unsupported(
            "importing a root filesystem is not supported yet by Berth: load an image \
             archive with docker load"
                .to_string(),
        ));
    }
    let image = match (query.from_image.as_deref(), query.tag.as_deref()) {
        (Some(image), Some(tag)) if !tag.is_empty() && tag.starts_with("sha256:") => {
            format!("{image}@{tag}")
        }
        (Some(image), Some(tag)) if !tag.is_empty() => format!("{image}:{tag}"),
        (Some(image), _) => image.to_string(),
        (None, _) => return Err(ApiError::bad_request("fromImage or fromSrc is required")),
    };
    Err(unsupported(format!(
        "pulling images is not supported yet by Berth: load the image with docker load \
         (cannot pull {image})"
    )))
}

pub async fn search() -> ApiResult<()> {
    Err(unsupported(
        "searching registries is not supported yet by Berth".to_string(),
    ))
}

pub fn push_unsupported(name: &str) -> ApiError {
    unsupported(format!(
        "pushing images is not supported yet by Berth: save the image with docker save \
         (cannot push {name})"
    ))
}

fn unsupported(message: String) -> ApiError {
    ApiError::not_implemented(message)
}
