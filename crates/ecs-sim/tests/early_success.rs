//! Early success criteria of a rolling deployment: ECS completes it once `healthyPercent` of the desired
//! count run healthy on the new revision, removing the old revision's tasks before (BLOCKING) or after
//! (DEFERRED) it says SUCCESSFUL, and goes on scaling the new revision to the desired count; and the
//! configurations ECS refuses.

mod common;

use aws_sdk_ecs::types::ServiceDeploymentStatus;
use common::Stepped;
use serde_json::{Value, json};

/// `web` with four tasks on a healthy `web:1`, updated to a healthy `web:2` under `config` with
/// early success at half the desired count; a maximum of 100 % and a minimum of 50 % have ECS stop two old
/// tasks, start two new ones, and stop the other two old ones only then. Gives (web:1, web:2).
async fn four_tasks_updated(bed: &Stepped, config: Value) -> (String, String) {
    let v1 = bed.register("web", "nginx:1", "healthy", true).await;
    let v2 = bed.register("web", "nginx:2", "healthy", true).await;
    bed.create_web(
        &v1,
        4,
        json!({"maximumPercent": 100, "minimumHealthyPercent": 50}),
    );
    bed.step_to(ServiceDeploymentStatus::Successful, 60).await;
    bed.sim.call(
        "UpdateService",
        &json!({"service": "web", "taskDefinition": v2, "deploymentConfiguration": config}),
    );
    (v1, v2)
}

/// Early success criteria at half the desired count, the old revision's tasks removed as `cleanup` says.
fn half(cleanup: &str) -> Value {
    json!({"enable": true, "healthyPercent": 50, "sourceServiceRevisionCleanup": cleanup})
}

/// The old revision's tasks not yet STOPPED, and the new revision's tasks running HEALTHY.
async fn counts(bed: &Stepped, (v1, v2): (&str, &str)) -> (usize, usize) {
    let mut tasks = bed.tasks("web", "RUNNING").await;
    tasks.extend(bed.tasks("web", "STOPPED").await);
    let old = tasks
        .iter()
        .filter(|t| t.task_definition_arn() == Some(v1) && t.last_status() != Some("STOPPED"))
        .count();
    let new = tasks
        .iter()
        .filter(|t| {
            t.task_definition_arn() == Some(v2)
                && t.last_status() == Some("RUNNING")
                && t.health_status().map(|h| h.as_str()) == Some("HEALTHY")
        })
        .count();
    (old, new)
}

/// Steps until the current service deployment is SUCCESSFUL; gives [`counts`] at that moment.
async fn at_success(bed: &Stepped, revisions: (&str, &str)) -> (usize, usize) {
    for _ in 0..120 {
        if bed.current().await.status() == Some(&ServiceDeploymentStatus::Successful) {
            return counts(bed, revisions).await;
        }
        bed.sim.advance(1);
    }
    panic!("not SUCCESSFUL in 120 s: {:#?}", bed.current().await);
}

#[tokio::test]
async fn deferred_cleanup_succeeds_with_half_the_tasks_and_removes_the_old_ones_after() {
    let bed = Stepped::start().await;
    let (v1, v2) =
        four_tasks_updated(&bed, json!({"earlySuccessCriteria": half("DEFERRED")})).await;
    let (old, new) = at_success(&bed, (&v1, &v2)).await;
    assert_eq!(new, 2, "SUCCESSFUL with half the desired count healthy");
    assert!(old > 0, "the old revision's tasks go after the success");
    let service = bed.service("web").await;
    assert_eq!(
        service.deployments()[0].rollout_state().map(|s| s.as_str()),
        Some("COMPLETED")
    );
    // ECS "continues to scale the target service revision to 100 percent in the background".
    bed.sim.advance(20);
    assert_eq!(counts(&bed, (&v1, &v2)).await, (0, 4));
}

#[tokio::test]
async fn blocking_cleanup_removes_the_old_tasks_before_it_says_successful() {
    let bed = Stepped::start().await;
    let (v1, v2) =
        four_tasks_updated(&bed, json!({"earlySuccessCriteria": half("BLOCKING")})).await;
    let (old, new) = at_success(&bed, (&v1, &v2)).await;
    assert_eq!(old, 0, "every old task is gone once it is SUCCESSFUL");
    assert!(
        new < 4,
        "SUCCESSFUL before the new revision reached 4: {new}"
    );
    // ECS "continues to scale the target service revision to 100 percent in the background".
    bed.sim.advance(20);
    assert_eq!(counts(&bed, (&v1, &v2)).await, (0, 4));
}

#[tokio::test]
async fn under_deployment_alarms_early_success_waits_for_the_alarm_bake() {
    let bed = Stepped::start().await;
    let (v1, v2) = four_tasks_updated(
        &bed,
        json!({"earlySuccessCriteria": half("DEFERRED"),
            "alarms": {"alarmNames": ["errors"], "enable": true, "rollback": true}}),
    )
    .await;
    bed.sim.advance(60);
    let record = bed.current().await;
    assert_eq!(record.status(), Some(&ServiceDeploymentStatus::InProgress));
    assert_eq!(
        record.lifecycle_stage().map(|s| s.as_str()),
        Some("BAKE_TIME")
    );
    at_success(&bed, (&v1, &v2)).await;
}

#[tokio::test]
async fn configurations_ecs_refuses_are_refused() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "nginx:1", "healthy", true).await;
    let early = |percent: i64, cleanup: &str| json!({"enable": true, "healthyPercent": percent, "sourceServiceRevisionCleanup": cleanup});
    for (config, says) in [
        (
            json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
                "earlySuccessCriteria": early(50, "BLOCKING")}),
            "only supported with the ROLLING",
        ),
        (
            json!({"earlySuccessCriteria": {"enable": true, "healthyPercent": 50}}),
            "sourceServiceRevisionCleanup must be specified",
        ),
        (
            json!({"earlySuccessCriteria": early(101, "DEFERRED")}),
            "between 0 and 100",
        ),
        (
            json!({"minimumHealthyPercent": 75, "earlySuccessCriteria": early(50, "DEFERRED")}),
            "greater than or equal to minimumHealthyPercent",
        ),
    ] {
        let err = bed
            .sim
            .try_call(
                "CreateService",
                &json!({"serviceName": "web", "taskDefinition": v1, "desiredCount": 2,
                    "deploymentConfiguration": config}),
            )
            .expect_err("refused");
        assert_eq!(err["__type"], "InvalidParameterException", "{err}");
        assert!(
            err["message"].as_str().unwrap_or("").contains(says),
            "{err}"
        );
    }
}
