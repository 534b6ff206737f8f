//! Whether a rollout is done, still going, or failed, decided from one observation of the service with no
//! AWS calls, so every rule has a table test: by ECS's own record of the service deployment when it can be
//! read and is the rollout's, otherwise by the service's deployments and tasks under ECS's documented
//! rules. The worker, `send --wait` and `status` all judge with it.
//!
//! ECS's record is the verdict: SUCCESSFUL is deployed (the tasks are read only to add detail, never to
//! overturn it), ROLLBACK_* is failed and rolled back by ECS, STOPPED is failed or superseded. Without it,
//! a deployment is done once ECS calls it COMPLETED and its tasks run the goal's revision healthy (by the
//! essential containers' health checks, and to the early success criteria's share when they are set).

use crate::decide::ecs_verdict::EcsVerdict;
use crate::decide::history::History;
use std::collections::BTreeSet;

use crate::decide::service::{ServiceDeploymentState, ServiceState, TaskState};

pub mod by_deployments;
pub mod by_record;
mod goal;

pub use by_deployments::ecs_says_done;
pub use goal::{Failure, Goal, Observation, RecordOf, Verdict};

/// The lifecycle stages in which ECS starts and replaces the rollout's tasks, which `ECS_TIMEOUT` watches;
/// in every later one (traffic shifts, bakes, clean-up) ECS keeps to a schedule of its own.
const TASK_STAGES: [&str; 3] = ["RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP"];

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

/// ECS's record of the goal's service deployment, when the observation has it and it is the rollout's:
/// the one named for it, deploying its task definition (when the record's revision could be read).
pub fn bound_record<'a>(
    observation: &'a Observation,
    goal: &Goal,
) -> Option<&'a ServiceDeploymentState> {
    let record = observation.deployment.as_ref()?;
    let of = goal.service_deployment.as_ref()?;
    let deploys_it = record
        .target_task_definition
        .as_deref()
        .is_none_or(|td| td == of.task_definition);
    (record.arn == of.arn && deploys_it).then_some(record)
}

/// Judges one observation against the goal, given what earlier reads showed (see [`History`]).
pub fn judge(observation: &Observation, goal: &Goal, history: &History) -> Verdict {
    let Some(service) = &observation.service else {
        return Verdict::Failed(Failure::ServiceGone("the service no longer exists".into()));
    };
    if service.status != "ACTIVE" {
        return Verdict::Failed(Failure::ServiceGone(format!(
            "the service is {}",
            service.status
        )));
    }
    let tasks = observation.tasks.as_deref();
    match bound_record(observation, goal) {
        Some(record) => by_record::judge(record, service, goal, history),
        None => by_deployments::judge(service, tasks, goal, history),
    }
}

/// Whether the rollout needs the service's tasks read: without ECS's record, once ECS says the goal's
/// deployment is done (until then the service alone decides, so a rollout costs one shared
/// DescribeServices per poll and no task reads); with it, once it says SUCCESSFUL, for the report's
/// detail.
pub fn needs_tasks(observation: &Observation, goal: &Goal, history: &History) -> bool {
    let Some(service) = observation
        .service
        .as_ref()
        .filter(|s| s.status == "ACTIVE")
    else {
        return false;
    };
    match bound_record(observation, goal) {
        Some(record) => by_record::ended_well(record, goal),
        None => by_deployments::needs_tasks(service, goal, history),
    }
}

/// Whether the service's deployments alone show the rollout at an end or at a turn (done by ECS's
/// counts, failed, rolled back or superseded): where ECS's record is not read at every poll (see
/// [`crate::decide::service::ServiceState::record_every_poll`]), the moment to read it.
pub fn looks_settled(observation: &Observation, goal: &Goal, history: &History) -> bool {
    let service_only = Observation {
        service: observation.service.clone(),
        tasks: None,
        deployment: None,
    };
    let failed = service_only.service.as_ref().is_some_and(|s| {
        history
            .ours(s, goal.deployment_id.as_deref(), &goal.task_definition)
            .is_some_and(|d| d.rollout_state.as_deref() == Some("FAILED"))
    });
    failed
        || needs_tasks(&service_only, goal, history)
        || matches!(judge(&service_only, goal, history), Verdict::Failed(_))
}

/// What ECS's record says ECS itself waits for, when it does: a lifecycle hook, a bake, a traffic shift,
/// the old revision's clean-up. `ECS_TIMEOUT` does not run meanwhile: each of these ends on ECS's own
/// schedule (a hook's timeout, a bake's minutes).
pub fn ecs_waits(observation: &Observation, goal: &Goal) -> Option<String> {
    let record = bound_record(observation, goal)?;
    let stage = record.lifecycle_stage.as_deref().unwrap_or_default();
    let ongoing = matches!(
        crate::decide::ecs_verdict::verdict(record),
        EcsVerdict::Going(_) | EcsVerdict::Paused { .. } | EcsVerdict::RollingBack(_)
    );
    if !ongoing {
        return None;
    }
    if let Some(hook) = record.paused_hooks.first() {
        return Some(format!("lifecycle hook {hook} to be continued at {stage}"));
    }
    if let Some(hook) = record.running_hooks.first() {
        return Some(format!("lifecycle hook {hook} at {stage}"));
    }
    (!stage.is_empty() && !TASK_STAGES.contains(&stage)).then(|| format!("its {stage} stage"))
}

/// What the running tasks show beyond ECS's verdict, when they do not yet all run the goal's revision
/// healthy: detail for the report, never a verdict.
pub fn task_detail(observation: &Observation, goal: &Goal, history: &History) -> Option<String> {
    let service = observation.service.as_ref()?;
    let tasks = observation.tasks.as_deref()?;
    bound_record(observation, goal)?;
    by_deployments::task_shortfall(service, tasks, goal, history)
}

/// Whether the service's PRIMARY deployment is done, judged as a rollout to it would be: by `record`
/// (the service's current service deployment, when it deploys the PRIMARY's revision) or by the
/// deployments and `tasks`. What `status` calls a complete rollout.
pub fn primary_done(
    service: &ServiceState,
    record: Option<&ServiceDeploymentState>,
    tasks: Vec<TaskState>,
    health_checked: BTreeSet<String>,
) -> bool {
    let Some(primary) = service.deployments.iter().find(|d| d.status == "PRIMARY") else {
        return false;
    };
    let goal = Goal {
        deployment_id: Some(primary.id.clone()),
        task_definition: primary.task_definition.clone(),
        previous_task_definition: None,
        health_checked,
        previous_health_checked: BTreeSet::new(),
        service_deployment: record.map(|r| RecordOf {
            arn: r.arn.clone(),
            task_definition: primary.task_definition.clone(),
        }),
        ecs_rolls_back: false,
        fresh_tasks: false,
    };
    let history = History {
        seen: Some((primary.id.clone(), primary.created_at_ms)),
        ..History::default()
    };
    let observation = Observation {
        service: Some(service.clone()),
        tasks: Some(tasks),
        deployment: record.cloned(),
    };
    judge(&observation, &goal, &history) == Verdict::Done
}

#[cfg(test)]
mod tests;
