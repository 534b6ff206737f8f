//! Service deployments and revisions through aws-sdk-ecs, stepped one simulated second at a time: every
//! strategy's success and failures, rollbacks by the circuit breaker, alarms, hooks and StopServiceDeployment.

mod common;

use aws_sdk_ecs::types::{
    DeploymentLifecycleHookAction, DeploymentLifecycleHookStatus, ServiceDeployment,
    ServiceDeploymentStatus, StopServiceDeploymentStopType,
};
use common::Stepped;
use serde_json::{Value, json};

/// Creates `web` on `task_definition` with `desired` tasks and the given `deploymentConfiguration`.
fn create(bed: &Stepped, task_definition: &str, desired: i32, config: Value) {
    bed.sim.call(
        "CreateService",
        &json!({"serviceName": "web", "taskDefinition": task_definition,
                "desiredCount": desired, "deploymentConfiguration": config}),
    );
}

/// The service's current service deployment, described.
async fn current(bed: &Stepped) -> ServiceDeployment {
    let arn = bed
        .service("web")
        .await
        .current_service_deployment
        .expect("a current service deployment");
    bed.ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .expect("describe the service deployment")
        .service_deployments
        .unwrap_or_default()
        .into_iter()
        .next()
        .expect("it is described")
}

/// Steps one simulated second at a time until the current service deployment is `status`, for at most
/// `limit` seconds; returns every lifecycle stage seen on the way, in order.
async fn step_to(bed: &Stepped, status: ServiceDeploymentStatus, limit: u64) -> Vec<String> {
    stride_to(bed, status, limit, 1).await
}

/// [`step_to`], `stride` simulated seconds at a time.
async fn stride_to(
    bed: &Stepped,
    status: ServiceDeploymentStatus,
    limit: u64,
    stride: u64,
) -> Vec<String> {
    let mut stages: Vec<String> = Vec::new();
    for _ in 0..limit.div_ceil(stride) {
        let d = current(bed).await;
        if let Some(stage) = d.lifecycle_stage()
            && stages.last().map(String::as_str) != Some(stage.as_str())
        {
            stages.push(stage.as_str().to_owned());
        }
        if d.status() == Some(&status) {
            return stages;
        }
        bed.sim.advance(stride);
    }
    panic!(
        "not {status:?} within {limit} simulated seconds: {:#?}",
        current(bed).await
    );
}

/// The task definitions of the service's running tasks.
async fn running(bed: &Stepped) -> Vec<String> {
    bed.tasks("web", "RUNNING")
        .await
        .into_iter()
        .filter(|t| t.last_status() == Some("RUNNING"))
        .filter_map(|t| t.task_definition_arn)
        .collect()
}

/// `web` on a healthy `web:1`, then updated to a `web:2` whose tasks behave as `behaviour`, with the
/// deployment configuration `config` from that update on.
async fn started(bed: &Stepped, config: Value, behaviour: &str) -> (String, String) {
    let v1 = bed.register("web", "nginx:1", "healthy", true).await;
    let v2 = bed.register("web", "nginx:2", behaviour, true).await;
    create(bed, &v1, 2, json!({}));
    step_to(bed, ServiceDeploymentStatus::Successful, 60).await;
    bed.sim.call(
        "UpdateService",
        &json!({"service": "web", "taskDefinition": v2, "deploymentConfiguration": config}),
    );
    (v1, v2)
}

