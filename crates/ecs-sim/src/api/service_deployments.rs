//! The service-deployment operations: ListServiceDeployments, DescribeServiceDeployments,
//! DescribeServiceRevisions, StopServiceDeployment and ContinueServiceDeployment.

use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::configuration::HookAction;
use crate::error::ApiError;
use crate::hook_run::HookStatus;
use crate::json::{str_of, strings_of};
use crate::request::{cluster_mut, last_segment, paginate, with_next_token};
use crate::service::Service;
use crate::service_deployment::{ServiceDeployment, Status, owner_of};
use crate::state::State;

/// Most service deployments or revisions one Describe call may name.
const MAX_DESCRIBE: usize = 20;

/// ListServiceDeployments: a service's deployments, newest first, filtered by status and creation time.
pub fn list(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let name = last_segment(str_of(req, "service")).to_owned();
    let statuses = strings_of(req, "status");
    let after = req.pointer("/createdAt/after").and_then(Value::as_f64);
    let before = req.pointer("/createdAt/before").and_then(Value::as_f64);
    let cluster = cluster_mut(state, req)?;
    let service = cluster
        .services
        .get(&name)
        .ok_or_else(ApiError::service_not_found)?;
    let matching: Vec<&ServiceDeployment> = service
        .service_deployments
        .iter()
        .filter(|d| statuses.is_empty() || statuses.contains(&d.status.as_str()))
        .filter(|d| after.is_none_or(|t| d.created_at >= t))
        .filter(|d| before.is_none_or(|t| d.created_at <= t))
        .collect();
    let arns: Vec<String> = matching.iter().map(|d| d.arn.clone()).collect();
    let (page, next) = paginate(arns, req)?;
    let briefs: Vec<Value> = page
        .iter()
        .filter_map(|arn| matching.iter().find(|d| &d.arn == arn))
        .map(|d| d.brief(&cluster.arn))
        .collect();
    Ok(with_next_token(json!({"serviceDeployments": briefs}), next))
}

/// DescribeServiceDeployments: up to 20 service deployments by ARN; unknown ones are failures.
pub fn describe(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let arns = strings_of(req, "serviceDeploymentArns");
    check_count("serviceDeploymentArns", arns.len())?;
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in arns {
        match find(state, arn) {
            Some((cluster, service, d)) => found.push(d.render(
                &cluster.arn,
                (&service.deployments, service.desired_count),
                &cluster.tasks,
            )),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceDeployments": found, "failures": failures}))
}

/// DescribeServiceRevisions: up to 20 service revisions by ARN; unknown ones are failures.
pub fn describe_revisions(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let arns = strings_of(req, "serviceRevisionArns");
    check_count("serviceRevisionArns", arns.len())?;
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in arns {
        let revision = owner_of(arn).and_then(|(cluster, service)| {
            let cluster = state.clusters.get(cluster)?;
            let revision = cluster
                .services
                .get(service)?
                .revisions
                .iter()
                .find(|r| r.arn == arn)?;
            Some(revision.render(&cluster.arn))
        });
        match revision {
            Some(revision) => found.push(revision),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceRevisions": found, "failures": failures}))
}

/// StopServiceDeployment: a deployment still going is rolled back to the previous revision.
pub fn stop(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let arn = str_of(req, "serviceDeploymentArn").to_owned();
    if let Some(stop_type) = req.get("stopType").and_then(Value::as_str)
        && stop_type != "ROLLBACK"
    {
        return Err(ApiError::invalid_parameter(format!(
            "stopType {stop_type} is not supported; the valid value is ROLLBACK."
        )));
    }
    let deployment = find_mut(state, &arn).ok_or_else(ApiError::service_deployment_not_found)?;
    // "You can stop a deployment that is in any of the following states": PENDING and IN_PROGRESS move
    // to ROLLBACK_REQUESTED; STOP_REQUESTED "continues to stop"; ROLLBACK_REQUESTED and
    // ROLLBACK_IN_PROGRESS continue the rollback (the developer guide's "Stopping Amazon ECS service
    // deployments"). A completed one cannot be stopped (*inferred*: ConflictException).
    match deployment.status {
        Status::Pending | Status::InProgress => deployment.set(
            Status::RollbackRequested,
            "Service deployment rollback requested.",
        ),
        Status::StopRequested | Status::RollbackRequested | Status::RollbackInProgress => {}
        done => {
            return Err(ApiError::conflict(format!(
                "The service deployment {arn} is {}: it has completed.",
                done.as_str()
            )));
        }
    }
    Ok(json!({"serviceDeploymentArn": arn}))
}

/// ContinueServiceDeployment: a PAUSE hook awaiting action continues, or rolls the deployment back.
pub fn continue_(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let arn = str_of(req, "serviceDeploymentArn").to_owned();
    let hook_id = str_of(req, "hookId").to_owned();
    let action = req
        .get("action")
        .and_then(Value::as_str)
        .map_or(Some(HookAction::Continue), HookAction::parse)
        .ok_or_else(|| ApiError::invalid_parameter("action must be CONTINUE or ROLLBACK."))?;
    let deployment = find_mut(state, &arn).ok_or_else(ApiError::service_deployment_not_found)?;
    let hook = deployment
        .hooks
        .iter_mut()
        .find(|h| h.id == hook_id && h.status == HookStatus::AwaitingAction)
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "The lifecycle hook {hook_id} of service deployment {arn} is not awaiting action."
            ))
        })?;
    hook.status = match action {
        HookAction::Continue => HookStatus::Succeeded,
        HookAction::Rollback => HookStatus::Failed,
    };
    Ok(json!({"serviceDeploymentArn": arn}))
}

fn check_count(member: &str, count: usize) -> Result<(), ApiError> {
    if count > MAX_DESCRIBE {
        return Err(ApiError::invalid_parameter(format!(
            "{member} can have at most {MAX_DESCRIBE} items."
        )));
    }
    Ok(())
}

/// The service deployment `arn`, with its cluster and service.
fn find<'a>(
    state: &'a State,
    arn: &str,
) -> Option<(&'a Cluster, &'a Service, &'a ServiceDeployment)> {
    let (cluster, service) = owner_of(arn)?;
    let cluster = state.clusters.get(cluster)?;
    let service = cluster.services.get(service)?;
    let deployment = service.service_deployments.iter().find(|d| d.arn == arn)?;
    Some((cluster, service, deployment))
}

fn find_mut<'a>(state: &'a mut State, arn: &str) -> Option<&'a mut ServiceDeployment> {
    let (cluster, service) = owner_of(arn)?;
    state
        .clusters
        .get_mut(cluster)?
        .services
        .get_mut(service)?
        .service_deployments
        .iter_mut()
        .find(|d| d.arn == arn)
}
