//! Service deployments and revisions through aws-sdk-ecs, stepped one simulated second at a time: every
//! strategy's success and failures, rollbacks by the circuit breaker, alarms, hooks and StopServiceDeployment.

mod common;

use aws_sdk_ecs::types::{ServiceDeploymentStatus, StopServiceDeploymentStopType};
use common::Stepped;
use serde_json::{Value, json};

#[tokio::test]
async fn a_rolling_deployment_is_recorded_from_pending_to_successful() {
    let bed = Stepped::start().await;
    let (v1, v2) = bed.started(json!({}), "healthy").await;

    let d = bed.current().await;
    assert_eq!(d.status(), Some(&ServiceDeploymentStatus::Pending));
    bed.step_to(ServiceDeploymentStatus::Successful, 60).await;
    let d = bed.current().await;
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
    let (v1, _) = bed.started(breaker, "crash").await;

    bed.step_to(ServiceDeploymentStatus::RollbackSuccessful, 200)
        .await;
    let d = bed.current().await;
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
    assert_eq!(bed.running().await, [v1.clone(), v1]);
}

#[tokio::test]
async fn without_rollback_a_failure_stops_the_deployment() {
    let bed = Stepped::start().await;
    let config = json!({"deploymentCircuitBreaker": {"enable": true, "rollback": false,
        "thresholdConfiguration": {"type": "COUNT", "value": 1}}});
    bed.started(config, "crash").await;

    // ECS stops it: STOP_REQUESTED ("ongoing"), then STOPPED ("completed").
    let stages = bed
        .step_to(ServiceDeploymentStatus::StopRequested, 60)
        .await;
    assert!(!stages.is_empty());
    bed.step_to(ServiceDeploymentStatus::Stopped, 2).await;
    let d = bed.current().await;
    assert!(d.stopped_at().is_some());
    let breaker = d.deployment_circuit_breaker().expect("breaker");
    assert_eq!(breaker.threshold(), 1, "a COUNT threshold of 1");
    assert!(breaker.failure_count() >= 1, "{breaker:?}");
}

#[tokio::test]
async fn stop_service_deployment_rolls_back_and_a_newer_update_stops_the_older_one() {
    let bed = Stepped::start().await;
    let (v1, _) = bed.started(json!({}), "slow:600").await;
    let first = bed.current().await;
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
        bed.current().await.status(),
        Some(&ServiceDeploymentStatus::RollbackRequested)
    );
    bed.step_to(ServiceDeploymentStatus::RollbackSuccessful, 60)
        .await;
    assert_eq!(bed.running().await, [v1.clone(), v1.clone()]);
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
    let replaced = bed.current().await;
    let v4 = bed.register("web", "nginx:4", "healthy", true).await;
    bed.update("web", &v4).await;
    let replaced_arn = replaced.service_deployment_arn().expect("arn");
    let status_of_replaced = || async {
        bed.ecs
            .describe_service_deployments()
            .service_deployment_arns(replaced_arn)
            .send()
            .await
            .expect("describe")
            .service_deployments()[0]
            .status()
            .cloned()
    };
    // Stopping is ongoing until the next second; stopping it again then "continues to stop".
    assert_eq!(
        status_of_replaced().await,
        Some(ServiceDeploymentStatus::StopRequested)
    );
    bed.ecs
        .stop_service_deployment()
        .service_deployment_arn(replaced_arn)
        .send()
        .await
        .expect("a stop requested may be asked again");
    bed.sim.advance(1);
    assert_eq!(
        status_of_replaced().await,
        Some(ServiceDeploymentStatus::Stopped)
    );
    bed.step_to(ServiceDeploymentStatus::Successful, 60).await;
    assert_eq!(bed.running().await, [v4.clone(), v4]);
}

#[tokio::test]
async fn blue_green_scales_up_beside_the_old_revision_bakes_and_cleans_up() {
    let bed = Stepped::start().await;
    let (v1, v2) = bed
        .started(
            json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}),
            "healthy",
        )
        .await;

    let stages = bed.step_to(ServiceDeploymentStatus::Successful, 200).await;
    assert_eq!(
        stages,
        [
            "PRE_SCALE_UP",
            "SCALE_UP",
            "POST_SCALE_UP",
            "TEST_TRAFFIC_SHIFT",
            "POST_TEST_TRAFFIC_SHIFT",
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT",
            "BAKE_TIME",
            "CLEAN_UP"
        ]
    );
    assert_eq!(bed.running().await, [v2.clone(), v2.clone()]);
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
    let (v1, v2) = bed.started(config, "healthy").await;
    for _ in 0..100 {
        if bed.current().await.lifecycle_stage().map(|s| s.as_str()) == Some("BAKE_TIME") {
            break;
        }
        bed.sim.advance(1);
    }
    let mut both = bed.running().await;
    both.sort();
    assert_eq!(both, [v1.clone(), v1.clone(), v2.clone(), v2]);

    bed.sim.set_alarm("errors", "ALARM");
    bed.step_to(ServiceDeploymentStatus::RollbackSuccessful, 60)
        .await;
    let d = bed.current().await;
    let alarms = d.alarms().expect("alarms");
    assert_eq!(alarms.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert_eq!(alarms.triggered_alarm_names(), ["errors"]);
    assert!(
        d.status_reason().unwrap_or_default().contains("errors"),
        "{d:?}"
    );
    assert_eq!(bed.running().await, [v1.clone(), v1]);
    // The old revision's deployment is PRIMARY again, updated when it took over: after the rollout began.
    let service = bed.service("web").await;
    let primary = &service.deployments()[0];
    let seconds = |t: Option<&aws_sdk_ecs::primitives::DateTime>| t.map(|t| t.as_secs_f64());
    assert!(
        seconds(primary.updated_at()) > seconds(d.created_at()),
        "{primary:?} {d:?}"
    );
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
        let (_, v2) = bed.started(config.clone(), "healthy").await;
        let mut in_shift = 0;
        for _ in 0..400 {
            let d = bed.current().await;
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
            bed.current().await.status(),
            Some(&ServiceDeploymentStatus::Successful),
            "{config}"
        );
        assert_eq!(bed.running().await, [v2.clone(), v2]);
    }
}

#[tokio::test]
async fn a_rolling_deployment_with_alarms_completes_only_after_the_alarm_bake() {
    let bed = Stepped::start().await;
    let config = json!({"alarms": {"alarmNames": ["latency"], "enable": true, "rollback": true}});
    let (v1, v2) = bed.started(config, "healthy").await;
    let mut steady_at = None;
    let mut completed_at = None;
    for second in 0..400 {
        let service = bed.service("web").await;
        let only_new = service.deployments().len() == 1
            && service.deployments()[0].task_definition() == Some(v2.as_str());
        if only_new && steady_at.is_none() && bed.running().await.len() == 2 {
            steady_at = Some(second);
        }
        if bed.current().await.status() == Some(&ServiceDeploymentStatus::Successful) {
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
    bed.step_to(ServiceDeploymentStatus::RollbackSuccessful, 400)
        .await;
    assert_eq!(bed.running().await, [v2.clone(), v2]);
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
