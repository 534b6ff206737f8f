//! End to end: `redeploy` messages, and the old revisions housekeeping deregisters after a deployment.

mod common;

use common::{Bed, short};
use ecs_deployment::decide::outcome::Outcome;

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_replaces_every_task_with_the_same_revision() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    let before: Vec<String> = testbed::service_tasks(&bed.ecs, "web", "RUNNING")
        .await
        .into_iter()
        .filter_map(|t| t.task_arn)
        .collect();
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(report.new_task_definition.as_deref(), Some(v1.as_str()));
    let service = bed.describe("web").await.expect("the service");
    let primary = service.deployments()[0].id().unwrap_or_default().to_owned();
    let running = testbed::service_tasks(&bed.ecs, "web", "RUNNING").await;
    let running: Vec<_> = running
        .iter()
        .filter(|t| t.last_status() == Some("RUNNING"))
        .collect();
    assert_eq!(running.len(), 2);
    for task in running {
        assert_eq!(
            task.started_by(),
            Some(primary.as_str()),
            "started by the redeploy"
        );
        assert!(
            !before.iter().any(|b| Some(b.as_str()) == task.task_arn()),
            "a new task"
        );
        assert_eq!(task.task_definition_arn(), Some(v1.as_str()));
    }
    assert_eq!(bed.revisions("web"), 1, "nothing registered");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);

    // The same through the command line, followed through a reply queue.
    let replies = bed.queue("replies").await;
    let run = bed
        .waiting(&[
            "send",
            "--service",
            "web",
            "--redeploy",
            "--reply-to",
            &replies,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("redeploy service web"), "{run:?}");
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    assert_eq!(bed.bed.sim.calls("UpdateService"), 2);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_revisions_deregisters_old_revisions_but_never_one_in_use_or_to_roll_back_to() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // Another service of the cluster runs web:1; web's own history grows to web:4.
    let v1 = bed
        .describe("web")
        .await
        .and_then(|s| s.task_definition)
        .expect("web:1");
    bed.ecs
        .create_service()
        .service_name("web-canary")
        .task_definition(&v1)
        .desired_count(1)
        .send()
        .await
        .expect("create web-canary");
    let mut worker = bed.start_worker(bed.config(&[("KEEP_REVISIONS", "1")]));
    for image in ["nginx:1.28", "nginx:1.29", "nginx:1.30"] {
        bed.send_web(image, "healthy").await;
        assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    }
    // Kept: web:4 (the newest, running), web:3 (what web would roll back to), web:1 (web-canary runs it).
    let active = || async {
        bed.ecs
            .list_task_definitions()
            .family_prefix("web")
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .send()
            .await
            .expect("list")
            .task_definition_arns()
            .iter()
            .map(|t| short(t).to_owned())
            .collect::<Vec<_>>()
    };
    testbed::wait_until(
        "web:2 deregistered",
        std::time::Duration::from_secs(30),
        || async { (active().await == ["web:1", "web:3", "web:4"]).then_some(()) },
    )
    .await;
    assert_eq!(bed.bed.sim.calls("DeregisterTaskDefinition"), 1);
    worker.stop().await;
}
