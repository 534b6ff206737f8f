//! End to end: deployments that meet others on their service: superseded by a newer one, or waiting for it.

mod common;

use std::collections::BTreeMap;

use common::{Bed, short, task_definition};
use ecs_deployment::decide::outcome::{Disposition, Outcome};

#[tokio::test(flavor = "multi_thread")]
async fn someone_elses_new_deployment_of_our_own_revision_supersedes_ours_and_is_left_alone() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:slow", "slow:300").await;
    // Once the worker's update is in (web:2), someone forces a new deployment of that same revision.
    bed.wait_for_task_definition("web", "web:2").await;
    bed.ecs
        .update_service()
        .service("web")
        .force_new_deployment(true)
        .send()
        .await
        .expect("someone's forced new deployment");
    let theirs = bed
        .describe("web")
        .await
        .and_then(|s| {
            s.deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
                .and_then(|d| d.id().map(str::to_owned))
        })
        .expect("their deployment");
    let report = worker.next_report().await;

    // Their deployment is theirs: the worker neither judges it as its own nor acts on it.
    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("expected superseded, got {report:?}");
    };
    assert!(
        reason.contains(&format!("deployment {theirs} of web:2")),
        "{reason}"
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        2,
        "theirs and ours only"
    );
    assert_eq!(bed.bed.sim.calls("StopServiceDeployment"), 0);
    assert_eq!(
        bed.task_definition_of("web").await.as_deref().map(short),
        Some("web:2")
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_update_supersedes_the_rollout_and_nothing_is_rolled_back() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let other = bed.register("web", "nginx:hotfix", "healthy").await; // web:2
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:slow", "slow:300").await;
    // Once the worker's update is in (web:3), someone else updates the service.
    bed.wait_for_task_definition("web", "web:3").await;
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&other)
        .send()
        .await
        .expect("someone else's update");
    let report = worker.next_report().await;

    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("expected superseded, got {report:?}");
    };
    assert!(reason.contains("web:2"), "{reason}");
    assert_eq!(report.disposition, Disposition::Delete);
    assert_eq!(
        bed.task_definition_of("web").await.as_deref(),
        Some(other.as_str()),
        "the other update stands"
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        2,
        "no rollback over someone else's update"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_services_newest_message_waits_and_an_older_waiting_one_is_superseded() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut ids = Vec::new();
    for image in ["nginx:1.28", "nginx:1.29", "nginx:1.30"] {
        let body = task_definition("web", image, "slow:50").to_string();
        ids.push(bed.send(&body, &[("service", "web")]).await);
    }
    // Received together: the first deploys, the third replaces the second as the one waiting.
    let mut worker = bed.start_worker(bed.config(&[("SQS_VISIBILITY_TIMEOUT", "1")]));

    let mut reports = BTreeMap::new();
    for _ in 0..ids.len() {
        let report = worker.next_report().await;
        reports.insert(report.message_id.clone(), report);
    }
    let [first, second, third] = [&reports[&ids[0]], &reports[&ids[1]], &reports[&ids[2]]];
    let Outcome::Superseded { reason } = &second.outcome else {
        panic!("the older waiting message is superseded: {second:?}");
    };
    assert!(
        reason.contains(&ids[2]),
        "names the newer message: {reason}"
    );
    assert!(second.settled, "settled at once, not deployed");
    for (report, from, to) in [(first, "web:1", "web:2"), (third, "web:2", "web:3")] {
        assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
        assert_eq!(
            report.previous_task_definition.as_deref().map(short),
            Some(from),
            "each starts from the one before: {report:?}"
        );
        assert_eq!(report.new_task_definition.as_deref().map(short), Some(to));
    }
    assert!(first.received_at <= third.received_at);
    assert_eq!(bed.revisions("web"), 3, "two rollouts for three messages");
    bed.assert_queue_empty().await;
    worker.stop().await;
}
