//! TagResource, UntagResource and ListTagsForResource, for clusters, services and task definitions.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::json::{str_of, strings_of};
use crate::state::State;
use crate::task_definition::split_revision;

/// The most tags a resource holds. API reference, `TagResource`: "Maximum number of tags per resource -
/// 50", and "Tags with this prefix [aws:] do not count against your tags per resource limit."
const MAX_TAGS: usize = 50;

/// TagResource: adds or replaces tags by key; a resource that would hold more than [`MAX_TAGS`] is left
/// as it was (*inferred:* the error's code and wording).
pub fn tag_resource(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let tags = tags_mut(state, str_of(req, "resourceArn"))?;
    let mut merged = tags.clone();
    for tag in req
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = str_of(tag, "key");
        merged.retain(|t| str_of(t, "key") != key);
        merged.push(tag.clone());
    }
    let counted = merged
        .iter()
        .filter(|t| !str_of(t, "key").to_ascii_lowercase().starts_with("aws:"))
        .count();
    if counted > MAX_TAGS {
        return Err(ApiError::invalid_parameter(format!(
            "The resource would have {counted} tags; the maximum number of tags per resource is {MAX_TAGS}."
        )));
    }
    *tags = merged;
    Ok(json!({}))
}

/// UntagResource: removes tags by key.
pub fn untag_resource(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let keys = strings_of(req, "tagKeys")
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let tags = tags_mut(state, str_of(req, "resourceArn"))?;
    tags.retain(|t| !keys.iter().any(|k| k == str_of(t, "key")));
    Ok(json!({}))
}

/// ListTagsForResource.
pub fn list_tags_for_resource(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let tags = tags_mut(state, str_of(req, "resourceArn"))?;
    Ok(json!({"tags": tags}))
}

/// The tags of the cluster, service or task definition an ARN names.
fn tags_mut<'a>(state: &'a mut State, arn: &str) -> Result<&'a mut Vec<Value>, ApiError> {
    let resource = arn
        .strip_prefix("arn:aws:ecs:")
        .and_then(|rest| rest.splitn(3, ':').nth(2))
        .ok_or_else(|| ApiError::invalid_parameter(format!("Invalid resource ARN: {arn}")))?;
    let parts: Vec<&str> = resource.split('/').collect();
    match parts.as_slice() {
        ["cluster", name] => state.clusters.get_mut(*name).map(|c| &mut c.tags),
        ["service", cluster, name] => state
            .clusters
            .get_mut(*cluster)
            .and_then(|c| c.services.get_mut(*name))
            .map(|s| &mut s.tags),
        ["task-definition", name] => {
            let (family, index) = split_revision(name).ok_or_else(|| {
                ApiError::invalid_parameter(format!("Invalid resource ARN: {arn}"))
            })?;
            state
                .families
                .get_mut(family)
                .and_then(|revisions| revisions.get_mut(index))
                .map(|d| &mut d.tags)
        }
        _ => {
            return Err(ApiError::invalid_parameter(format!(
                "ecs-sim tags clusters, services and task definitions; not {arn}"
            )));
        }
    }
    .ok_or_else(ApiError::resource_not_found)
}
