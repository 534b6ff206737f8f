//! A rollout judged without ECS's record (not readable, or not the rollout's), by the service's
//! `deployments[]` and tasks under ECS's documented rules: COMPLETED means done once the tasks agree, a
//! FAILED deployment is ECS's to roll back when the configuration says so, an older deployment that is
//! PRIMARY again after the goal's began is a rollback and not a read behind, and a newer one is someone
//! else's update unless the goal's had failed.

use crate::decide::history::History;
use crate::decide::names::short_arn;
use crate::decide::rollout::goal::{Failure, Goal, Verdict};
use crate::decide::service::{DeploymentState, ServiceState, TaskState};

/// Judges the rollout by `service`'s deployments and, once read, its `tasks`.
pub fn judge(
    service: &ServiceState,
    tasks: Option<&[TaskState]>,
    goal: &Goal,
    history: &History,
) -> Verdict {
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    let ours = history.ours(
        service,
        goal.deployment_id.as_deref(),
        &goal.task_definition,
    );
    let ours = match (ours, primary) {
        (Some(ours), Some(primary)) if ours.id == primary.id => ours,
        (ours, primary) => return not_primary(service, ours, primary, goal, history),
    };
    if ours.rollout_state.as_deref() == Some("FAILED") {
        let reason = ours
            .rollout_state_reason
            .clone()
            .unwrap_or_else(|| "ECS marked the deployment FAILED".into());
        // "If you use the rollback option, when a service deployment fails, the service is rolled back
        // to the last deployment that completed successfully": ECS's rollback deployment is coming.
        return if service.rules.ecs_rolls_back && !goal.ecs_rolls_back {
            Verdict::InProgress(format!(
                "ECS failed the deployment ({reason}) and rolls it back; waiting for a read that shows its rollback"
            ))
        } else {
            Verdict::Failed(Failure::DeploymentFailed(reason))
        };
    }
    let Some(tasks) = tasks else {
        return Verdict::InProgress(counted_progress(service, ours, goal));
    };
    let adopted = adopted(service, ours, tasks, goal);
    if ecs_says_done(service, ours) && adopted.shortfall.is_none() {
        return Verdict::Done;
    }
    // What ECS calls done is not done while the tasks say otherwise, and the other way round.
    let mut progress = adopted.progress;
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
    service: &ServiceState,
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
    let failed =
        history.failed || ours.is_some_and(|o| o.rollout_state.as_deref() == Some("FAILED"));
    let rolled_back = || {
        Verdict::Failed(Failure::RolledBackByEcs {
            reason: ours
                .and_then(|o| o.rollout_state_reason.clone())
                .unwrap_or_else(|| {
                    format!(
                        "the service went back to {}",
                        short_arn(&primary.task_definition)
                    )
                }),
            deployment_id: Some(primary.id.clone()),
            task_definition: primary.task_definition.clone(),
        })
    };
    if history.behind(primary) {
        // An older deployment PRIMARY again after the goal's began (blue/green, linear and canary roll
        // back so) is no read from before the update.
        let changed_since = matches!(
            (primary.updated_at_ms, history.created_at_ms()),
            (Some(updated), Some(ours)) if updated > ours
        );
        if failed || changed_since {
            return rolled_back();
        }
        return Verdict::InProgress(
            "ECS answered from before the update (its reads are eventually consistent); waiting for a newer read"
                .into(),
        );
    }
    // A newer PRIMARY: ECS's rollback of a failed deployment, or someone else's update. ECS rolls back
    // "to the last deployment that completed successfully": the revision before, or for a redeploy (whose
    // failing deployment a read may not have shown FAILED) the same revision.
    let back_to_previous =
        goal.previous_task_definition.as_deref() == Some(primary.task_definition.as_str());
    let back_to_itself = history.failing && primary.task_definition == goal.task_definition;
    if failed || (service.rules.ecs_rolls_back && (back_to_previous || back_to_itself)) {
        return rolled_back();
    }
    Verdict::Failed(Failure::Superseded {
        by_deployment: Some(primary.id.clone()),
        by_task_definition: primary.task_definition.clone(),
    })
}

/// Whether, without ECS's record, the tasks must be read: the goal's deployment is PRIMARY, not FAILED,
/// and ECS's counts say it is done.
pub fn needs_tasks(service: &ServiceState, goal: &Goal, history: &History) -> bool {
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    let ours = history.ours(
        service,
        goal.deployment_id.as_deref(),
        &goal.task_definition,
    );
    matches!((primary, ours), (Some(p), Some(o)) if p.id == o.id
        && p.rollout_state.as_deref() != Some("FAILED")
        && ecs_says_done(service, p))
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

/// What the running tasks show against the goal: how far they got, and what is short of done.
struct Adopted {
    /// The tasks' progress, in words.
    progress: String,
    /// What is short of done, `None` when nothing is.
    shortfall: Option<String>,
}

/// Whether `tasks` run the goal's revision as ECS's rules ask: the desired count healthy on it and
/// nothing else, or with early success criteria their share (`healthyPercent`, rounded up) and, when the
/// old tasks' clean-up is DEFERRED, others still stopping. A redeploy counts only the tasks its own
/// deployment started: the older ones run the same revision.
fn adopted(
    service: &ServiceState,
    ours: &DeploymentState,
    tasks: &[TaskState],
    goal: &Goal,
) -> Adopted {
    let running: Vec<&TaskState> = tasks
        .iter()
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    let counts = |t: &&&TaskState| {
        t.task_definition == goal.task_definition
            && (!goal.fresh_tasks || t.started_by.as_deref() == Some(ours.id.as_str()))
    };
    let others = running.iter().filter(|t| !counts(t)).count();
    let healthy = running
        .iter()
        .filter(|t| counts(t) && is_healthy(t, goal))
        .count();
    let desired = usize::try_from(service.desired_count).unwrap_or(0);
    let (needed, others_allowed) = match service.rules.early_success {
        Some((percent, deferred)) => {
            let percent = usize::try_from(percent.clamp(0, 100)).unwrap_or(100);
            ((desired * percent).div_ceil(100), deferred)
        }
        None => (desired, false),
    };
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
    let shortfall = (healthy < needed || (others > 0 && !others_allowed)).then(|| progress.clone());
    Adopted {
        progress,
        shortfall,
    }
}

/// What the running tasks lack of the goal, when they lack anything (see `adopted`).
pub fn task_shortfall(
    service: &ServiceState,
    tasks: &[TaskState],
    goal: &Goal,
    history: &History,
) -> Option<String> {
    let ours = history.ours(
        service,
        goal.deployment_id.as_deref(),
        &goal.task_definition,
    )?;
    adopted(service, ours, tasks, goal).shortfall
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

/// Whether the task is healthy as ECS judges it: without a deciding health check, RUNNING is enough;
/// with one, its `healthStatus` HEALTHY (as ECS derives it from the deciding containers), or where that is
/// not reported, every deciding container HEALTHY.
fn is_healthy(task: &TaskState, goal: &Goal) -> bool {
    if goal.health_checked.is_empty() {
        return true;
    }
    match task.health.as_deref() {
        Some(health) => health == "HEALTHY",
        None => task
            .container_health
            .iter()
            .filter(|(name, _)| goal.health_checked.contains(name))
            .all(|(_, health)| health == "HEALTHY"),
    }
}