#[tokio::test]
async fn a_rolling_deployment_is_recorded_from_pending_to_successful() {
    let bed = Stepped::start().await;
    let (v1, v2) = started(&bed, json!({}), "healthy").await;

    let d = current(&bed).await;
    assert_eq!(d.status(), Some(&ServiceDeploymentStatus::Pending));
    step_to(&bed, ServiceDeploymentStatus::Successful, 60).await;
    let d = current(&bed).await;
    assert!(d.finished_at().is_some() && d.stopped_at().is_none());
    assert_eq!(d.source_service_revisions().len(), 1);
    let target = d.target_service_revision().expect("target revision");
    assert_eq!(target.running_task_count(), 2);
    let revisions = bed
        .ecs
        .describe_service_revisions()
        .service_revision_arns(target.arn().expect("arn"))
        .service_revision_arns(d.source_service_revisions()[0].arn().expect("arn"))
        .service_revision_arns("arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/1")
        .send()
        .await
        .expect("describe revisions");
    let tds: Vec<&str> = revisions
        .service_revisions()
        .iter()
        .filter_map(|r| r.task_definition())
        .collect();
    assert_eq!(tds, [v2.as_str(), v1.as_str()]);
    assert_eq!(revisions.failures()[0].reason(), Some("MISSING"));
    assert_eq!(
        revisions.service_revisions()[0].container_images()[0].image(),
        Some("nginx:2")
    );

    let listed = bed
        .ecs
        .list_service_deployments()
        .service("web")
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.service_deployments().len(),
        2,
        "the creation and the update"
    );
    assert_eq!(
        listed.service_deployments()[0].target_service_revision_arn(),
        target.arn()
    );
    let pending = bed
        .ecs
        .list_service_deployments()
        .service("web")
        .status(ServiceDeploymentStatus::InProgress)
        .send()
        .await
        .expect("list in progress");
    assert!(pending.service_deployments().is_empty());
}

#[tokio::test]
async fn the_circuit_breaker_rolls_back_and_says_so() {
    let bed = Stepped::start().await;
    let breaker = json!({"deploymentCircuitBreaker": {"enable": true, "rollback": true}});
    let (v1, _) = started(&bed, breaker, "crash").await;

    step_to(&bed, ServiceDeploymentStatus::RollbackSuccessful, 200).await;
    let d = current(&bed).await;
    let breaker = d.deployment_circuit_breaker().expect("breaker");
    assert_eq!(breaker.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert!(
        breaker.failure_count() >= breaker.threshold(),
        "{breaker:?}"
    );
    assert_eq!(breaker.threshold(), 3);
    let rollback = d.rollback().expect("rollback");
    assert!(
        rollback
            .reason()
            .unwrap_or_default()
            .contains("circuit breaker"),
        "{rollback:?}"
    );
    assert_eq!(
        rollback.service_revision_arn(),
        d.source_service_revisions()[0].arn()
    );
    assert_eq!(running(&bed).await, [v1.clone(), v1]);
}

#[tokio::test]
async fn without_rollback_a_failure_stops_the_deployment() {
    let bed = Stepped::start().await;
    let config = json!({"deploymentCircuitBreaker": {"enable": true, "rollback": false,
        "thresholdConfiguration": {"type": "COUNT", "value": 1}}});
    started(&bed, config, "crash").await;

    step_to(&bed, ServiceDeploymentStatus::Stopped, 60).await;
    let d = current(&bed).await;
    assert!(d.stopped_at().is_some());
    let breaker = d.deployment_circuit_breaker().expect("breaker");
    assert_eq!(breaker.threshold(), 1, "a COUNT threshold of 1");
    assert!(breaker.failure_count() >= 1, "{breaker:?}");
}

#[tokio::test]
async fn stop_service_deployment_rolls_back_and_a_newer_update_stops_the_older_one() {
    let bed = Stepped::start().await;
    let (v1, _) = started(&bed, json!({}), "slow:600").await;
    let first = current(&bed).await;
    bed.sim.advance(3);

    let err = bed
        .ecs
        .stop_service_deployment()
        .service_deployment_arn(first.service_deployment_arn().expect("arn"))
        .stop_type(StopServiceDeploymentStopType::Abort)
        .send()
        .await
        .expect_err("ABORT");
    assert!(err.into_service_error().is_invalid_parameter_exception());
    bed.ecs
        .stop_service_deployment()
        .service_deployment_arn(first.service_deployment_arn().expect("arn"))
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .expect("stop with rollback");
    assert_eq!(
        current(&bed).await.status(),
        Some(&ServiceDeploymentStatus::RollbackRequested)
    );
    step_to(&bed, ServiceDeploymentStatus::RollbackSuccessful, 60).await;
    assert_eq!(running(&bed).await, [v1.clone(), v1.clone()]);
    let err = bed
        .ecs
        .stop_service_deployment()
        .service_deployment_arn(first.service_deployment_arn().expect("arn"))
        .send()
        .await
        .expect_err("not in progress any more");
    assert!(err.into_service_error().is_conflict_exception());

    let v3 = bed.register("web", "nginx:3", "slow:600", true).await;
    bed.update("web", &v3).await;
    let replaced = current(&bed).await;
    let v4 = bed.register("web", "nginx:4", "healthy", true).await;
    bed.update("web", &v4).await;
    let stopped = bed
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(replaced.service_deployment_arn().expect("arn"))
        .send()
        .await
        .expect("describe");
    assert_eq!(
        stopped.service_deployments()[0].status(),
        Some(&ServiceDeploymentStatus::Stopped)
    );
    step_to(&bed, ServiceDeploymentStatus::Successful, 60).await;
    assert_eq!(running(&bed).await, [v4.clone(), v4]);
}

#[tokio::test]
async fn blue_green_scales_up_beside_the_old_revision_bakes_and_cleans_up() {
    let bed = Stepped::start().await;
    let (v1, v2) = started(
        &bed,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}),
        "healthy",
    )
    .await;

    let stages = step_to(&bed, ServiceDeploymentStatus::Successful, 200).await;
    assert_eq!(
        stages,
        [
            "PRE_SCALE_UP",
            "SCALE_UP",
            "POST_SCALE_UP",
            "TEST_TRAFFIC_SHIFT",
            "POST_TEST_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT",
            "BAKE_TIME",
            "CLEAN_UP"
        ]
    );
    assert_eq!(running(&bed).await, [v2.clone(), v2.clone()]);
    let service = bed.service("web").await;
    assert_eq!(service.deployments().len(), 1);
    assert_eq!(
        service.deployments()[0].rollout_state().map(|s| s.as_str()),
        Some("COMPLETED")
    );
    let _ = v1;
}

