//! End to end: what producers send from the command line and the `aws` CLI: action messages, promotions, another cluster.

mod common;

use common::{Bed, short};
use ecs_deployment::decide::outcome::Outcome;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn the_aws_cli_sends_image_and_rollback_messages_as_a_producer_would() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));
    let send = |body: &str, attributes: &str| {
        testbed::aws_json(
            &bed.bed.moto.endpoint(),
            &[
                "sqs",
                "send-message",
                "--queue-url",
                &bed.queue_url,
                "--message-body",
                body,
                "--message-attributes",
                attributes,
            ],
        )
    };
    send(
        r#"{"app": "nginx:1.29"}"#,
        r#"{"service": {"DataType": "String", "StringValue": "web"},
            "action": {"DataType": "String", "StringValue": "image"}}"#,
    );
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    send(
        "{}",
        r#"{"service": {"DataType": "String", "StringValue": "web"},
            "action": {"DataType": "String", "StringValue": "rollback"}}"#,
    );
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.running_task_definitions("web").await, vec![v1]);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn promote_sends_what_stage_runs_by_digest_to_prod() {
    let bed = Bed::start(true).await;
    bed.service("stage", 1, (true, true)).await;
    let prod_v1 = bed.service("prod", 1, (true, true)).await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send(
        &common::task_definition("stage", "nginx:1.29", "healthy").to_string(),
        &[("service", "stage")],
    )
    .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    let stage_digest = testbed::service_tasks(&bed.ecs, "stage", "RUNNING")
        .await
        .iter()
        .find(|t| t.last_status() == Some("RUNNING"))
        .and_then(|t| {
            t.containers()
                .first()
                .and_then(|c| c.image_digest().map(str::to_owned))
        })
        .expect("stage's digest");

    let run = bed
        .waiting(&[
            "promote",
            "--from",
            "stage",
            "--to",
            "prod",
            "--reply-to",
            &replies,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(prod_v1.as_str())
    );
    let prod_v2 = report.new_task_definition.expect("registered");
    assert_eq!(short(&prod_v2), "prod:2", "the target's own family");
    let described = bed.bed.sim.call(
        "DescribeTaskDefinition",
        &json!({"taskDefinition": prod_v2}),
    );
    assert_eq!(
        described["taskDefinition"]["containerDefinitions"][0]["image"],
        format!("nginx@{stage_digest}").as_str()
    );

    let nothing = bed
        .cli(&["promote", "--from", "missing", "--to", "prod"], None)
        .await;
    assert_ne!(nothing.code, 0, "{nothing:?}");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_naming_a_cluster_sends_it_so_the_worker_deploys_there() {
    let bed = Bed::start(true).await;
    // Service web in cluster blue; the worker's ECS_CLUSTER is default, blue is allowed.
    let sim = &bed.bed.sim;
    sim.call("CreateCluster", &json!({"clusterName": "blue"}));
    let v1 = bed.register("web", "nginx:1.27", "healthy").await;
    sim.call(
        "CreateService",
        &json!({"cluster": "blue", "serviceName": "web", "taskDefinition": v1, "desiredCount": 1}),
    );
    let blue_web = || {
        sim.call(
            "DescribeServices",
            &json!({"cluster": "blue", "services": ["web"]}),
        )["services"][0]
            .clone()
    };
    let rollout_state = || {
        blue_web()["deployments"][0]["rolloutState"]
            .as_str()
            .map(str::to_owned)
    };
    testbed::wait_until(
        "web's first rollout in blue",
        std::time::Duration::from_secs(60),
        || async { (rollout_state().as_deref() == Some("COMPLETED")).then_some(()) },
    )
    .await;
    let mut worker = bed.start_worker(bed.config(&[("ALLOWED_CLUSTERS", "default,blue")]));
    let replies = bed.queue("replies").await;
    let run = bed
        .waiting(&[
            "send",
            "--cluster",
            "blue",
            "--service",
            "web",
            "--image",
            "app=nginx:1.29",
            "--reply-to",
            &replies,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(report.cluster, "blue", "{report:?}");
    let primary = blue_web()["taskDefinition"].clone();
    assert_eq!(
        primary.as_str().map(short),
        Some("web:2"),
        "blue's web runs the update"
    );
    worker.stop().await;
}
