//! ECS's answers read into plain values: a service's state and events, a task's state and images, and why
//! a task stopped.

use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentLifecycleHookStatus, Service, ServiceDeployment,
    ServiceRevisionCleanup,
};

use crate::decide::digests::RunningImage;
use crate::decide::service::{
    DeploymentState, Rules, ServiceDeploymentState, ServiceState, TaskState, Timing,
};

/// A service event: ECS's own account of what it did or could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEvent {
    /// The event id, to report each once.
    pub id: String,
    /// What ECS said.
    pub message: String,
}

/// A task that stopped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedTask {
    /// The task ARN, to report each once.
    pub arn: String,
    /// The task definition it ran.
    pub task_definition: String,
    /// ECS's stoppedReason with each container's exit code and reason.
    pub reason: String,
    /// Whether it failed (`stopCode` TaskFailedToStart or EssentialContainerExited), rather than being
    /// stopped by the scheduler or a user: what ECS's circuit breaker counts.
    pub failed: bool,
}

/// A described service's events, newest first as ECS lists them.
pub fn service_events(service: &Service) -> Vec<ServiceEvent> {
    service
        .events()
        .iter()
        .filter_map(|e| {
            Some(ServiceEvent {
                id: e.id()?.to_owned(),
                message: e.message()?.to_owned(),
            })
        })
        .collect()
}

/// A described service as [`crate::decide::rollout`] judges it.
pub fn service_state(service: &Service) -> ServiceState {
    ServiceState {
        status: service.status().unwrap_or_default().to_owned(),
        desired_count: service.desired_count(),
        deployments: service.deployments().iter().map(deployment_state).collect(),
        deployment_controller: service
            .deployment_controller()
            .map(|c| c.r#type().as_str().to_owned()),
        current_service_deployment: service.current_service_deployment().map(str::to_owned),
        timing: service
            .deployment_configuration()
            .map(timing)
            .unwrap_or_default(),
        rules: service
            .deployment_configuration()
            .map(rules)
            .unwrap_or_default(),
    }
}

/// What a deployment configuration says of how a deployment ends.
fn rules(config: &DeploymentConfiguration) -> Rules {
    let breaker = config.deployment_circuit_breaker();
    let alarms = config.alarms();
    Rules {
        early_success: config
            .early_success_criteria()
            .filter(|e| e.enable())
            .map(|e| {
                (
                    e.healthy_percent().unwrap_or(100),
                    e.source_service_revision_cleanup() == Some(&ServiceRevisionCleanup::Deferred),
                )
            }),
        ecs_rolls_back: breaker.is_some_and(|b| b.enable() && b.rollback())
            || alarms.is_some_and(|a| a.enable() && a.rollback()),
        alarms: alarms.is_some_and(|a| a.enable()),
    }
}

/// What a deployment configuration says a deployment takes beyond its tasks starting.
fn timing(config: &DeploymentConfiguration) -> Timing {
    Timing {
        strategy: config.strategy().map(|s| s.as_str().to_owned()),
        bake_minutes: config.bake_time_in_minutes(),
        linear: config.linear_configuration().map(|l| {
            (
                l.step_percent().unwrap_or_default(),
                l.step_bake_time_in_minutes().unwrap_or_default(),
            )
        }),
        canary_bake_minutes: config
            .canary_configuration()
            .and_then(|c| c.canary_bake_time_in_minutes()),
        hooks: config
            .lifecycle_hooks()
            .iter()
            .map(|h| {
                (
                    h.timeout_configuration()
                        .and_then(|t| t.timeout_in_minutes()),
                    h.lifecycle_stages()
                        .iter()
                        .map(|s| s.as_str().to_owned())
                        .collect(),
                )
            })
            .collect(),
    }
}

/// A described service deployment as [`crate::decide::ecs_verdict`] judges it.
pub fn service_deployment_state(d: &ServiceDeployment) -> ServiceDeploymentState {
    let hooks = |status: DeploymentLifecycleHookStatus| {
        d.lifecycle_hook_details()
            .iter()
            .filter(|h| h.status() == Some(&status))
            .filter_map(|h| h.hook_id().map(str::to_owned))
            .collect()
    };
    ServiceDeploymentState {
        arn: d.service_deployment_arn().unwrap_or_default().to_owned(),
        status: d
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: d.status_reason().map(str::to_owned),
        lifecycle_stage: d.lifecycle_stage().map(|s| s.as_str().to_owned()),
        rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_owned),
        circuit_breaker: d.deployment_circuit_breaker().map(|b| {
            (
                b.status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                b.failure_count(),
                b.threshold(),
            )
        }),
        triggered_alarms: d
            .alarms()
            .map(|a| a.triggered_alarm_names().to_vec())
            .unwrap_or_default(),
        paused_hooks: hooks(DeploymentLifecycleHookStatus::AwaitingAction),
        running_hooks: hooks(DeploymentLifecycleHookStatus::InProgress),
        target_revision: d
            .target_service_revision()
            .and_then(|r| r.arn())
            .map(str::to_owned),
        target_task_definition: None,
    }
}

