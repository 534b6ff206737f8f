//! End to end, the real binary: workers killed, stopped and stopped twice mid-rollout, and two workers on one FIFO queue; nothing lost, nothing settled twice.

mod common;

use std::collections::BTreeMap;

use common::{Bed, WorkerProcess, short};
use ecs_deployment::Report;
use ecs_deployment::decide::outcome::Outcome;

/// The deployment of `web` the tests interrupt: tasks stay PENDING for 300 simulated seconds (3 s).
const SLOW: &str = "slow:300";

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_rollout_is_resumed_by_the_next_and_settled_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let visibility = [("SQS_VISIBILITY_TIMEOUT", "2")];
    let mut first = WorkerProcess::start(&bed, &visibility);
    let id = bed.send_web("nginx:1.28", SLOW).await;
    first.wait_for("updated the service; watching the rollout", |_| true);

    first.signal("KILL");
    assert_eq!(first.wait_exit(), None, "killed by the signal");
    let (visible, in_flight) = bed.counts(&bed.queue_url).await;
    assert_eq!(visible + in_flight, 1, "still on the queue");

    // The message reappears when its visibility lapses; the next worker finds the revision and watches.
    let mut second = WorkerProcess::start(&bed, &visibility);
    let finished = second.wait_for("deployment finished", |_| true);
    assert_eq!(finished["message_id"], id.as_str());
    assert_eq!(finished["outcome"], "deployed", "{}", second.log_text());
    assert_eq!(
        finished["new_task_definition"].as_str().map(short),
        Some("web:2")
    );
    assert_eq!(
        finished["previous_task_definition"].as_str().map(short),
        Some("web:1")
    );
    second.wait_for("resuming: the service was pointed at the revision on an earlier delivery; watching that rollout", |_| true);
    assert_eq!(bed.revisions("web"), 2, "no second revision");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "no second rollout");
    bed.assert_queue_empty().await;
    assert_eq!(
        bed.running_task_definitions("web")
            .await
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>(),
        ["web:2", "web:2"]
    );
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_past_the_grace_releases_the_message_to_another_worker() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // A visibility far beyond the test's deadline: only a release lets the second worker have it soon.
    let mut first = WorkerProcess::start(
        &bed,
        &[
            ("SHUTDOWN_GRACE", "200ms"),
            ("SQS_VISIBILITY_TIMEOUT", "300"),
        ],
    );
    let id = bed.send_web("nginx:1.28", SLOW).await;
    first.wait_for("updated the service; watching the rollout", |_| true);

    first.signal("TERM");
    assert_eq!(first.wait_exit(), Some(0), "{}", first.log_text());
    first.wait_for("released unsettled: another worker resumes it", |l| {
        l["message_id"] == id.as_str()
    });
    assert!(first.lines_with("deployment finished").is_empty());

    let mut second = WorkerProcess::start(&bed, &[]);
    let finished = second.wait_for("deployment finished", |_| true);
    assert_eq!(finished["message_id"], id.as_str());
    assert_eq!(finished["outcome"], "deployed", "{}", second.log_text());
    assert_eq!(bed.revisions("web"), 2);
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);
    bed.assert_queue_empty().await;
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_arrives_while_the_worker_stops_is_given_back_at_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // A long wait: the receive in flight when the signal comes is still open at SQS when the message is sent.
    let mut worker = WorkerProcess::start(&bed, &[("SQS_WAIT_TIME", "10")]);
    worker.wait_for("receiving deployments", |_| true);
    worker.signal("TERM");
    worker.wait_for(
        "stop requested: no more messages are received; deployments in flight get SHUTDOWN_GRACE to settle",
        |_| true,
    );
    let id = bed.send_web("nginx:1.28", "healthy").await;
    assert_eq!(worker.wait_exit(), Some(0), "{}", worker.log_text());
    worker.wait_for("released unsettled: another worker resumes it", |l| {
        l["message_id"] == id.as_str()
    });
    assert!(worker.lines_with("deployment finished").is_empty());
    assert_eq!(
        bed.counts(&bed.queue_url).await,
        (1, 0),
        "visible again at once, not hidden for the visibility timeout"
    );
    assert_eq!(bed.revisions("web"), 1, "nothing deployed");
}

