//! The two changes a deployment makes: registering its revision (never twice, even when an answer is
//! lost) and pointing the service at it, with the deployment recorded on the revision.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{info, warn};

use crate::aws::ecs::Ecs;
use crate::decide::history::started;
use crate::decide::marker;
use crate::decide::message::DeploymentRequest;
use crate::decide::names::short_arn;
use crate::decide::outcome::Outcome;
use crate::decide::service::ServiceState;
use crate::runtime::retry::Retry;

/// Registers the request with the marker tags; retries throttled calls, and after any other failure
/// looks for the marked revision before trying again, since the registration may have happened.
pub async fn register(
    ecs: &Ecs,
    retry: Retry,
    request: &DeploymentRequest,
    tags: &[(String, String)],
    message_id: &str,
) -> Result<String, Outcome> {
    let task_definition = request
        .task_definition
        .with_marker_tags(tags)
        .map_err(|reason| Outcome::Rejected { reason })?;
    let family = task_definition.family();
    // After a failure other than throttling the registration may have happened: look before trying again.
    let look_first = AtomicBool::new(false);
    retry.call(|| async {
        if look_first.load(Ordering::Relaxed)
            && let Some(marked) = ecs.find_marked(family, message_id).await?
        {
            info!(task_definition = %marked.task_definition, "the failed-looking registration had happened; using it");
            return Ok(marked.task_definition);
        }
        ecs.register(&task_definition).await.inspect_err(|e| {
            look_first.store(!e.throttled, Ordering::Relaxed);
        })
    })
    .await
}

/// Points the service at the revision and records the deployment on it; gives the service as ECS's
/// answer shows it.
pub async fn point_service(
    ecs: &Ecs,
    retry: Retry,
    service: &str,
    task_definition: &str,
) -> Result<Option<ServiceState>, Outcome> {
    let after = retry
        .call(|| ecs.update_service(service, task_definition))
        .await?;
    let deployment = after
        .as_ref()
        .and_then(|after| started(after, task_definition));
    // Retried like every other call: a redelivery without it can only find the deployment while ECS still
    // lists it, and otherwise settles as superseded instead of updating the service again.
    let tag = deployment.map(|d| marker::tag_value(&d.id));
    if let Some(tag) = &tag
        && let Err(outcome) = retry
            .call(|| ecs.tag(task_definition, marker::DEPLOYMENT_TAG, tag))
            .await
    {
        warn!(error = %outcome.reason(), "cannot record the deployment on the revision; a redelivery finds it by the service's deployments while ECS lists it");
    }
    info!(
        deployment = deployment.map_or("unknown", |d| d.id.as_str()),
        to = short_arn(task_definition),
        "updated the service; watching the rollout"
    );
    Ok(after)
}
