//! Whether a rollout is done, still going, or failed: decided from one observation of the service and its
//! tasks, with no AWS calls, so every rule has a table test.
//!
//! A rollout succeeds only when ECS says the deployment is done *and* the service's running tasks are on
//! the target task definition and healthy where a container has a health check. Counting "one deployment,
//! running == desired" alone would call a circuit-breaker rollback a success, and counting one RUNNING task
//! would call a crash loop a success.

use std::collections::BTreeSet;

use crate::decide::history::History;
use crate::decide::names::short_arn;
use crate::decide::service::{DeploymentState, ServiceState, TaskState};

/// What one read of the service and its tasks showed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// The service, or `None` when ECS no longer has it.
    pub service: Option<ServiceState>,
    /// The service's tasks that ECS wants running (ListTasks, desired status RUNNING); `None` when they were
    /// not read because the service alone shows the rollout is not done (see [`needs_tasks`]).
    pub tasks: Option<Vec<TaskState>>,
}

/// The rollout being watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// The deployment id UpdateService started, when it said; otherwise the deployment is found by its task
    /// definition.
    pub deployment_id: Option<String>,
    /// The task definition ARN the service should end up on.
    pub task_definition: String,
    /// The task definition the service ran before, to tell a rollback from another update.
    pub previous_task_definition: Option<String>,
    /// Containers with a health check: tasks count only once these are HEALTHY.
    pub health_checked: BTreeSet<String>,
    /// The previous task definition's containers with a health check: a rollback to it is judged by them.
    pub previous_health_checked: BTreeSet<String>,
}

impl Goal {
    /// The goal of a rollback of this rollout to `task_definition`, by the deployment `deployment_id`
    /// (ECS's own, or UpdateService's): judged by that revision's health checks when it is the previous
    /// one, and never rolled back itself.
    pub fn rollback(&self, deployment_id: Option<String>, task_definition: String) -> Goal {
        let health_checked =
            if self.previous_task_definition.as_deref() == Some(task_definition.as_str()) {
                self.previous_health_checked.clone()
            } else {
                BTreeSet::new()
            };
        Goal {
            deployment_id,
            task_definition,
            previous_task_definition: Some(self.task_definition.clone()),
            health_checked,
            previous_health_checked: BTreeSet::new(),
        }
    }
}

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

/// What an observation says about the rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Still going; the text says how far it got.
    InProgress(String),
    /// The service runs the goal's task definition.
    Done,
    /// It will not get there.
    Failed(Failure),
}

/// Why a rollout will not get there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The service is missing, DRAINING or INACTIVE: there is nothing to roll back.
    ServiceGone(String),
    /// ECS marked the deployment FAILED and did not roll it back.
    DeploymentFailed(String),
    /// ECS rolled the service back to the previous task definition (the circuit breaker did).
    RolledBackByEcs {
        /// What ECS said.
        reason: String,
        /// The deployment ECS started for the rollback, to watch it.
        deployment_id: String,
        /// The task definition ECS went back to.
        task_definition: String,
    },
    /// Another update replaced the deployment; rolling back would undo someone else's deployment.
    Superseded {
        /// The task definition the service was updated to.
        by_task_definition: String,
    },
}

impl Failure {
    /// The failure in words, for logs and reports.
    pub fn reason(&self) -> String {
        match self {
            Self::ServiceGone(reason) | Self::DeploymentFailed(reason) => reason.clone(),
            Self::RolledBackByEcs { reason, .. } => {
                format!("ECS rolled the service back: {reason}")
            }
            Self::Superseded { by_task_definition } => format!(
                "superseded: the service was updated to {} while this rollout ran",
                short_arn(by_task_definition)
            ),
        }
    }
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

    let ecs_says_done = ecs_says_done(service, ours);
    let Some(tasks) = &observation.tasks else {
        return Verdict::InProgress(counted_progress(service, ours, goal));
    };

    let running: Vec<&TaskState> = tasks
        .iter()
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    let others = running
        .iter()
        .filter(|t| t.task_definition != goal.task_definition)
        .count();
    let healthy = running
        .iter()
        .filter(|t| {
            t.task_definition == goal.task_definition && is_healthy(t, &goal.health_checked)
        })
        .count();
    let desired = usize::try_from(service.desired_count).unwrap_or(0);
    let tasks_adopted = others == 0 && healthy >= desired;

    if ecs_says_done && tasks_adopted {
        return Verdict::Done;
    }
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
        progress.push_str(&format!(", {others} on other task definitions"));
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
pub fn needs_tasks(service: &ServiceState, goal: &Goal, history: &History) -> bool {
    if service.status != "ACTIVE" {
        return false;
    }
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    let ours = ours(history, service, goal);
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
