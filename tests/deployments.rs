//! End to end: messages on moto's SQS, rollouts in ecs-sim, the worker through the library's entry point.

mod common;

use aws_sdk_ecs::types::{DeploymentController, DeploymentControllerType};
use common::{Bed, short, task_definition};
use ecs_deployment::decide::outcome::{Disposition, Outcome};
use ecs_deployment::decide::policy::Privilege;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_good_deployment_rolls_out_and_its_message_is_deleted() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    let body = task_definition("web", "nginx:1.28", "healthy").to_string();
    let id = bed
        .send(
            &body,
            &[
                ("service", "web"),
                ("commit_url", "https://example.com/commit/abc"),
            ],
        )
        .await;
    let report = worker.next_report().await;

    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        (report.disposition, report.settled),
        (Disposition::Delete, true)
    );
    assert_eq!(report.service, "web");
    assert_eq!(report.cluster, "default");
    assert_eq!(
        report.commit_url.as_deref(),
        Some("https://example.com/commit/abc")
    );
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(v1.as_str())
    );
    let v2 = report
        .new_task_definition
        .clone()
        .expect("a new task definition");
    assert_eq!(short(&v2), "web:2");
    // Done means the running tasks really are the new revision, all of them.
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v2.clone(), v2.clone()]
    );
    let service = bed.describe("web").await.expect("service");
    assert_eq!(service.task_definition(), Some(v2.as_str()));
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn service_false_registers_only() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[("ALLOW_REGISTER_ONLY", "web")]));

    bed.send(
        &task_definition("web", "nginx:1.28", "healthy").to_string(),
        &[("service", "false")],
    )
    .await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Registered, "{report:?}");
    assert_eq!(
        report.new_task_definition.as_deref().map(short),
        Some("web:2")
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        0,
        "register-only must not touch a service"
    );
    assert_eq!(
        bed.task_definition_of("web").await.as_deref().map(short),
        Some("web:1")
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_task_definition_output_is_deployed_as_is() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // The producer's way: take the running definition with the aws CLI, change the image, send it back.
    bed.ecs
        .tag_resource()
        .resource_arn(bed.task_definition_of("web").await.expect("td"))
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key("team")
                .value("web")
                .build(),
        )
        .send()
        .await
        .expect("tag the task definition");
    let mut described = testbed::aws_json(
        &bed.bed.sim.endpoint(),
        &[
            "ecs",
            "describe-task-definition",
            "--task-definition",
            "web",
            "--include",
            "TAGS",
        ],
    );
    assert!(
        described["taskDefinition"]["revision"].is_number(),
        "{described}"
    );
    described["taskDefinition"]["containerDefinitions"][0]["image"] = json!("nginx:1.28");
    let mut worker = bed.start_worker(bed.config(&[]));

    let id = bed
        .send(&described.to_string(), &[("service", "web")])
        .await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let v2 = report.new_task_definition.expect("registered");
    let (producer_tags, marks) = bed.tags(&v2);
    assert_eq!(producer_tags, json!([{"key": "team", "value": "web"}]));
    assert_eq!(marks["ecs-deployment:message-id"], id);
    assert_eq!(
        marks["ecs-deployment:previous-task-definition"],
        report
            .previous_task_definition
            .expect("the previous revision")
    );
    assert!(
        marks["ecs-deployment:deployment-id"].starts_with("ecs-svc/"),
        "{marks:?}"
    );
    let registered = testbed::aws_json(
        &bed.bed.sim.endpoint(),
        &[
            "ecs",
            "describe-task-definition",
            "--task-definition",
            &v2,
            "--include",
            "TAGS",
        ],
    );
    assert_eq!(
        registered["taskDefinition"]["containerDefinitions"][0]["image"],
        "nginx:1.28"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_scaled_to_zero_is_deployed_at_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 0, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:1.28", "healthy").await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert!(bed.running_task_definitions("web").await.is_empty());
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_definition_using_every_member_reaches_ecs_unchanged() {
    let path = testbed::workspace_root()
        .join("crates/ecs-sim/tests/fixtures/every-member-task-definition.json");
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read the fixture"))
            .expect("JSON");
    let missing = ecs_model::model().missing_members("RegisterTaskDefinition", &fixture);
    assert!(
        missing.is_empty(),
        "the fixture leaves out members ECS knows: {missing:?}"
    );
    let bed = Bed::start(true).await;
    // What it refers to (roles, an ECR image, parameters, a log group) exists nowhere: this is about the
    // body reaching ECS unchanged; tests/preflight.rs checks the references.
    // A new family whose first revision sets every member: the policy allows all of it.
    let privileges: Vec<&str> = Privilege::ALL.iter().map(|p| p.label()).collect();
    let privileges = privileges.join(",");
    let mut worker = bed.start_worker(bed.config(&[
        ("VERIFY", "off"),
        ("ALLOW_REGISTER_ONLY", "true"),
        ("ALLOW_NEW_FAMILIES", "true"),
        ("ALLOWED_PRIVILEGES", &privileges),
        ("ALLOWED_IMAGES", "**"),
        ("ALLOWED_TASK_ROLES", "**"),
        ("ALLOWED_EXECUTION_ROLES", "**"),
        ("ALLOWED_SECRETS", "**"),
    ]));

    bed.send(&fixture.to_string(), &[("service", "false")])
        .await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Registered, "{report:?}");
    let arn = report.new_task_definition.expect("registered");
    // Read back raw: an SDK or CLI would drop members its model does not know.
    let described = bed.bed.sim.call(
        "DescribeTaskDefinition",
        &json!({"taskDefinition": arn, "include": ["TAGS"]}),
    );
    let (producer_tags, _marks) = bed.tags(&arn);
    for (member, value) in fixture.as_object().expect("an object") {
        let got = if member == "tags" {
            &producer_tags
        } else {
            &described["taskDefinition"][member]
        };
        assert_eq!(got, value, "member {member} changed on the way");
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn services_deployed_by_codedeploy_or_task_sets_are_refused_before_anything_is_registered() {
    let bed = Bed::start(true).await;
    let v1 = bed.register("web", "nginx:1.27", "healthy").await;
    for (name, controller) in [
        ("web", DeploymentControllerType::CodeDeploy),
        ("edge", DeploymentControllerType::External),
    ] {
        let mut create = bed
            .ecs
            .create_service()
            .service_name(name)
            .desired_count(1)
            .deployment_controller(
                DeploymentController::builder()
                    .r#type(controller.clone())
                    .build()
                    .expect("controller"),
            );
        if controller == DeploymentControllerType::CodeDeploy {
            create = create.task_definition(&v1);
        }
        create.send().await.expect("create the service");
    }
    let mut worker = bed.start_worker(bed.config(&[]));

    for (name, controller) in [("web", "CODE_DEPLOY"), ("edge", "EXTERNAL")] {
        let body = task_definition("web", "nginx:1.28", "healthy").to_string();
        bed.send(&body, &[("service", name)]).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("expected a rejection, got {report:?}");
        };
        assert!(
            reason.contains(controller)
                && reason.contains(name)
                && reason.contains("service=false"),
            "{reason}"
        );
        assert_eq!(report.disposition, Disposition::DeadLetter);
    }
    assert_eq!(bed.revisions("web"), 1, "nothing registered");
    assert_eq!(bed.bed.sim.calls("RegisterTaskDefinition"), 1);
    assert_eq!(bed.bed.sim.calls("UpdateService"), 0);
    assert_eq!(bed.dead_letters(2).await.len(), 2);
    worker.stop().await;
}
