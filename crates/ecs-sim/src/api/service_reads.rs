//! DescribeServices and ListServices.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::json::strings_of;
use crate::request::{
    cluster_mut, cluster_name, includes_tags, last_segment, paginate, with_next_token,
};
use crate::service::ServiceStatus;
use crate::state::State;

/// Most services one DescribeServices call may name.
const MAX_DESCRIBE_SERVICES: usize = 10;

/// DescribeServices: at most ten, unknown ones as failures with reason MISSING.
pub fn describe_services(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let names = strings_of(req, "services");
    if names.len() > MAX_DESCRIBE_SERVICES {
        return Err(ApiError::invalid_parameter(format!(
            "services can have at most {MAX_DESCRIBE_SERVICES} items."
        )));
    }
    let include_tags = includes_tags(req);
    let cluster_name = cluster_name(req).to_owned();
    let identity = state.identity.clone();
    let cluster = cluster_mut(state, req)?;
    let mut services = Vec::new();
    let mut failures = Vec::new();
    for reference in names {
        let name = last_segment(reference);
        match cluster.services.get(name) {
            Some(service) => {
                services.push(service.render(&cluster.arn, &cluster.tasks, include_tags))
            }
            None => failures.push(json!({
                "arn": identity.arn(&format!("service/{cluster_name}/{name}")),
                "reason": "MISSING",
            })),
        }
    }
    Ok(json!({"services": services, "failures": failures}))
}

/// ListServices: the cluster's services that are not INACTIVE, by launch type and scheduling strategy when
/// asked; ten a page unless `maxResults` says otherwise (ECS's default).
pub fn list_services(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    const DEFAULT_PAGE: u64 = 10;
    let cluster = cluster_mut(state, req)?;
    let launch_type = req.get("launchType").and_then(Value::as_str);
    let daemon = match req.get("schedulingStrategy").and_then(Value::as_str) {
        None => None,
        Some("DAEMON") => Some(true),
        Some("REPLICA") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "schedulingStrategy must be REPLICA or DAEMON; got {other}"
            )));
        }
    };
    let mut arns: Vec<(f64, String)> = cluster
        .services
        .values()
        .filter(|s| s.status != ServiceStatus::Inactive)
        .filter(|s| launch_type.is_none_or(|l| Some(l) == s.launch_type.as_deref()))
        .filter(|s| daemon.is_none_or(|d| d == s.daemon))
        .map(|s| (s.created_at, s.arn.clone()))
        .collect();
    arns.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut paged = req.clone();
    if paged.get("maxResults").is_none() {
        paged["maxResults"] = json!(DEFAULT_PAGE);
    }
    let (page, next) = paginate(arns.into_iter().map(|(_, arn)| arn).collect(), &paged)?;
    Ok(with_next_token(json!({"serviceArns": page}), next))
}
