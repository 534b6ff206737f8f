//! One `deployments[]` entry of a service: a task definition being rolled out or drained, with its rollout
//! state and task counts.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::json::epoch_now;
use crate::task::{Task, TaskStatus};

/// IN_PROGRESS, COMPLETED or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutState {
    /// Tasks are being replaced.
    InProgress,
    /// All desired tasks run the deployment's task definition and no other deployment has tasks.
    Completed,
    /// The circuit breaker stopped the rollout.
    Failed,
}

impl RolloutState {
    /// The state as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }
}

/// One deployment of a service: a task definition being rolled out or drained.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// `ecs-svc/<19 digits>`; tasks carry it in `startedBy`.
    pub id: String,
    /// The task definition ARN it runs.
    pub task_definition: String,
    /// The service revision it runs.
    pub revision: String,
    /// Simulated second since which it has run steadily (all desired tasks healthy, alone), while it
    /// bakes under deployment alarms before COMPLETED.
    pub steady_since: Option<u64>,
    /// How many tasks it should run (the service's for the PRIMARY; shrinking for the others).
    pub desired_count: u32,
    /// Tasks of this deployment that failed (stopped without being asked to) in a row.
    pub failed_tasks: u32,
    /// Whether a task of it has run healthy: "Once a service deployment has one or more successfully
    /// running tasks, the failed task count resets to zero and stops being evaluated"
    /// (`Deployment.failedTasks`; unless the circuit breaker's `resetOnHealthyTask` is false).
    pub ran_healthy: bool,
    /// Where the rollout stands.
    pub rollout_state: RolloutState,
    /// Why it stands there.
    pub rollout_state_reason: String,
    /// When it was created (epoch seconds).
    pub created_at: f64,
    /// When it last changed (epoch seconds).
    pub updated_at: f64,
    /// The service's launch type, if any.
    pub launch_type: Option<String>,
    /// The service's network configuration at the time, if any.
    pub network_configuration: Option<Value>,
}

impl Deployment {
    /// A new IN_PROGRESS deployment of `task_definition` in the service revision `revision`, with the
    /// service's launch type and network configuration at the time (`placement`).
    pub fn new(
        task_definition: String,
        revision: String,
        desired_count: u32,
        placement: (Option<String>, Option<Value>),
    ) -> Self {
        let id = format!(
            "ecs-svc/{:019}",
            uuid::Uuid::new_v4().as_u128() % 10_u128.pow(19)
        );
        let now = epoch_now();
        Self {
            rollout_state_reason: format!("ECS deployment {id} in progress."),
            id,
            task_definition,
            revision,
            steady_since: None,
            desired_count,
            failed_tasks: 0,
            ran_healthy: false,
            rollout_state: RolloutState::InProgress,
            created_at: now,
            updated_at: now,
            launch_type: placement.0,
            network_configuration: placement.1,
        }
    }

    /// Moves the rollout to `state` for `reason`.
    pub fn set_rollout(&mut self, state: RolloutState, reason: String) {
        self.rollout_state = state;
        self.rollout_state_reason = reason;
        self.updated_at = epoch_now();
    }

    /// (running, pending) tasks of this deployment among the cluster's `tasks`.
    pub fn counts(&self, tasks: &BTreeMap<String, Task>) -> (u32, u32) {
        tasks
            .values()
            .filter(|t| t.deployment_id == self.id)
            .fold((0, 0), |(r, p), t| {
                (
                    r + u32::from(t.last_status == TaskStatus::Running),
                    p + u32::from(t.is_pending()),
                )
            })
    }

    /// Renders it as DescribeServices lists it, PRIMARY or ACTIVE, counting the cluster's `tasks`.
    pub fn render(&self, primary: bool, tasks: &BTreeMap<String, Task>) -> Value {
        let (running, pending) = self.counts(tasks);
        let mut out = json!({
            "id": self.id,
            "status": if primary { "PRIMARY" } else { "ACTIVE" },
            "taskDefinition": self.task_definition,
            "desiredCount": self.desired_count,
            "pendingCount": pending,
            "runningCount": running,
            "failedTasks": self.failed_tasks,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "rolloutState": self.rollout_state.as_str(),
            "rolloutStateReason": self.rollout_state_reason,
        });
        if let Some(launch_type) = &self.launch_type {
            out["launchType"] = json!(launch_type);
        }
        if let Some(network) = &self.network_configuration {
            out["networkConfiguration"] = network.clone();
        }
        out
    }
}
