//! End to end: the worker never contradicts ECS. Each rollout is judged as ECS's record (or, without it,
//! ECS's documented rules) says, and each test checks the outcome, its reason, what the service runs at
//! the end and the calls the worker made: never an UpdateService or StopServiceDeployment against a
//! deployment ECS called SUCCESSFUL, nor over one the worker did not start.

mod common;

use std::time::Duration;

use common::{Bed, REPORT_DEADLINE, short, task_definition};
use ecs_deployment::decide::outcome::{Disposition, Outcome, Rollback};
use serde_json::{Value, json};
use testbed::{delete_tag, ecr_client, ecr_image, push_image};

/// `body`'s task definition with a non-essential sidecar whose health check never passes.
fn with_failing_sidecar(mut body: Value) -> Value {
    if let Some(containers) = body["containerDefinitions"].as_array_mut() {
        containers.push(json!({
            "name": "metrics",
            "image": "nginx:1.28",
            "essential": false,
            "dockerLabels": {"ecs-sim.behaviour": "unhealthy"},
            "healthCheck": {"command": ["CMD-SHELL", "false"], "interval": 5}
        }));
    }
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn early_success_is_deployed_once_ecs_says_successful_before_every_task_is_replaced() {
    // ecs-sim's time moves only when this test moves it: ECS's record says SUCCESSFUL with half the tasks
    // replaced, and stays there.
    let bed = Bed::start_with_clock(true, None).await;
    let early = json!({"maximumPercent": 100, "minimumHealthyPercent": 50,
        "earlySuccessCriteria": {"enable": true, "healthyPercent": 50,
            "sourceServiceRevisionCleanup": "DEFERRED"}});
    bed.service_configured("web", Some(4), early).await;
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "2s")]));
    bed.send_web("nginx:1.29", "healthy").await;
    bed.wait_for_task_definition("web", "web:2").await;
    let mut successful = false;
    for _ in 0..300 {
        let record = bed.current_record("web").await;
        if record.as_ref().and_then(|r| r.status()).map(|s| s.as_str()) == Some("SUCCESSFUL") {
            successful = true;
            break;
        }
        bed.bed.sim.advance(1);
    }
    assert!(successful, "ECS's record never said SUCCESSFUL");

    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.changes(), (1, 0), "nothing against ECS's SUCCESSFUL");
    // ECS said SUCCESSFUL with two of the four desired tasks on the new revision, the old ones going.
    assert_eq!(bed.running_revisions("web").await, ["web:2", "web:2"]);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_essential_sidecar_s_failing_health_check_does_not_fail_the_rollout() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // Without ECS's record the worker judges the tasks itself: by ECS's rule, not every container.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServiceDeployments", "kind": "denied"}));
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    let body = with_failing_sidecar(task_definition("web", "nginx:1.29", "healthy"));
    bed.send(&body.to_string(), &[("service", "web")]).await;

    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.changes(), (1, 0));
    assert_eq!(bed.running_revisions("web").await, ["web:2", "web:2"]);
    let tasks = testbed::service_tasks(&bed.ecs, "web", "RUNNING").await;
    for task in &tasks {
        assert_eq!(task.health_status().map(|h| h.as_str()), Some("HEALTHY"));
        let sidecar = task
            .containers()
            .iter()
            .find(|c| c.name() == Some("metrics"))
            .expect("the sidecar");
        assert_eq!(
            sidecar.health_status().map(|h| h.as_str()),
            Some("UNHEALTHY")
        );
    }
    worker.stop().await;
}

