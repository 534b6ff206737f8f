//! ListTasks and DescribeTasks.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::json::strings_of;
use crate::request::{cluster_mut, cluster_name, last_segment, paginate, with_next_token};
use crate::state::State;

/// Most tasks one DescribeTasks call may name.
const MAX_DESCRIBE_TASKS: usize = 100;

/// ListTasks: a cluster's tasks by service, family, startedBy, launch type and desired status.
pub fn list_tasks(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let cluster = cluster_mut(state, req)?;
    let service = req
        .get("serviceName")
        .and_then(Value::as_str)
        .map(last_segment);
    if let Some(name) = service
        && !cluster.services.contains_key(name)
    {
        return Err(ApiError::service_not_found());
    }
    let family = req.get("family").and_then(Value::as_str);
    let started_by = req.get("startedBy").and_then(Value::as_str);
    let launch_type = req.get("launchType").and_then(Value::as_str);
    let on_instance = req.get("containerInstance").is_some();
    // "When you specify startedBy as the filter, it must be the only filter that you use"; the desired
    // status, which always applies (RUNNING by default), is not counted as one.
    if started_by.is_some()
        && (service.is_some() || family.is_some() || launch_type.is_some() || on_instance)
    {
        return Err(ApiError::invalid_parameter(
            "startedBy must be the only filter: it cannot be combined with serviceName, family, \
             containerInstance or launchType.",
        ));
    }
    let want_running = match req
        .get("desiredStatus")
        .and_then(Value::as_str)
        .unwrap_or("RUNNING")
    {
        "RUNNING" => Some(true),
        "STOPPED" => Some(false),
        _ => None,
    };
    let arns: Vec<String> = cluster
        .tasks
        .values()
        .filter(|t| {
            !on_instance
                && want_running == Some(t.desired_running)
                && service.is_none_or(|s| s == t.service)
                && family.is_none_or(|f| f == t.family)
                && started_by.is_none_or(|s| s == t.deployment_id)
                && launch_type.is_none_or(|l| Some(l) == t.launch_type.as_deref())
        })
        .map(|t| t.arn.clone())
        .collect();
    let (page, next) = paginate(arns, req)?;
    Ok(with_next_token(json!({"taskArns": page}), next))
}

/// DescribeTasks: at most a hundred, unknown ones as failures with reason MISSING.
pub fn describe_tasks(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let references = strings_of(req, "tasks");
    if references.len() > MAX_DESCRIBE_TASKS {
        return Err(ApiError::invalid_parameter(format!(
            "tasks can have at most {MAX_DESCRIBE_TASKS} items."
        )));
    }
    let cluster_name = cluster_name(req).to_owned();
    let identity = state.identity.clone();
    let cluster = cluster_mut(state, req)?;
    let mut tasks = Vec::new();
    let mut failures = Vec::new();
    for reference in references {
        let id = last_segment(reference);
        match cluster.tasks.get(id) {
            Some(task) => tasks.push(task.render(&cluster.arn)),
            None => failures.push(json!({
                "arn": identity.arn(&format!("task/{cluster_name}/{id}")),
                "reason": "MISSING",
            })),
        }
    }
    Ok(json!({"tasks": tasks, "failures": failures}))
}
