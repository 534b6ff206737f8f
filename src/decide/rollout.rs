//! Whether a rollout is done, still going, or failed: decided from one observation of the service and its
//! tasks, with no AWS calls, so every rule has a table test.
//!
//! A rollout succeeds only when ECS says the deployment is done *and* the service's running tasks are on
//! the target task definition and healthy where a container has a health check. Counting "one deployment,
//! running == desired" alone would call a circuit-breaker rollback a success, and counting one RUNNING task
//! would call a crash loop a success.

use std::collections::BTreeSet;

use crate::decide::ecs_verdict::{EcsVerdict, verdict};
use crate::decide::history::History;
use crate::decide::names::short_arn;
use crate::decide::service::{DeploymentState, ServiceState, TaskState};

mod goal;

pub use goal::{Failure, Goal, Observation, Verdict};

/// Notes in `history` what `observation` showed of the rollout to `goal`.
pub fn remember(history: &mut History, observation: &Observation, goal: &Goal) {
    if let Some(service) = &observation.service {
        history.note(
            service,
            goal.deployment_id.as_deref(),
            &goal.task_definition,
        );
    }
}

fn ours<'a>(
    history: &History,
    service: &'a ServiceState,
    goal: &Goal,
) -> Option<&'a DeploymentState> {
    history.ours(
        service,
        goal.deployment_id.as_deref(),
        &goal.task_definition,
    )
}

/// ECS's verdict on the goal's service deployment, when the observation has its record.
fn ecs_verdict(observation: &Observation, goal: &Goal) -> Option<EcsVerdict> {
    let record = observation.deployment.as_ref()?;
    (goal.service_deployment.as_deref() == Some(record.arn.as_str())).then(|| verdict(record))
}

/// Whether ECS's verdict says the goal's deployment reached its end (SUCCESSFUL, or ROLLBACK_SUCCESSFUL for
/// ECS's rollback), `None` when there is no verdict to go by (no record, or one STOPPED because another
/// deployment, which may run the same revision, replaced it): then the service's deployments decide.
fn ecs_done(ecs: Option<&EcsVerdict>, goal: &Goal) -> Option<bool> {
    match ecs? {
        EcsVerdict::Stopped(_) => None,
        EcsVerdict::Succeeded => Some(!goal.ecs_rolls_back),
        EcsVerdict::RolledBack(_) => Some(goal.ecs_rolls_back),
        _ => Some(false),
    }
}

/// Judges one observation against the goal, given what earlier reads showed (see [`History`]): by ECS's
/// own verdict on the service deployment where there is one, always with the running tasks checked.
pub fn judge(observation: &Observation, goal: &Goal, history: &History) -> Verdict {
    let ecs = ecs_verdict(observation, goal);
    let by_deployments =
        judge_deployments(observation, goal, history, ecs_done(ecs.as_ref(), goal));
    let Some(ecs) = ecs else {
        return by_deployments;
    };
    if matches!(by_deployments, Verdict::Failed(Failure::ServiceGone(_))) {
        return by_deployments;
    }
    let progress = |ecs_says: String| match &by_deployments {
        Verdict::InProgress(progress) => Verdict::InProgress(format!("{ecs_says}; {progress}")),
        _ => Verdict::InProgress(ecs_says),
    };
    match ecs {
        EcsVerdict::RollbackFailed(reason) => Verdict::Failed(Failure::EcsRollbackFailed(reason)),
        EcsVerdict::Succeeded | EcsVerdict::RolledBack(_)
            if ecs_done(Some(&ecs), goal) == Some(true) =>
        {
            by_deployments
        }
        EcsVerdict::RollingBack(reason) | EcsVerdict::RolledBack(reason)
            if !goal.ecs_rolls_back =>
        {
            rolled_back_by_ecs(observation, goal, reason)
        }
        EcsVerdict::Stopped(reason) => match by_deployments {
            Verdict::InProgress(_) => {
                progress(format!("ECS stopped the service deployment: {reason}"))
            }
            decided => decided,
        },
        EcsVerdict::Paused { hooks, stage } => progress(format!(
            "ECS waits at {stage} for lifecycle hook {} (ContinueServiceDeployment)",
            hooks.join(", ")
        )),
        EcsVerdict::Going(status) => progress(format!("service deployment {status}")),
        EcsVerdict::RollingBack(reason) => progress(format!("ECS is rolling back: {reason}")),
        EcsVerdict::Succeeded | EcsVerdict::RolledBack(_) => {
            progress("ECS's service deployment has not reached the goal".into())
        }
    }
}

