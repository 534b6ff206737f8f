//! Each container acts on its own `ecs-sim.behaviour` label, and a task's health follows ECS's rule:
//! essential containers decide it (non-essential ones only when no essential container has a health
//! check), an essential container's exit stops the task and a non-essential one's does not, and a task
//! whose health no health check decides counts as healthy 40 s after RUNNING.

mod common;

use aws_sdk_ecs::types::{DeploymentRolloutState, HealthStatus, ServiceDeploymentStatus, Task};
use common::{Stepped, is_completed_on};
use serde_json::{Value, json};

/// A container definition named `name`, essential or not, labelled `behaviour`, with a health check when
/// `checked`.
fn container(name: &str, essential: bool, behaviour: &str, checked: bool) -> Value {
    let mut def = json!({
        "name": name,
        "image": format!("{name}:1"),
        "essential": essential,
        "dockerLabels": {"ecs-sim.behaviour": behaviour},
    });
    if checked {
        def["healthCheck"] = json!({"command": ["CMD-SHELL", "true"]});
    }
    def
}

/// Registers `family` with `containers`; gives its ARN.
fn register(bed: &Stepped, family: &str, containers: Vec<Value>) -> String {
    let out = bed.sim.call(
        "RegisterTaskDefinition",
        &json!({"family": family, "containerDefinitions": containers}),
    );
    out["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .expect("an ARN")
        .to_owned()
}

/// A service of two tasks on a healthy first revision, then updated to `containers`; gives the service
/// and the new revision.
async fn updated_to(containers: Vec<Value>) -> (Stepped, String) {
    let bed = Stepped::start().await;
    let v1 = register(&bed, "web", vec![container("app", true, "healthy", true)]);
    bed.create_service("web", &v1, 2, (false, false)).await;
    bed.complete("web", &v1).await;
    let v2 = register(&bed, "web", containers);
    bed.update("web", &v2).await;
    (bed, v2)
}

/// The container of `task` named `name`.
fn container_of<'a>(task: &'a Task, name: &str) -> &'a aws_sdk_ecs::types::Container {
    task.containers()
        .iter()
        .find(|c| c.name() == Some(name))
        .unwrap_or_else(|| panic!("no container {name} in {task:#?}"))
}

#[tokio::test]
async fn a_non_essential_container_s_failing_health_check_does_not_decide_the_task_s_health() {
    let (bed, v2) = updated_to(vec![
        container("app", true, "healthy", true),
        container("sidecar", false, "unhealthy", true),
    ])
    .await;
    bed.complete("web", &v2).await;
    let service = bed.service("web").await;
    assert_eq!(service.deployments()[0].failed_tasks(), 0);
    for task in bed.tasks("web", "RUNNING").await {
        assert_eq!(
            task.health_status(),
            Some(&HealthStatus::Healthy),
            "{task:#?}"
        );
        assert_eq!(
            container_of(&task, "sidecar").health_status(),
            Some(&HealthStatus::Unhealthy)
        );
        assert_eq!(
            container_of(&task, "app").health_status(),
            Some(&HealthStatus::Healthy)
        );
    }
}

#[tokio::test]
async fn a_non_essential_container_s_exit_leaves_its_task_running() {
    let (bed, v2) = updated_to(vec![
        container("app", true, "healthy", true),
        container("migrate", false, "crash", false),
    ])
    .await;
    bed.complete("web", &v2).await;
    assert_eq!(bed.service("web").await.deployments()[0].failed_tasks(), 0);
    for task in bed.tasks("web", "RUNNING").await {
        assert_eq!(task.last_status(), Some("RUNNING"));
        let migrate = container_of(&task, "migrate");
        assert_eq!(
            (migrate.last_status(), migrate.exit_code()),
            (Some("STOPPED"), Some(1))
        );
        assert_eq!(container_of(&task, "app").last_status(), Some("RUNNING"));
    }
}

#[tokio::test]
async fn an_essential_container_s_exit_stops_the_task_and_its_other_containers() {
    let (bed, _) = updated_to(vec![
        container("app", true, "crash", false),
        container("sidecar", false, "healthy", true),
    ])
    .await;
    bed.sim.advance(10);
    let service = bed.service("web").await;
    let primary = &service.deployments()[0];
    assert_eq!(
        primary.rollout_state(),
        Some(&DeploymentRolloutState::InProgress)
    );
    assert!(primary.failed_tasks() >= 2, "{primary:#?}");
    let stopped = bed.tasks("web", "STOPPED").await;
    let crashed = stopped
        .iter()
        .find(|t| t.stopped_reason() == Some("Essential container in task exited"))
        .expect("a task stopped for its essential container");
    assert_eq!(container_of(crashed, "app").exit_code(), Some(1));
    assert_eq!(container_of(crashed, "sidecar").exit_code(), Some(143));
}

