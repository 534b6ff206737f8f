//! A rollout judged by ECS's own record of its service deployment: the record's status is the verdict,
//! and the service's deployments only name who took over and how far the tasks got.

use crate::decide::ecs_verdict::{EcsVerdict, verdict};
use crate::decide::history::History;
use crate::decide::names::short_arn;
use crate::decide::rollout::goal::{Failure, Goal, Verdict};
use crate::decide::service::{DeploymentState, ServiceDeploymentState, ServiceState};

/// Whether the record says the goal was reached: SUCCESSFUL, or for ECS's rollback ROLLBACK_SUCCESSFUL.
pub fn ended_well(record: &ServiceDeploymentState, goal: &Goal) -> bool {
    match verdict(record) {
        EcsVerdict::Succeeded => !goal.ecs_rolls_back,
        EcsVerdict::RolledBack(_) => goal.ecs_rolls_back,
        _ => false,
    }
}

/// Judges the rollout by `record`, its own, on `service`.
pub fn judge(
    record: &ServiceDeploymentState,
    service: &ServiceState,
    goal: &Goal,
    history: &History,
) -> Verdict {
    if ended_well(record, goal) {
        return Verdict::Done;
    }
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    let ours = history.ours(
        service,
        goal.deployment_id.as_deref(),
        &goal.task_definition,
    );
    match verdict(record) {
        EcsVerdict::RollbackFailed(reason) => Verdict::Failed(Failure::EcsRollbackFailed(reason)),
        EcsVerdict::RollingBack(reason) | EcsVerdict::RolledBack(reason)
            if !goal.ecs_rolls_back =>
        {
            let taking_over = primary.filter(|p| ours.is_none_or(|o| o.id != p.id));
            Verdict::Failed(Failure::RolledBackByEcs {
                reason,
                deployment_id: taking_over.map(|p| p.id.clone()),
                task_definition: taking_over
                    .map(|p| p.task_definition.clone())
                    .or_else(|| goal.previous_task_definition.clone())
                    .unwrap_or_else(|| goal.task_definition.clone()),
            })
        }
        EcsVerdict::RollingBack(reason) => {
            Verdict::InProgress(format!("ECS is rolling back: {reason}"))
        }
        EcsVerdict::Stopped(reason) => stopped(record, service, primary, goal, reason),
        EcsVerdict::Paused { hooks, stage } => Verdict::InProgress(format!(
            "ECS waits at {stage} for lifecycle hook {} (ContinueServiceDeployment)",
            hooks.join(", ")
        )),
        EcsVerdict::Going(status) => Verdict::InProgress(match ours {
            Some(ours) => format!(
                "service deployment {status}; {}",
                counted(service, ours, &goal.task_definition)
            ),
            None => format!("service deployment {status}"),
        }),
        EcsVerdict::Succeeded | EcsVerdict::RolledBack(_) => Verdict::InProgress(format!(
            "ECS's record says {}, which is not the end of this rollout",
            record.status
        )),
    }
}

/// A record STOPPED (or being stopped): replaced by a newer deployment (superseded: someone else's
/// update), or stopped by ECS after a failure it does not roll back (failed: the worker may roll back).
fn stopped(
    record: &ServiceDeploymentState,
    service: &ServiceState,
    primary: Option<&DeploymentState>,
    goal: &Goal,
    reason: String,
) -> Verdict {
    let replaced = service
        .current_service_deployment
        .as_deref()
        .is_some_and(|current| current != record.arn);
    if replaced {
        return Verdict::Failed(Failure::Superseded {
            by_deployment: primary.map(|p| p.id.clone()),
            by_task_definition: primary
                .map(|p| p.task_definition.clone())
                .unwrap_or_else(|| "another task definition".into()),
        });
    }
    let what = if goal.ecs_rolls_back {
        "ECS stopped its rollback"
    } else {
        "ECS stopped the service deployment"
    };
    Verdict::Failed(Failure::DeploymentFailed(format!(
        "{what} ({}): {reason}",
        record.status
    )))
}

/// How far the deployment `ours` got by ECS's counts.
fn counted(service: &ServiceState, ours: &DeploymentState, task_definition: &str) -> String {
    format!(
        "{} of {} running on {}",
        ours.running_count,
        service.desired_count,
        short_arn(task_definition)
    )
}
