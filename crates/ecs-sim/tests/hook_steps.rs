//! Lifecycle hooks at the production traffic stages: for linear and canary deployments
//! PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT come at every traffic step, each with its
//! hooks; and PAUSE hooks are refused where ECS allows only Lambda hooks.

mod common;

use aws_sdk_ecs::types::ServiceDeploymentStatus;
use common::Stepped;
use serde_json::json;

/// A service on `web:1`, updated to `web:2` by a LINEAR deployment of three steps (34 %, 68 %, 100 %)
/// with a PAUSE hook before every production traffic shift.
async fn linear_with_a_pause_before_each_step(bed: &Stepped) {
    let v1 = bed.register("web", "nginx:1", "healthy", true).await;
    let v2 = bed.register("web", "nginx:2", "healthy", true).await;
    bed.create_web(&v1, 2, json!({}));
    bed.step_to(ServiceDeploymentStatus::Successful, 60).await;
    bed.sim.call(
        "UpdateService",
        &json!({"service": "web", "taskDefinition": v2, "deploymentConfiguration": {
            "strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": 34.0, "stepBakeTimeInMinutes": 0},
            "lifecycleHooks": [{"targetType": "PAUSE",
                "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}]}}),
    );
}

#[tokio::test]
async fn the_production_traffic_stages_and_their_hooks_come_again_at_every_step() {
    let bed = Stepped::start().await;
    linear_with_a_pause_before_each_step(&bed).await;
    let mut pauses = Vec::new();
    let mut stages: Vec<String> = Vec::new();
    for _ in 0..300 {
        let d = bed.current().await;
        if d.status() == Some(&ServiceDeploymentStatus::Successful) {
            break;
        }
        let stage = d.lifecycle_stage().map(|s| s.as_str().to_owned());
        if let Some(stage) = stage.filter(|s| stages.last() != Some(s)) {
            stages.push(stage);
        }
        if let Some(hook) = d
            .lifecycle_hook_details()
            .iter()
            .find(|h| h.status().map(|s| s.as_str()) == Some("AWAITING_ACTION"))
        {
            let id = hook.hook_id().unwrap_or_default().to_owned();
            bed.ecs
                .continue_service_deployment()
                .service_deployment_arn(d.service_deployment_arn().unwrap_or_default())
                .hook_id(&id)
                .send()
                .await
                .expect("continue");
            pauses.push(id);
        }
        bed.sim.advance(1);
    }
    assert_eq!(
        bed.current().await.status(),
        Some(&ServiceDeploymentStatus::Successful)
    );
    assert_eq!(pauses.len(), 3, "one pause per step: {pauses:?}");
    let shifts: Vec<&str> = stages
        .iter()
        .map(String::as_str)
        .filter(|s| s.contains("PRODUCTION_TRAFFIC_SHIFT"))
        .collect();
    assert_eq!(
        shifts,
        [
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT",
        ]
    );
}

#[tokio::test]
async fn pause_hooks_are_refused_where_only_lambda_hooks_may_run() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "nginx:1", "healthy", true).await;
    for stage in ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"] {
        let err = bed
            .sim
            .try_call(
                "CreateService",
                &json!({"serviceName": "web", "taskDefinition": v1, "desiredCount": 1,
                    "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
                        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": [stage]}]}}),
            )
            .expect_err("refused");
        assert_eq!(err["__type"], "InvalidParameterException", "{err}");
        assert!(
            err["message"]
                .as_str()
                .unwrap_or("")
                .contains("only valid for AWS_LAMBDA hooks"),
            "{err}"
        );
    }
    // Lambda hooks may run there, and a PAUSE hook before the production traffic shift.
    bed.sim.call(
        "CreateService",
        &json!({"serviceName": "web", "taskDefinition": v1, "desiredCount": 1,
            "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
                "lifecycleHooks": [
                    {"targetType": "AWS_LAMBDA", "hookTargetArn": "arn:aws:lambda:us-east-1:1:function:f",
                     "lifecycleStages": ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"]},
                    {"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}]}}),
    );
}