#[tokio::test]
async fn during_the_bake_both_revisions_run_and_an_alarm_rolls_back() {
    let bed = Stepped::start().await;
    let config = json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10,
        "alarms": {"alarmNames": ["errors"], "enable": true, "rollback": true}});
    let (v1, v2) = started(&bed, config, "healthy").await;
    for _ in 0..100 {
        if current(&bed).await.lifecycle_stage().map(|s| s.as_str()) == Some("BAKE_TIME") {
            break;
        }
        bed.sim.advance(1);
    }
    let mut both = running(&bed).await;
    both.sort();
    assert_eq!(both, [v1.clone(), v1.clone(), v2.clone(), v2]);

    bed.sim.set_alarm("errors", "ALARM");
    step_to(&bed, ServiceDeploymentStatus::RollbackSuccessful, 60).await;
    let d = current(&bed).await;
    let alarms = d.alarms().expect("alarms");
    assert_eq!(alarms.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert_eq!(alarms.triggered_alarm_names(), ["errors"]);
    assert!(
        d.status_reason().unwrap_or_default().contains("errors"),
        "{d:?}"
    );
    assert_eq!(running(&bed).await, [v1.clone(), v1]);
}

#[tokio::test]
async fn linear_and_canary_shift_traffic_in_steps_with_their_bakes() {
    for (config, steps) in [
        (
            json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 50.0,
                "stepBakeTimeInMinutes": 1}}),
            2,
        ),
        (
            json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0,
                "canaryBakeTimeInMinutes": 2}}),
            2,
        ),
    ] {
        let bed = Stepped::start().await;
        let (_, v2) = started(&bed, config.clone(), "healthy").await;
        let mut in_shift = 0;
        for _ in 0..400 {
            let d = current(&bed).await;
            if d.lifecycle_stage().map(|s| s.as_str()) == Some("PRODUCTION_TRAFFIC_SHIFT") {
                in_shift += 1;
            }
            if d.status() == Some(&ServiceDeploymentStatus::Successful) {
                break;
            }
            bed.sim.advance(1);
        }
        let bake = config
            .pointer("/linearConfiguration/stepBakeTimeInMinutes")
            .or(config.pointer("/canaryConfiguration/canaryBakeTimeInMinutes"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
            * 60;
        assert!(
            in_shift >= bake * (steps - 1),
            "{config}: {in_shift} seconds shifting traffic"
        );
        assert_eq!(
            current(&bed).await.status(),
            Some(&ServiceDeploymentStatus::Successful),
            "{config}"
        );
        assert_eq!(running(&bed).await, [v2.clone(), v2]);
    }
}

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
        let (v1, v2) = started(&bed, config, "healthy").await;
        let mut hook = None;
        for _ in 0..100 {
            let d = current(&bed).await;
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
        let d = current(&bed).await;
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
        step_to(&bed, expected.clone(), 100).await;
        let runs = running(&bed).await;
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
    let (v1, _) = started(&bed, config, "healthy").await;
    step_to(&bed, ServiceDeploymentStatus::RollbackSuccessful, 100).await;
    assert!(
        current(&bed)
            .await
            .status_reason()
            .unwrap_or_default()
            .contains("smoke-test"),
    );
    assert_eq!(running(&bed).await, [v1.clone(), v1]);

    let bed = Stepped::start().await;
    let config = json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [
        {"targetType": "PAUSE", "lifecycleStages": ["PRE_SCALE_UP"],
         "timeoutConfiguration": {"timeoutInMinutes": 1, "action": "CONTINUE"}}]});
    let (_, v2) = started(&bed, config, "healthy").await;
    step_to(&bed, ServiceDeploymentStatus::Successful, 200).await;
    assert_eq!(running(&bed).await, [v2.clone(), v2]);
}

