//! End to end: `rollback` messages: back to a revision without registering anything, never over someone's newer deployment, sent from the CLI.

mod common;

use common::Bed;
use ecs_deployment::decide::outcome::Outcome;

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_goes_back_without_registering_anything() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    bed.register("api", "nginx:1", "healthy").await;
    let mut worker = bed.start_worker(bed.config(&[]));

    // Before any deployment by the worker, web:1 records nothing before it.
    bed.send_rollback(None).await;
    let report = worker.next_report().await;
    let Outcome::Rejected { reason } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(
        reason.contains("nothing to roll back to: the revision web:1"),
        "{reason}"
    );

    bed.send_web("nginx:1.28", "healthy").await;
    let v2 = worker
        .next_report()
        .await
        .new_task_definition
        .expect("deployed");
    bed.send_rollback(None).await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(v2.as_str())
    );
    assert_eq!(report.new_task_definition.as_deref(), Some(v1.as_str()));
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1.clone()]
    );

    bed.send_rollback(Some("web:2")).await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v2.clone(), v2.clone()]
    );
    assert_eq!(bed.revisions("web"), 2, "nothing registered by a rollback");

    for (revision, says) in [
        (
            "api:1",
            "message attribute 'revision' (api:1) is not of the family web",
        ),
        (
            "web:2",
            "service 'web' runs web:2 already: nothing to roll back",
        ),
        ("web:99", "DescribeTaskDefinition"),
        (
            "web",
            "message attribute 'revision' (\"web\") is not a task definition revision",
        ),
    ] {
        bed.send_rollback(Some(revision)).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("{revision}: {report:?}");
        };
        assert!(reason.contains(says), "{revision}: {reason}");
    }
    assert_eq!(
        bed.bed.sim.calls("RegisterTaskDefinition"),
        3,
        "api:1, web:1 and web:2 only"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_sent_before_someone_deployed_leaves_their_deployment_alone() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let v2 = bed.register("web", "nginx:1.28", "healthy").await;
    bed.send_rollback(Some("web:1")).await;
    // Someone deploys web:2 after the rollback was sent and before a worker reads it.
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&v2)
        .send()
        .await
        .expect("update the service");
    let mut worker = bed.start_worker(bed.config(&[]));
    let report = worker.next_report().await;
    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(
        reason.contains("updated to web:2 after this rollback was sent"),
        "{reason}"
    );
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "only theirs");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn send_rollback_sends_a_rollback_and_follows_it_through_the_reply_queue() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 1, (true, true)).await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send_web("nginx:1.28", "healthy").await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);

    let run = bed
        .waiting(&[
            "send",
            "--service",
            "web",
            "--rollback",
            "--reply-to",
            &replies,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("roll service web back to the revision it ran before"),
        "{run:?}"
    );
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    assert_eq!(bed.running_task_definitions("web").await, vec![v1]);

    for (args, says) in [
        (
            vec!["send", "--service", "web", "--rollback", "--wait"],
            "needs --reply-to",
        ),
        (
            vec!["send", "--service", "web", "--revision", "web:1"],
            "--rollback",
        ),
        (
            vec![
                "send",
                "--service",
                "web",
                "--rollback",
                "--revision",
                "web",
            ],
            "is not a task definition revision",
        ),
    ] {
        let run = bed.cli(&args, None).await;
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {run:?}");
    }
    worker.stop().await;
}
