//! End to end: rollouts that fail (crashes, unplaceable tasks, a deleted service) and how each is rolled back or left alone.

mod common;

use common::{Bed, Proxy, short};
use ecs_deployment::decide::outcome::{Disposition, Outcome, Rollback};

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_with_the_circuit_breaker_is_rolled_back_by_ecs() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:broken", "crash").await;
    let report = worker.next_report().await;

    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("expected a failure, got {report:?}");
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
    // ECS's own words: the rollout state reason, or once the failed deployment is gone, its events.
    assert!(reason.contains("ECS rolled the service back"), "{reason}");
    assert!(reason.contains("failed to start"), "{reason}");
    assert!(
        reason.contains("Essential container"),
        "the stopped tasks' reason is quoted: {reason}"
    );
    assert_eq!(
        (report.disposition, report.settled),
        (Disposition::Delete, true)
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1.clone()]
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        1,
        "ECS rolled back; the worker must not"
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stopped_tasks_are_read_only_for_the_deployments_revision() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    // Earlier deployments left stopped tasks in the service.
    for _ in 0..2 {
        bed.ecs
            .update_service()
            .service("web")
            .force_new_deployment(true)
            .send()
            .await
            .expect("force a new deployment");
        testbed::wait_until("the forced deployment", common::REPORT_DEADLINE, || async {
            let service = bed.describe("web").await?;
            let done = service.deployments().len() == 1
                && service.deployments()[0].rollout_state().map(|s| s.as_str())
                    == Some("COMPLETED");
            done.then_some(())
        })
        .await;
    }
    let earlier: Vec<String> = testbed::service_tasks(&bed.ecs, "web", "STOPPED")
        .await
        .into_iter()
        .filter_map(|t| t.task_arn)
        .collect();
    assert_eq!(earlier.len(), 4, "{earlier:?}");
    let proxy = Proxy::start(&bed.bed.sim.endpoint()).await;
    let mut worker = bed.start_worker_with_ecs_through(bed.config(&[]), &proxy);

    bed.send_web("nginx:broken", "crash").await;
    let report = worker.next_report().await;

    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("expected a failure, got {report:?}");
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
    assert!(
        reason.contains("Essential container"),
        "the stopped tasks' reason is quoted: {reason}"
    );
    let ours: Vec<String> = testbed::service_tasks(&bed.ecs, "web", "STOPPED")
        .await
        .into_iter()
        .filter(|t| t.task_definition_arn().map(short) == Some("web:2"))
        .filter_map(|t| t.started_by)
        .collect();
    let deployment = ours.first().expect("stopped tasks of web:2");
    let stopped_listings: Vec<_> = proxy
        .calls("ListTasks")
        .into_iter()
        .filter(|c| c["desiredStatus"] == "STOPPED")
        .collect();
    assert!(!stopped_listings.is_empty(), "the stopped tasks were read");
    for listing in &stopped_listings {
        assert_eq!(listing["startedBy"], deployment.as_str(), "{listing}");
        assert!(listing.get("serviceName").is_none(), "{listing}");
    }
    let described: Vec<String> = proxy
        .calls("DescribeTasks")
        .iter()
        .flat_map(|c| c["tasks"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    assert!(
        earlier.iter().all(|t| !described.contains(t)),
        "tasks of earlier deployments were described: {described:?}"
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1.clone()]
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_without_the_circuit_breaker_times_out_and_is_rolled_back() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (false, false)).await;
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "2s")]));

    bed.send_web("nginx:broken", "crash").await;
    let report = worker.next_report().await;

    let Outcome::TimedOut { reason, rollback } = &report.outcome else {
        panic!("expected a timeout, got {report:?}");
    };
    assert_eq!(rollback, &Rollback::Completed, "{reason}");
    assert!(reason.contains("ECS_TIMEOUT (2s)"), "{reason}");
    assert!(reason.contains("Essential container"), "{reason}");
    let service = bed.describe("web").await.expect("service");
    assert_eq!(
        service.task_definition(),
        Some(v1.as_str()),
        "rolled back to the previous revision"
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1.clone()]
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_rollback_off_a_failed_rollout_is_left_as_it_is() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, false)).await;
    let mut worker = bed.start_worker(bed.config(&[("ROLLBACK_ON_FAILURE", "false")]));

    bed.send_web("nginx:broken", "crash").await;
    let report = worker.next_report().await;

    assert!(
        matches!(
            &report.outcome,
            Outcome::Failed {
                rollback: Rollback::Disabled,
                ..
            }
        ),
        "{report:?}"
    );
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unplaceable_task_times_out_quoting_ecs_and_is_rolled_back() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "2s")]));

    bed.send_web("nginx:big", "unplaceable").await;
    let report = worker.next_report().await;

    let Outcome::TimedOut { reason, rollback } = &report.outcome else {
        panic!("expected a timeout, got {report:?}");
    };
    assert!(reason.contains("unable to place a task"), "{reason}");
    assert_eq!(rollback, &Rollback::Completed, "{reason}");
    assert_eq!(
        bed.task_definition_of("web").await.as_deref(),
        Some(v1.as_str())
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_deleted_mid_rollout_fails_without_rollback() {
    for purge in [false, true] {
        let bed = Bed::start(true).await;
        bed.service("web", 1, (true, true)).await;
        let mut worker = bed.start_worker(bed.config(&[]));

        bed.send_web("nginx:slow", "slow:300").await;
        bed.wait_for_task_definition("web", "web:2").await;
        bed.bed.sim.delete_service("default", "web", purge);
        let report = worker.next_report().await;

        let Outcome::Failed { reason, rollback } = &report.outcome else {
            panic!("purge={purge}: expected a failure, got {report:?}");
        };
        let expected: &[&str] = if purge {
            &["no longer exists"]
        } else {
            &["DRAINING", "INACTIVE"]
        };
        assert!(
            expected.iter().any(|e| reason.contains(e)),
            "purge={purge}: {reason}"
        );
        assert!(
            matches!(rollback, Rollback::NotPossible(_)),
            "purge={purge}: {rollback:?}"
        );
        assert_eq!(
            (report.disposition, report.settled),
            (Disposition::Delete, true)
        );
        bed.assert_queue_empty().await;
        worker.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crashed_rollout_s_last_log_lines_reach_the_reply_queue() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    bed.task_logs_in("/ecs/web").await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[
        ("ALLOWED_REPLY_QUEUES", replies.as_str()),
        ("ALLOWED_PRIVILEGES", "labels,logging"),
    ]));
    let mut crashing = common::task_definition("web", "nginx:broken", "crash");
    crashing["containerDefinitions"][0]["logConfiguration"] = serde_json::json!({
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}
    });
    bed.send(
        &crashing.to_string(),
        &[("service", "web"), ("reply_to", replies.as_str())],
    )
    .await;
    let report = worker.next_report().await;
    assert!(
        matches!(report.outcome, Outcome::Failed { .. }),
        "{report:?}"
    );
    assert_eq!(
        report.logs,
        [
            "[app] ecs-sim: app started",
            "[app] ecs-sim: app exited with code 1"
        ],
        "{report:?}"
    );
    let notices = bed.replies(&replies, 2).await;
    let finished = notices
        .iter()
        .find(|n| n["event"] == "finished")
        .expect("the finished notice");
    assert_eq!(
        finished["logs"][1], "[app] ecs-sim: app exited with code 1",
        "{finished}"
    );
    worker.stop().await;
}
