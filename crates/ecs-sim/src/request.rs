//! Reading an ECS request: its cluster, names and ARNs, tags, list members and pages, and ECS's rules for
//! names.

use serde_json::{Map, Value, json};

use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::json::strings_of;
use crate::state::State;

/// Largest page ListTasks and ListTaskDefinitions return, and their default.
const MAX_PAGE: usize = 100;

/// The cluster a request names (`default` when none).
pub fn cluster_name(req: &Value) -> &str {
    req.get("cluster")
        .and_then(Value::as_str)
        .map(last_segment)
        .unwrap_or("default")
}

/// The cluster a request names, or ClusterNotFoundException.
pub fn cluster_mut<'a>(state: &'a mut State, req: &Value) -> Result<&'a mut Cluster, ApiError> {
    state
        .clusters
        .get_mut(cluster_name(req))
        .ok_or_else(ApiError::cluster_not_found)
}

/// The name or id at the end of an ARN (or the reference itself when it is no ARN).
pub fn last_segment(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// Names of clusters, services and families: up to 255 letters, digits, hyphens and underscores.
pub fn check_name(member: &str, name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "{member} '{name}' is invalid: up to 255 letters (uppercase and lowercase), numbers, \
             hyphens, and underscores are allowed."
        )))
    }
}

/// Whether the request asks for tags (`include: ["TAGS"]`).
pub fn includes_tags(req: &Value) -> bool {
    strings_of(req, "include").contains(&"TAGS")
}

/// The request's `tags`, as given.
pub fn tags_of(req: &Value) -> Vec<Value> {
    req.get("tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The request's members but `excluded`.
pub fn members_except(req: &Value, excluded: &[&str]) -> Map<String, Value> {
    req.as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| !excluded.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// One page of `items` per the request's `maxResults` and `nextToken`, and the token of the next page.
pub fn paginate(
    items: Vec<String>,
    req: &Value,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    let page_size = match req.get("maxResults").and_then(Value::as_u64) {
        None => MAX_PAGE,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid_parameter(format!(
                "maxResults must be between 1 and {MAX_PAGE}; got {n}"
            )));
        }
    };
    let start = match req.get("nextToken").and_then(Value::as_str) {
        None => 0,
        Some(token) => token
            .strip_prefix("ecs-sim-page:")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ApiError::invalid_parameter("Invalid nextToken."))?,
    };
    let end = (start + page_size).min(items.len());
    let next = (end < items.len()).then(|| format!("ecs-sim-page:{end}"));
    Ok((items[start..end].to_vec(), next))
}

/// `out` with the next page's token, when there is one.
pub fn with_next_token(mut out: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        out["nextToken"] = json!(token);
    }
    out
}
