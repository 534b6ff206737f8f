//! End to end: ECS failing, down or hanging, and a rollout outlasting the visibility timeout: retried in place, given back, bounded, settled once.

mod common;

use std::time::Duration;

use common::{Bed, short};
use ecs_deployment::decide::outcome::{Disposition, Outcome, Rollback};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn failed_ecs_calls_are_retried_in_place_without_a_second_revision() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // More failures than the SDK's own retries absorb, and a registration whose answer is lost: the
    // worker cannot tell it happened, finds the revision by its mark and uses it.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServices", "kind": "error500", "count": 4}));
    bed.bed.sim.inject_fault(
        json!({"operation": "RegisterTaskDefinition", "kind": "lose-answer", "count": 1}),
    );
    bed.bed
        .sim
        .inject_fault(json!({"operation": "UpdateService", "kind": "throttle", "count": 4}));
    let mut worker = bed.start_worker(bed.config(&[]));

    let id = bed.send_web("nginx:1.28", "healthy").await;
    let report = worker.next_report().await;

    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        report.new_task_definition.as_deref().map(short),
        Some("web:2")
    );
    assert_eq!(bed.revisions("web"), 2, "one revision for the message");
    assert_eq!(
        bed.bed.sim.calls("RegisterTaskDefinition"),
        2,
        "web:1 and the lost one"
    );
    assert_eq!(bed.bed.sim.stats()["faulted"]["UpdateService"], 4);
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ecs_down_past_ecs_timeout_gives_the_message_back_for_later() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServices", "kind": "error500"}));
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "1s")]));

    let id = bed.send_web("nginx:1.28", "healthy").await;
    let first = worker.next_report().await;
    assert!(
        matches!(first.outcome, Outcome::RetryLater { .. }),
        "{first:?}"
    );
    assert!(
        first.outcome.reason().contains("DescribeServices"),
        "{first:?}"
    );
    assert_eq!(
        (first.disposition, first.settled),
        (Disposition::LeaveForRedelivery, false)
    );
    assert_eq!(bed.revisions("web"), 1, "nothing registered yet");

    // Given back at once (visibility 0), it is received again; once ECS answers it goes through.
    bed.bed.sim.clear_faults();
    let second = worker.next_report().await;
    assert_eq!(second.message_id, id);
    assert_eq!(second.outcome, Outcome::Deployed, "{second:?}");
    assert_eq!(bed.revisions("web"), 2);
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ecs_endpoint_that_hangs_cannot_hold_a_deployment_past_its_deadline() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // Without ECS's record, the running tasks decide; every ListTasks answers after five minutes: the
    // rollout, its rollback and the stopped tasks' reasons all need it.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServiceDeployments", "kind": "denied"}));
    bed.bed
        .sim
        .inject_fault(json!({"operation": "ListTasks", "kind": "delay", "delayMs": 300_000}));
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    bed.send_web("nginx:1.29", "healthy").await;
    // Within the report deadline (a minute), far from the five minutes any one read would take.
    let report = worker.next_report().await;
    let Outcome::TimedOut { rollback, .. } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(matches!(rollback, Rollback::Failed(_)), "{rollback:?}");
    bed.bed.sim.clear_faults();
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_ecs_s_record_successful_a_task_read_that_hangs_delays_nothing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("ecs_deployment=debug")
        .try_init(); // TEMP
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.bed
        .sim
        .inject_fault(json!({"operation": "ListTasks", "kind": "delay", "delayMs": 300_000}));
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    bed.send_web("nginx:1.29", "healthy").await;
    // ECS's record says SUCCESSFUL: that is the verdict; the tasks would only have added detail.
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);
    assert_eq!(bed.bed.sim.calls("StopServiceDeployment"), 0);
    bed.bed.sim.clear_faults();
    assert_eq!(
        bed.running_task_definitions("web")
            .await
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>(),
        ["web:2"]
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_longer_than_the_visibility_timeout_is_settled_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[("SQS_VISIBILITY_TIMEOUT", "2")]));

    // slow:500 takes about five seconds of real time: more than two visibility timeouts.
    let id = bed.send_web("nginx:slow", "slow:500").await;
    bed.wait_for_task_definition("web", "web:2").await;
    // Meanwhile another receiver polls the queue: the message must never be visible to it.
    let watcher = {
        let sqs = bed.sqs.clone();
        let url = bed.queue_url.clone();
        tokio::spawn(async move {
            let mut stolen = Vec::new();
            loop {
                let out = sqs
                    .receive_message()
                    .queue_url(&url)
                    .visibility_timeout(0)
                    .wait_time_seconds(1)
                    .send()
                    .await
                    .expect("receive");
                stolen.extend(
                    out.messages
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|m| m.message_id),
                );
                if !stolen.is_empty() {
                    return stolen;
                }
            }
        })
    };
    let report = worker.next_report().await;
    assert!(
        !watcher.is_finished(),
        "another receiver got the message: {:?}",
        watcher.await
    );
    watcher.abort();

    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert!(
        report.duration > Duration::from_secs(4),
        "the rollout outlived the visibility timeout"
    );
    assert_eq!(
        bed.bed.sim.calls("RegisterTaskDefinition"),
        2,
        "one registration for the service, one for the message"
    );
    bed.assert_queue_empty().await;
    assert!(worker.reports.try_recv().is_err(), "settled exactly once");
    worker.stop().await;
}