/// ECS says it rolls the goal's deployment back: the rollback to watch, once a read shows the service
/// going back (a read that still shows the goal's deployment as PRIMARY is behind ECS's record). The
/// PRIMARY may be an older deployment taking over again, as blue/green, linear and canary roll back; the
/// rollback's own watch waits for ECS's record to say ROLLBACK_SUCCESSFUL, so a read behind cannot end it.
fn rolled_back_by_ecs(observation: &Observation, goal: &Goal, reason: String) -> Verdict {
    let service = observation.service.as_ref();
    let primary = service
        .and_then(|s| s.deployments.iter().find(|d| d.status == "PRIMARY"))
        .filter(|p| p.task_definition != goal.task_definition);
    match primary {
        Some(primary) => Verdict::Failed(Failure::RolledBackByEcs {
            reason,
            deployment_id: primary.id.clone(),
            task_definition: primary.task_definition.clone(),
        }),
        None => Verdict::InProgress(format!(
            "ECS is rolling back ({reason}); waiting for a read of the service that shows it"
        )),
    }
}

/// Judges one observation by the service's deployments and tasks alone; `ecs_done` is ECS's own verdict
/// on whether the deployment reached its end, when there is one.
fn judge_deployments(
    observation: &Observation,
    goal: &Goal,
    history: &History,
    ecs_done: Option<bool>,
) -> Verdict {
    let Some(service) = &observation.service else {
        return Verdict::Failed(Failure::ServiceGone("the service no longer exists".into()));
    };
    if service.status != "ACTIVE" {
        return Verdict::Failed(Failure::ServiceGone(format!(
            "the service is {}",
            service.status
        )));
    }
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    let ours = match (ours(history, service, goal), primary) {
        (Some(ours), Some(primary)) if ours.id == primary.id => ours,
        (ours, primary) => return not_primary(ours, primary, goal, history),
    };
    if ours.rollout_state.as_deref() == Some("FAILED") {
        return Verdict::Failed(Failure::DeploymentFailed(
            ours.rollout_state_reason
                .clone()
                .unwrap_or_else(|| "ECS marked the deployment FAILED".into()),
        ));
    }

    let ecs_says_done = ecs_done.unwrap_or_else(|| ecs_says_done(service, ours));
    let Some(tasks) = &observation.tasks else {
        return Verdict::InProgress(counted_progress(service, ours, goal));
    };

    let running: Vec<&TaskState> = tasks
        .iter()
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    // A redeploy counts only the tasks its own deployment started: the older ones run the same revision.
    let counts = |t: &&&TaskState| {
        t.task_definition == goal.task_definition
            && (!goal.fresh_tasks || t.started_by.as_deref() == Some(ours.id.as_str()))
    };
    let others = running.iter().filter(|t| !counts(t)).count();
    let healthy = running
        .iter()
        .filter(|t| counts(t) && is_healthy(t, &goal.health_checked))
        .count();
    let desired = usize::try_from(service.desired_count).unwrap_or(0);
    let tasks_adopted = others == 0 && healthy >= desired;

    if ecs_says_done && tasks_adopted {
        return Verdict::Done;
    }
    // What ECS calls done is not done while the tasks say otherwise, and the other way round.
    let mut progress = format!(
        "{healthy} running{} on {}, {desired} desired",
        if goal.health_checked.is_empty() {
            ""
        } else {
            " and healthy"
        },
        short_arn(&goal.task_definition)
    );
    if others > 0 {
        progress.push_str(&if goal.fresh_tasks {
            format!(", {others} not started by this deployment")
        } else {
            format!(", {others} on other task definitions")
        });
    }
    progress.push_str(&format!(
        ", rollout {}",
        ours.rollout_state
            .as_deref()
            .unwrap_or("state not reported")
    ));
    if ours.failed_tasks > 0 {
        progress.push_str(&format!(", {} failed tasks", ours.failed_tasks));
    }
    Verdict::InProgress(progress)
}