/// One deployment of a service as [`crate::decide::rollout`] judges it.
pub fn deployment_state(d: &aws_sdk_ecs::types::Deployment) -> DeploymentState {
    DeploymentState {
        id: d.id().unwrap_or_default().to_owned(),
        status: d.status().unwrap_or_default().to_owned(),
        task_definition: d.task_definition().unwrap_or_default().to_owned(),
        rollout_state: d.rollout_state().map(|s| s.as_str().to_owned()),
        rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
        running_count: d.running_count(),
        pending_count: d.pending_count(),
        failed_tasks: d.failed_tasks(),
        created_at_ms: d.created_at().and_then(|t| t.to_millis().ok()),
        updated_at_ms: d.updated_at().and_then(|t| t.to_millis().ok()),
    }
}

pub(super) fn task_state(task: &aws_sdk_ecs::types::Task) -> TaskState {
    TaskState {
        arn: task.task_arn().unwrap_or_default().to_owned(),
        task_definition: task.task_definition_arn().unwrap_or_default().to_owned(),
        last_status: task.last_status().unwrap_or_default().to_owned(),
        started_by: task.started_by().map(str::to_owned),
        health: task.health_status().map(|h| h.as_str().to_owned()),
        container_health: task
            .containers()
            .iter()
            .map(|c| {
                (
                    c.name().unwrap_or_default().to_owned(),
                    c.health_status()
                        .map_or("UNKNOWN", |h| h.as_str())
                        .to_owned(),
                )
            })
            .collect(),
    }
}

/// The containers of a task as the digest check reads them: each with its image and the digest it runs.
pub fn running_images(task: &aws_sdk_ecs::types::Task) -> Vec<RunningImage> {
    let id = task
        .task_arn()
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or("?");
    task.containers()
        .iter()
        .map(|c| RunningImage {
            task: id.to_owned(),
            container: c.name().unwrap_or("?").to_owned(),
            image: c.image().unwrap_or_default().to_owned(),
            digest: c.image_digest().map(str::to_owned),
        })
        .collect()
}

pub(super) fn stopped_reason(task: &aws_sdk_ecs::types::Task) -> String {
    let mut reason = task.stopped_reason().unwrap_or("stopped").to_owned();
    for c in task.containers() {
        let name = c.name().unwrap_or("container");
        match (c.exit_code(), c.reason()) {
            (Some(code), Some(why)) => reason.push_str(&format!("; {name}: exit {code}, {why}")),
            (Some(code), None) => reason.push_str(&format!("; {name}: exit {code}")),
            (None, Some(why)) => reason.push_str(&format!("; {name}: {why}")),
            (None, None) => {}
        }
    }
    reason
}
