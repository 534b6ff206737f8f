//! The rollout being judged and what a judgement says: the goal, one observation of the service, and the
//! verdict with why a rollout failed.

use std::collections::BTreeSet;

use crate::decide::names::short_arn;
use crate::decide::service::{ServiceDeploymentState, ServiceState, TaskState};

/// What one read of the service and its tasks showed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// The service, or `None` when ECS no longer has it.
    pub service: Option<ServiceState>,
    /// The service's tasks that ECS wants running (ListTasks, desired status RUNNING); `None` when they were
    /// not read because the service alone shows the rollout is not done (see [`super::needs_tasks`]).
    pub tasks: Option<Vec<TaskState>>,
    /// ECS's record of the goal's service deployment, when it was read: ECS's own verdict.
    pub deployment: Option<ServiceDeploymentState>,
}

/// The service deployment ECS keeps its record of a rollout in, and the task definition it deploys: a
/// record is the rollout's only when both match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOf {
    /// The service deployment's ARN.
    pub arn: String,
    /// The task definition its target revision runs: the rollout's, or for ECS's rollback of it, the one
    /// rolled back.
    pub task_definition: String,
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
    /// The service deployment ECS keeps its record and verdict of this rollout in, when it said which.
    pub service_deployment: Option<RecordOf>,
    /// Whether ECS rolls that service deployment back: the goal is then ROLLBACK_SUCCESSFUL, not
    /// SUCCESSFUL.
    pub ecs_rolls_back: bool,
    /// Whether only tasks the goal's deployment started count: a forced new deployment of the revision
    /// the service already runs (a redeploy) is done only once every task was replaced.
    pub fresh_tasks: bool,
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
            service_deployment: None,
            ecs_rolls_back: false,
            fresh_tasks: false,
        }
    }

    /// The goal of ECS's own rollback of this rollout's service deployment, to `task_definition` by the
    /// deployment `deployment_id`: reached once ECS says ROLLBACK_SUCCESSFUL and the tasks run it.
    pub fn ecs_rollback(&self, deployment_id: Option<String>, task_definition: String) -> Goal {
        Goal {
            service_deployment: self.service_deployment.clone(),
            ecs_rolls_back: true,
            ..self.rollback(deployment_id, task_definition)
        }
    }
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
        /// The deployment that takes the service back, when a read listed it.
        deployment_id: Option<String>,
        /// The task definition ECS went back to.
        task_definition: String,
    },
    /// ECS's rollback of the deployment failed too: the service's state is unknown.
    EcsRollbackFailed(String),
    /// Another update replaced the deployment; rolling back would undo someone else's deployment.
    Superseded {
        /// The deployment that took the service over, when a read listed it: who to ask about it.
        by_deployment: Option<String>,
        /// The task definition the service was updated to.
        by_task_definition: String,
    },
}

impl Failure {
    /// The failure in words, for logs and reports.
    pub fn reason(&self) -> String {
        match self {
            Self::ServiceGone(reason) | Self::DeploymentFailed(reason) => reason.clone(),
            Self::EcsRollbackFailed(reason) => {
                format!("ECS rolled the service back and its rollback failed: {reason}")
            }
            Self::RolledBackByEcs { reason, .. } => {
                format!("ECS rolled the service back: {reason}")
            }
            Self::Superseded {
                by_deployment,
                by_task_definition,
            } => format!(
                "superseded: {} of {} took the service over while this rollout ran; it is not this worker's to judge or roll back",
                by_deployment.as_deref().map_or_else(
                    || "another deployment".to_owned(),
                    |d| format!("deployment {d}")
                ),
                short_arn(by_task_definition)
            ),
        }
    }
}