#[tokio::test]
async fn a_rolling_deployment_with_alarms_completes_only_after_the_alarm_bake() {
    let bed = Stepped::start().await;
    let config = json!({"alarms": {"alarmNames": ["latency"], "enable": true, "rollback": true}});
    let (v1, v2) = started(&bed, config, "healthy").await;
    let mut steady_at = None;
    let mut completed_at = None;
    for second in 0..400 {
        let service = bed.service("web").await;
        let only_new = service.deployments().len() == 1
            && service.deployments()[0].task_definition() == Some(v2.as_str());
        if only_new && steady_at.is_none() && running(&bed).await.len() == 2 {
            steady_at = Some(second);
        }
        if current(&bed).await.status() == Some(&ServiceDeploymentStatus::Successful) {
            completed_at = Some(second);
            break;
        }
        bed.sim.advance(1);
    }
    let (steady, completed) = (steady_at.expect("steady"), completed_at.expect("completed"));
    assert!(
        completed - steady >= 100,
        "baked {} seconds",
        completed - steady
    );

    // The next one's alarm rolls it back to the revision that completed.
    let v3 = bed.register("web", "nginx:3", "healthy", true).await;
    bed.update("web", &v3).await;
    bed.sim.advance(3);
    bed.sim.set_alarm("latency", "ALARM");
    step_to(&bed, ServiceDeploymentStatus::RollbackSuccessful, 400).await;
    assert_eq!(running(&bed).await, [v2.clone(), v2]);
    let _ = v1;
}

#[tokio::test]
async fn a_daemon_service_runs_one_task_per_instance_and_replaces_them_in_place() {
    let bed = Stepped::start().await;
    let v1 = bed.register("agent", "agent:1", "healthy", false).await;
    let v2 = bed.register("agent", "agent:2", "healthy", false).await;
    bed.sim.call(
        "CreateService",
        &json!({"serviceName": "agent", "taskDefinition": v1, "schedulingStrategy": "DAEMON"}),
    );
    bed.complete("agent", &v1).await;
    let service = bed.service("agent").await;
    assert_eq!(service.desired_count(), 3, "one per container instance");
    assert_eq!(
        service.scheduling_strategy().map(|s| s.as_str()),
        Some("DAEMON")
    );
    bed.update("agent", &v2).await;
    let seen = bed.complete("agent", &v2).await;
    assert!(
        seen.iter()
            .all(|s| s.running_count() + s.pending_count() <= 3),
        "never more than one task per instance"
    );
    let err = bed
        .ecs
        .update_service()
        .service("agent")
        .desired_count(5)
        .send()
        .await
        .expect_err("a daemon has no desired count");
    assert!(err.into_service_error().is_invalid_parameter_exception());
}
