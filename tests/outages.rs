//! End to end: SQS outages, ECS throttling and failures, and many services at once: ridden out, each deployment settled once and as ECS has it.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ecs::types::Tag;
use common::{Bed, WorkerProcess, short, task_definition};
use ecs_deployment::decide::outcome::{Outcome, Rollback};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_rides_out_an_sqs_outage_and_recovers_by_itself() {
    let mut bed = Bed::start(false).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = WorkerProcess::start(&bed, &[]);
    bed.send_web("nginx:1.28", "healthy").await;
    let first = worker.wait_for("deployment finished", |_| true);
    assert_eq!(first["outcome"], "deployed");

    bed.bed.moto.kill();
    worker.wait_for("cannot receive; retrying with backoff", |_| true);
    assert!(worker.running());
    bed.bed.moto.start_again();
    // It comes back empty: the queue is created again, at the same URL.
    let url = bed
        .sqs
        .create_queue()
        .queue_name("deployments")
        .send()
        .await
        .expect("create the queue again")
        .queue_url
        .expect("queue URL");
    assert_eq!(url, bed.queue_url);

    let id = bed.send_web("nginx:1.29", "healthy").await;
    let second = worker.wait_for("deployment finished", |l| l["message_id"] == id.as_str());
    assert_eq!(second["outcome"], "deployed", "{}", worker.log_text());
    assert_eq!(
        second["new_task_definition"].as_str().map(short),
        Some("web:3")
    );
    worker.wait_for("receiving again", |_| true);
    // One line per change of state, not per retry: the same error is never logged twice in a row
    // (connection refused, then possibly the queue missing for the moment before it was created again).
    let errors: Vec<&str> = worker
        .lines_with("cannot receive; retrying with backoff")
        .iter()
        .filter_map(|l| l["error"].as_str())
        .collect();
    assert!(!errors.is_empty());
    assert!(
        errors.windows(2).all(|w| w[0] != w[1]),
        "{}",
        worker.log_text()
    );
    assert_eq!(worker.lines_with("receiving again").len(), 1);
    bed.assert_queue_empty().await;
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_half_of_all_ecs_calls_throttled_every_deployment_settles_correctly() {
    let bed = Bed::start(true).await;
    for service in ["web", "api", "jobs"] {
        bed.service(service, 2, (true, true)).await;
    }
    bed.bed
        .sim
        .inject_fault(json!({"kind": "throttle", "every": 2}));
    let mut worker = bed.start_worker(bed.config(&[]));

    let mut expected = BTreeMap::new();
    for (service, behaviour) in [("web", "healthy"), ("api", "healthy"), ("jobs", "crash")] {
        let body = task_definition(service, "nginx:1.28", behaviour).to_string();
        let id = bed.send(&body, &[("service", service)]).await;
        expected.insert(id, (service, behaviour));
    }
    for _ in 0..expected.len() {
        let report = worker.next_report().await;
        let (service, behaviour) = expected[&report.message_id];
        assert_eq!(report.service, service);
        if behaviour == "healthy" {
            assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
        } else {
            assert!(
                matches!(
                    &report.outcome,
                    Outcome::Failed {
                        rollback: Rollback::CompletedByEcs,
                        ..
                    }
                ),
                "{report:?}"
            );
        }
        assert!(report.settled);
    }
    bed.bed.sim.clear_faults();
    for service in ["web", "api", "jobs"] {
        assert_eq!(bed.revisions(service), 2, "{service}: one new revision");
    }
    let faulted = bed.bed.sim.stats()["faulted"].clone();
    for operation in [
        "DescribeServices",
        "RegisterTaskDefinition",
        "UpdateService",
    ] {
        assert!(
            faulted[operation].as_u64().is_some_and(|n| n > 0),
            "{operation} was throttled too: {faulted}"
        );
    }
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_services_deploy_at_once_sharing_their_service_reads() {
    let bed = Bed::start(false).await;
    let services: Vec<String> = (0..10).map(|i| format!("svc{i}")).collect();
    for service in &services {
        bed.service(service, 1, (true, true)).await;
    }
    let mut worker = bed.start_worker(bed.config(&[]));
    let describes_before = bed.bed.sim.calls("DescribeServices");

    let started = std::time::Instant::now();
    for service in &services {
        // Tasks stay PENDING for 100 simulated seconds: each rollout takes over a second.
        let body = task_definition(service, "nginx:1.28", "slow:100").to_string();
        bed.send(&body, &[("service", service)]).await;
    }
    let mut reports = Vec::new();
    for _ in 0..services.len() {
        reports.push(worker.next_report().await);
    }
    let elapsed = started.elapsed();

    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Deployed),
        "{reports:?}"
    );
    // Every deployment was received before any finished: all ten ran at once.
    let last_start = reports.iter().map(|r| r.received_at).max();
    let first_end = reports.iter().map(|r| r.received_at + r.duration).min();
    assert!(last_start < first_end, "{reports:?}");
    let longest = reports.iter().map(|r| r.duration).max().unwrap_or_default();
    let total: Duration = reports.iter().map(|r| r.duration).sum();
    assert!(
        elapsed < total / 3,
        "ten rollouts took {elapsed:?}; one takes up to {longest:?}"
    );
    // One shared DescribeServices per poll for all ten, plus one per deployment before it starts; ten
    // separate poll loops would make about ten per poll.
    let describes = bed.bed.sim.calls("DescribeServices") - describes_before;
    let polls = (elapsed.as_millis() / 50) as u64 + 1;
    assert!(
        describes <= polls + 2 * services.len() as u64,
        "{describes} DescribeServices calls in about {polls} polls"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deployment_id_is_recorded_even_when_ecs_fails_the_first_tries() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // More failures than the SDK's own retries of one call absorb.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "TagResource", "kind": "error500", "count": 4}));
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:1.28", "healthy").await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let revision = report.new_task_definition.expect("the new revision");
    let (_, marks) = bed.tags(&revision);
    assert!(
        marks
            .get("ecs-deployment:deployment-id")
            .is_some_and(|d| d.starts_with("ecs-svc/")),
        "{marks:?}"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivery_never_points_the_service_back_after_someone_deployed_since() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    // An earlier delivery of the message registered web:2 with its marks and pointed the service at it,
    // then its worker died before recording the deployment; the message is delivered again.
    let id = bed.send_web("nginx:1.28", "healthy").await;
    let received = bed
        .sqs
        .receive_message()
        .queue_url(&bed.queue_url)
        .send()
        .await
        .expect("receive");
    let handle = received.messages()[0]
        .receipt_handle()
        .expect("receipt handle")
        .to_owned();
    bed.sqs
        .change_message_visibility()
        .queue_url(&bed.queue_url)
        .receipt_handle(handle)
        .visibility_timeout(0)
        .send()
        .await
        .expect("give the message back");
    let v2 = bed.register("web", "nginx:1.28", "healthy").await;
    bed.ecs
        .tag_resource()
        .resource_arn(&v2)
        .tags(
            Tag::builder()
                .key("ecs-deployment:message-id")
                .value(&id)
                .build(),
        )
        .tags(
            Tag::builder()
                .key("ecs-deployment:previous-task-definition")
                .value(&v1)
                .build(),
        )
        .send()
        .await
        .expect("mark web:2 as the message's");
    // Then someone deployed web:3, and that rollout is over: ECS lists no deployment of web:2 any more.
    let v3 = bed.register("web", "nginx:1.29", "healthy").await;
    for revision in [&v2, &v3] {
        bed.ecs
            .update_service()
            .service("web")
            .task_definition(revision)
            .send()
            .await
            .expect("update the service");
        testbed::wait_until("the rollout", common::REPORT_DEADLINE, || async {
            let service = bed.describe("web").await?;
            let done = service.deployments().len() == 1
                && service.deployments()[0].rollout_state().map(|s| s.as_str())
                    == Some("COMPLETED");
            done.then_some(())
        })
        .await;
    }
    let updates = bed.bed.sim.calls("UpdateService");
    let mut worker = bed.start_worker(bed.config(&[]));

    let report = worker.next_report().await;

    assert_eq!(report.message_id, id);
    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("expected superseded, got {report:?}");
    };
    assert!(
        reason.contains("web:2") && reason.contains("web:3") && reason.contains("earlier delivery"),
        "{reason}"
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        updates,
        "not updated back"
    );
    assert_eq!(bed.revisions("web"), 3, "nothing registered");
    assert_eq!(
        bed.running_task_definitions("web")
            .await
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>(),
        ["web:3", "web:3"]
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}