#[tokio::test]
async fn without_an_essential_health_check_a_non_essential_one_decides_and_stops_the_task() {
    let (bed, _) = updated_to(vec![
        container("app", true, "healthy", false),
        container("sidecar", false, "unhealthy", true),
    ])
    .await;
    bed.sim.advance(10);
    let primary = bed.service("web").await.deployments()[0].clone();
    assert!(primary.failed_tasks() >= 2, "{primary:#?}");
    let stopped = bed.tasks("web", "STOPPED").await;
    assert!(
        stopped.iter().any(
            |t| t.stopped_reason() == Some("Task failed container health checks")
                && t.health_status() == Some(&HealthStatus::Unhealthy)
        ),
        "{stopped:#?}"
    );
}

#[tokio::test]
async fn a_task_no_health_check_decides_counts_as_healthy_40_seconds_after_running() {
    let (bed, v2) = updated_to(vec![container("app", true, "healthy", false)]).await;
    // Provisioning 1 s and pending 2 s; then RUNNING, UNKNOWN, and not counted for 40 s.
    bed.sim.advance(40);
    let service = bed.service("web").await;
    assert!(!is_completed_on(&service, &v2), "{service:#?}");
    for task in bed.tasks("web", "RUNNING").await {
        if task.task_definition_arn() == Some(v2.as_str()) {
            assert_eq!(
                task.health_status().map(HealthStatus::as_str),
                Some("UNKNOWN")
            );
        }
    }
    let seen = bed.complete("web", &v2).await;
    assert!(seen.len() <= 10, "{}", seen.len());
}

#[tokio::test]
async fn registration_refuses_what_ecs_or_the_labels_cannot_mean() {
    let bed = Stepped::start().await;
    for (containers, says) in [
        (
            vec![container("app", false, "healthy", true)],
            "at least one essential container",
        ),
        (
            vec![container("app", true, "unhealthy", false)],
            "fails a health check, and this container has none",
        ),
    ] {
        let err = bed
            .sim
            .try_call(
                "RegisterTaskDefinition",
                &json!({"family": "web", "containerDefinitions": containers}),
            )
            .expect_err("refused");
        assert_eq!(err["__type"], "ClientException", "{err}");
        assert!(
            err["message"].as_str().unwrap_or("").contains(says),
            "{err}"
        );
    }
}

/// `web` on two tasks of a healthy `web:1`, under the circuit breaker with a threshold of two failed
/// tasks (`reset` its `resetOnHealthyTask`) and a deployment alarm (whose bake keeps the rollout going),
/// updated to tasks that pass their health check and exit 10 s after RUNNING; gives the new deployment's
/// failed-task count and rollout state 40 s later.
async fn crashing_after_a_healthy_run(reset: bool) -> (i32, String) {
    let bed = Stepped::start().await;
    let v1 = register(&bed, "web", vec![container("app", true, "healthy", true)]);
    bed.create_web(
        &v1,
        2,
        json!({"deploymentCircuitBreaker": {"enable": true, "rollback": false,
            "resetOnHealthyTask": reset, "thresholdConfiguration": {"type": "COUNT", "value": 2}},
            "alarms": {"alarmNames": ["errors"], "enable": true, "rollback": false}}),
    );
    bed.step_to(ServiceDeploymentStatus::Successful, 200).await;
    let v2 = register(&bed, "web", vec![container("app", true, "crash:10", true)]);
    bed.update("web", &v2).await;
    bed.sim.advance(40);
    let primary = bed.service("web").await.deployments()[0].clone();
    (
        primary.failed_tasks(),
        primary
            .rollout_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn once_a_task_ran_healthy_failed_tasks_are_no_longer_counted_unless_told_otherwise() {
    // "Once a service deployment has one or more successfully running tasks, the failed task count
    // resets to zero and stops being evaluated."
    let (failed, state) = crashing_after_a_healthy_run(true).await;
    assert_eq!((failed, state.as_str()), (0, "IN_PROGRESS"));
    let (failed, state) = crashing_after_a_healthy_run(false).await;
    assert!(failed >= 2, "{failed}");
    assert_eq!(state, "FAILED");
}

#[tokio::test]
async fn a_task_waiting_for_capacity_stays_provisioning_then_runs() {
    let (bed, v2) = updated_to(vec![container("app", true, "provisioning:30", true)]).await;
    bed.sim.advance(20);
    let new: Vec<Task> = bed
        .tasks("web", "RUNNING")
        .await
        .into_iter()
        .filter(|t| t.task_definition_arn() == Some(v2.as_str()))
        .collect();
    assert_eq!(new.len(), 2);
    assert!(
        new.iter().all(|t| t.last_status() == Some("PROVISIONING")),
        "{new:#?}"
    );
    let seen = bed.complete("web", &v2).await;
    assert!(seen.len() <= 20, "{}", seen.len());
}