/// A redeploy (a forced new deployment of the same revision) whose image tag is gone from ECR: ECS's
/// circuit breaker rolls it back to the same task definition, and the worker says so, with ECS's record
/// readable or not.
async fn a_redeploy_ecs_rolls_back(record_readable: bool) {
    let bed = Bed::start(true).await;
    let ecr = ecr_client(&bed.bed.moto.endpoint());
    let built = push_image(&ecr, "web", "prod", "first build").await;
    bed.bed.sim.use_ecr(&bed.bed.moto.endpoint());
    let v1 = bed
        .service_on("web", &ecr_image("web", "prod"), "healthy", 2, (true, true))
        .await;
    delete_tag(&ecr, "web", "prod").await;
    if !record_readable {
        bed.bed
            .sim
            .inject_fault(json!({"operation": "DescribeServiceDeployments", "kind": "denied"}));
    }
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "10s")]));
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;

    let report = worker.next_report().await;
    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("expected ECS's rollback, got {report:?}");
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
    assert!(reason.contains("ECS rolled the service back"), "{reason}");
    assert_eq!(bed.changes(), (1, 0), "ECS's rollback, not the worker's");
    let tasks = testbed::service_tasks(&bed.ecs, "web", "RUNNING").await;
    assert_eq!(tasks.len(), 2);
    for task in tasks {
        assert_eq!(task.task_definition_arn(), Some(v1.as_str()));
        assert_eq!(task.containers()[0].image_digest(), Some(built.as_str()));
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_that_ecs_rolls_back_is_failed_by_ecs_s_record() {
    a_redeploy_ecs_rolls_back(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_that_ecs_rolls_back_is_failed_without_ecs_s_record() {
    a_redeploy_ecs_rolls_back(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_that_outlasts_the_message_s_hold_gives_the_message_back_and_is_not_rolled_back()
{
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.bed.sim.reset_stats();
    // A hold far shorter than the rollout (its task waits 1000 simulated seconds, 10 s here).
    let mut config = bed.config(&[]);
    config.max_hold = Duration::from_secs(2);
    let mut worker = bed.start_worker(config);
    bed.send_web("nginx:1.29", "slow:1000").await;

    let report = worker.next_report().await;
    let Outcome::RetryLater { reason } = &report.outcome else {
        panic!("expected the message given back, got {report:?}");
    };
    assert!(reason.starts_with("released:"), "{reason}");
    assert_ne!(report.disposition, Disposition::Delete);
    assert_eq!(bed.changes(), (1, 0), "nothing rolled back");
    assert_eq!(
        bed.task_definition_of("web").await.as_deref().map(short),
        Some("web:2"),
        "the rollout goes on"
    );
    worker.stop().await;
    // Given back, the message is there for the next worker to resume.
    assert_eq!(bed.receive_all(&bed.queue_url, 1).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn hooks_before_every_linear_step_are_waited_for_without_counting_against_ecs_timeout() {
    let bed = Bed::start(true).await;
    let config = json!({"strategy": "LINEAR",
        "linearConfiguration": {"stepPercent": 34.0, "stepBakeTimeInMinutes": 0},
        "lifecycleHooks": [{"targetType": "PAUSE",
            "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}]});
    bed.service_configured("web", Some(2), config).await;
    let reply_queue = bed.queue("replies").await;
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "1s")]));
    let body = task_definition("web", "nginx:1.29", "healthy").to_string();
    bed.send(
        &body,
        &[("service", "web"), ("reply_to", reply_queue.as_str())],
    )
    .await;

    let mut waits = 0;
    while waits < 3 {
        let notices = bed.receive_all(&reply_queue, 1).await;
        for notice in notices {
            let notice: Value =
                serde_json::from_str(notice.body().unwrap_or_default()).expect("a JSON notice");
            if notice["event"] != "waiting" {
                continue;
            }
            waits += 1;
            let why = notice["reason"].as_str().unwrap_or_default();
            assert!(why.contains("PRE_PRODUCTION_TRAFFIC_SHIFT"), "{why}");
            // The worker keeps reading ECS's record for longer than ECS_TIMEOUT while the hook waits.
            let reads = bed.bed.sim.calls("DescribeServiceDeployments");
            testbed::wait_until(
                "the worker reading ECS's record for over a second",
                REPORT_DEADLINE,
                || async {
                    (bed.bed.sim.calls("DescribeServiceDeployments") > reads + 30).then_some(())
                },
            )
            .await;
            let answered = bed.cli(&["continue", "--service", "web"], None).await;
            assert_eq!(answered.code, 0, "{answered:?}");
        }
    }
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.changes(), (1, 0));
    assert_eq!(bed.running_revisions("web").await, ["web:2", "web:2"]);
    worker.stop().await;
}