/// The verdict when the goal's deployment is not the PRIMARY one: not listed yet, a read behind, rolled
/// back by ECS, or superseded.
fn not_primary(
    ours: Option<&DeploymentState>,
    primary: Option<&DeploymentState>,
    goal: &Goal,
    history: &History,
) -> Verdict {
    let Some(primary) = primary else {
        return Verdict::InProgress("ECS lists no PRIMARY deployment yet".into());
    };
    if ours.is_none() && history.seen.is_none() {
        return Verdict::InProgress(format!(
            "ECS does not list the deployment of {} yet",
            short_arn(&goal.task_definition)
        ));
    }
    if history.behind(primary) {
        return Verdict::InProgress(
            "ECS answered from before the update (its reads are eventually consistent); waiting for a newer read"
                .into(),
        );
    }
    let rolled_back = ours.is_some_and(|o| o.rollout_state.as_deref() == Some("FAILED"))
        || goal.previous_task_definition.as_deref() == Some(&primary.task_definition);
    Verdict::Failed(if rolled_back {
        Failure::RolledBackByEcs {
            reason: ours
                .and_then(|o| o.rollout_state_reason.clone())
                .unwrap_or_else(|| {
                    format!(
                        "the service went back to {}",
                        short_arn(&primary.task_definition)
                    )
                }),
            deployment_id: primary.id.clone(),
            task_definition: primary.task_definition.clone(),
        }
    } else {
        Failure::Superseded {
            by_task_definition: primary.task_definition.clone(),
        }
    })
}

/// Whether the rollout needs the service's tasks read to be judged: only once ECS says the goal's
/// deployment is done. Until then the service alone decides (in progress, failed, rolled back, superseded),
/// so a rollout costs one shared DescribeServices per poll and no task reads.
pub fn needs_tasks(observation: &Observation, goal: &Goal, history: &History) -> bool {
    let Some(service) = &observation.service else {
        return false;
    };
    if service.status != "ACTIVE" {
        return false;
    }
    let done = ecs_done(ecs_verdict(observation, goal).as_ref(), goal);
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    let ours = ours(history, service, goal);
    matches!((primary, ours), (Some(p), Some(o)) if p.id == o.id
        && p.rollout_state.as_deref() != Some("FAILED")
        && done.unwrap_or_else(|| ecs_says_done(service, p)))
}

/// Whether the service's deployments alone show the rollout at an end (done by ECS's counts, failed,
/// rolled back or superseded): where ECS's record of the service deployment is not read at every poll
/// (see [`crate::decide::service::Timing::staged`]), the moment to read it.
pub fn looks_settled(observation: &Observation, goal: &Goal, history: &History) -> bool {
    let service_only = Observation {
        service: observation.service.clone(),
        tasks: None,
        deployment: None,
    };
    needs_tasks(&service_only, goal, history)
        || matches!(judge(&service_only, goal, history), Verdict::Failed(_))
}

/// ECS's own view: the deployment is COMPLETED, or (without rollout states) it is the only one and runs as
/// many tasks as desired.
pub fn ecs_says_done(service: &ServiceState, ours: &DeploymentState) -> bool {
    service.desired_count == 0
        || ours.rollout_state.as_deref() == Some("COMPLETED")
        || (ours.rollout_state.is_none()
            && service.deployments.len() == 1
            && ours.running_count == service.desired_count
            && ours.pending_count == 0)
}

/// Progress from ECS's counts, while the tasks themselves are not read.
fn counted_progress(service: &ServiceState, ours: &DeploymentState, goal: &Goal) -> String {
    let mut progress = format!(
        "{} of {} running on {} (ECS's count), rollout {}",
        ours.running_count,
        service.desired_count,
        short_arn(&goal.task_definition),
        ours.rollout_state
            .as_deref()
            .unwrap_or("state not reported")
    );
    if ours.failed_tasks > 0 {
        progress.push_str(&format!(", {} failed tasks", ours.failed_tasks));
    }
    progress
}

/// Whether every health-checked container of the task is HEALTHY (tasks without any count as healthy).
fn is_healthy(task: &TaskState, health_checked: &BTreeSet<String>) -> bool {
    task.container_health
        .iter()
        .filter(|(name, _)| health_checked.contains(name))
        .all(|(_, health)| health == "HEALTHY")
}

#[cfg(test)]
mod tests;