#[tokio::test(flavor = "multi_thread")]
async fn waiting_messages_are_given_back_at_once_on_stop_not_after_the_grace() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // A rollout of minutes, so the grace does not end early because the deployment settled.
    let mut worker =
        WorkerProcess::start(&bed, &[("SHUTDOWN_GRACE", "5m"), ("ECS_TIMEOUT", "10m")]);
    let deploying = bed.send_web("nginx:1.28", "slow:60000").await;
    worker.wait_for("updated the service; watching the rollout", |_| true);
    let waiting = bed.send_web("nginx:1.29", "healthy").await;
    worker.wait_for(
        "waiting: a deployment of this service is in progress",
        |l| l["message_id"] == waiting.as_str(),
    );

    worker.signal("TERM");
    // Given back while the deployment in flight still has minutes of grace.
    worker.wait_for("released unsettled: another worker resumes it", |l| {
        l["message_id"] == waiting.as_str()
    });
    assert!(worker.running(), "still in its grace");
    assert!(
        worker
            .lines_with("released unsettled: another worker resumes it")
            .iter()
            .all(|l| l["message_id"] != deploying.as_str()),
        "the deployment in flight keeps its message through the grace"
    );
    worker.signal("INT");
    assert_eq!(worker.wait_exit(), Some(130));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_exits_at_once_deleting_nothing() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let mut worker = WorkerProcess::start(&bed, &[("SHUTDOWN_GRACE", "5m")]);
    bed.send_web("nginx:1.28", SLOW).await;
    worker.wait_for("updated the service; watching the rollout", |_| true);

    worker.signal("TERM");
    worker.wait_for(
        "stop requested: no more messages are received; deployments in flight get SHUTDOWN_GRACE to settle",
        |_| true,
    );
    worker.signal("INT");
    assert_eq!(worker.wait_exit(), Some(130), "{}", worker.log_text());
    assert!(worker.lines_with("deployment finished").is_empty());
    assert_eq!(
        bed.counts(&bed.queue_url).await,
        (0, 1),
        "left on the queue"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_on_a_fifo_queue_keep_each_services_order_without_overlap() {
    let bed = Bed::start(false).await;
    let services = ["alpha", "bravo", "charlie", "delta", "echo"];
    for service in services {
        bed.service(service, 1, (true, true)).await;
    }
    let url = bed.fifo_queue("deployments.fifo").await;
    let config = bed.config(&[("SQS_URL", &url), ("CONCURRENCY", "2")]);
    let mut one = bed.start_worker(config.clone());
    let mut two = bed.start_worker(config);

    let mut sent: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for round in 1..=4 {
        for service in services {
            let id = bed
                .send_fifo(&url, service, &format!("nginx:1.{round}"))
                .await;
            sent.entry(service).or_default().push(id);
        }
    }
    let mut reports: Vec<(usize, Report)> = Vec::new();
    while reports.len() < 20 {
        tokio::select! {
            Some(r) = one.reports.recv() => reports.push((1, r)),
            Some(r) = two.reports.recv() => reports.push((2, r)),
            () = tokio::time::sleep(common::REPORT_DEADLINE) => panic!("only {} reports: {reports:?}", reports.len()),
        }
    }

    for service in services {
        let mut mine: Vec<&Report> = reports
            .iter()
            .map(|(_, r)| r)
            .filter(|r| r.service == service)
            .collect();
        mine.sort_by_key(|r| r.received_at);
        let ids: Vec<&str> = mine.iter().map(|r| r.message_id.as_str()).collect();
        assert_eq!(ids, sent[service], "{service}: applied in the order sent");
        for (i, report) in mine.iter().enumerate() {
            // Each one deployed, from the revision the one before it deployed: none overlapped another
            // (an overlapping update would have superseded the rollout before it).
            assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
            let revision = format!("{service}:{}", i + 2);
            assert_eq!(
                report.new_task_definition.as_deref().map(short),
                Some(revision.as_str())
            );
            let previous = format!("{service}:{}", i + 1);
            assert_eq!(
                report.previous_task_definition.as_deref().map(short),
                Some(previous.as_str())
            );
        }
        assert_eq!(
            bed.revisions(service),
            5,
            "{service}: one revision per message"
        );
    }
    assert!(
        reports.iter().any(|(w, _)| *w == 1) && reports.iter().any(|(w, _)| *w == 2),
        "both workers deployed"
    );
    assert_eq!(bed.counts(&url).await, (0, 0));
    one.stop().await;
    two.stop().await;
}
