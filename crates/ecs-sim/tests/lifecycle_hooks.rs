//! Lifecycle hooks of a service deployment: a PAUSE hook continued or rolled back, Lambda hooks answering as told and timing out.

mod common;

use aws_sdk_ecs::types::{
    DeploymentLifecycleHookAction, DeploymentLifecycleHookStatus, ServiceDeploymentStatus,
};
use common::Stepped;
use serde_json::json;

#[tokio::test]
async fn a_pause_hook_waits_for_continue_or_rolls_back() {
    for (action, expected) in [
        (
            DeploymentLifecycleHookAction::Continue,
            ServiceDeploymentStatus::Successful,
        ),
        (
            DeploymentLifecycleHookAction::Rollback,
            ServiceDeploymentStatus::RollbackSuccessful,
        ),
    ] {
        let bed = Stepped::start().await;
        let config = json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
            "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}]});
        let (v1, v2) = bed.started(config, "healthy").await;
        let mut hook = None;
        for _ in 0..100 {
            let d = bed.current().await;
            if let Some(h) = d.lifecycle_hook_details().first() {
                hook = Some(h.clone());
                break;
            }
            bed.sim.advance(1);
        }
        let hook = hook.expect("the hook runs");
        assert_eq!(
            hook.status(),
            Some(&DeploymentLifecycleHookStatus::AwaitingAction)
        );
        bed.sim.advance(30);
        let d = bed.current().await;
        assert_eq!(
            d.lifecycle_stage().map(|s| s.as_str()),
            Some("POST_SCALE_UP"),
            "paused"
        );
        let err = bed
            .ecs
            .continue_service_deployment()
            .service_deployment_arn(d.service_deployment_arn().expect("arn"))
            .hook_id("no-such-hook")
            .send()
            .await
            .expect_err("an unknown hook");
        assert!(err.into_service_error().is_invalid_parameter_exception());
        bed.ecs
            .continue_service_deployment()
            .service_deployment_arn(d.service_deployment_arn().expect("arn"))
            .hook_id(hook.hook_id().expect("hook id"))
            .action(action.clone())
            .send()
            .await
            .expect("continue");
        bed.step_to(expected.clone(), 100).await;
        let runs = bed.running().await;
        let on = if action == DeploymentLifecycleHookAction::Continue {
            &v2
        } else {
            &v1
        };
        assert_eq!(runs, [on.clone(), on.clone()], "{action:?}");
    }
}

#[tokio::test]
async fn lambda_hooks_answer_as_told_and_hooks_time_out() {
    let function = "arn:aws:lambda:us-east-1:123456789012:function:smoke-test";
    let bed = Stepped::start().await;
    bed.sim.set_lambda(function, "FAILED");
    let config = json!({"strategy": "CANARY", "lifecycleHooks": [
        {"hookTargetArn": function, "roleArn": "arn:aws:iam::123456789012:role/hooks",
         "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]});
    let (v1, _) = bed.started(config, "healthy").await;
    bed.step_to(ServiceDeploymentStatus::RollbackSuccessful, 100)
        .await;
    assert!(
        bed.current()
            .await
            .status_reason()
            .unwrap_or_default()
            .contains("smoke-test"),
    );
    assert_eq!(bed.running().await, [v1.clone(), v1]);

    let bed = Stepped::start().await;
    let config = json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [
        {"targetType": "PAUSE", "lifecycleStages": ["PRE_SCALE_UP"],
         "timeoutConfiguration": {"timeoutInMinutes": 1, "action": "CONTINUE"}}]});
    let (_, v2) = bed.started(config, "healthy").await;
    bed.step_to(ServiceDeploymentStatus::Successful, 200).await;
    assert_eq!(bed.running().await, [v2.clone(), v2]);
}
