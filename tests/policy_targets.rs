//! The hostile suite, what a message aims at: services, clusters, families, images, revisions and reply queues the policy does not allow, and a rejected body never logged.

mod common;

use common::hostile::{Hostile, container, refused};
use common::{Bed, WorkerProcess, short, task_definition};
use ecs_deployment::decide::outcome::Outcome;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn another_family_for_the_service() {
    let body = task_definition("api", "nginx:1.29", "healthy");
    refused(Hostile::new(
        body,
        "family_change",
        &["family", "ALLOWED_PRIVILEGES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_workers_own_service() {
    let body = task_definition("ecs-deployment", "attacker/miner:1", "healthy");
    let case = Hostile::new(
        body,
        "own_service",
        &["the worker's own service", "no setting allows this"],
    )
    .with_config(&[("WORKER_SERVICE", "ecs-deployment")])
    .with_attributes(&[("service", "ecs-deployment")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_workers_own_family() {
    // The worker's service runs family `deployer`; learned from ECS through WORKER_SERVICE.
    let body = task_definition("deployer", "attacker/miner:1", "healthy");
    let case = Hostile::new(
        body,
        "own_family",
        &["deployer is the worker's own task definition family"],
    )
    .with_config(&[("WORKER_SERVICE", "deployer")])
    .with_attributes(&[("service", "false")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_of_another_region() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case = Hostile::new(body, "foreign_service", &["region eu-west-9"]).with_attributes(&[(
        "service",
        "arn:aws:ecs:eu-west-9:123456789012:service/default/web",
    )]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_of_another_account() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case =
        Hostile::new(body, "foreign_service", &["account 999999999999"]).with_attributes(&[(
            "service",
            "arn:aws:ecs:us-east-1:999999999999:service/default/web",
        )]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_of_another_cluster() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case = Hostile::new(body, "foreign_service", &["cluster prod"]).with_attributes(&[(
        "service",
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
    )]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_not_allowed() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case = Hostile::new(
        body,
        "cluster",
        &["message attribute 'cluster'", "ALLOWED_CLUSTERS"],
    )
    .with_attributes(&[("service", "web"), ("cluster", "prod")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_not_allowed() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case = Hostile::new(
        body,
        "service_not_allowed",
        &[
            "deployments are not allowed for service deployer",
            "ALLOWED_SERVICES",
        ],
    )
    .with_config(&[("ALLOWED_SERVICES", "web,team-a-*")])
    .with_attributes(&[("service", "deployer")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_service() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case = Hostile::new(
        body,
        "service_denied",
        &[
            "deployments are denied for service deployer",
            "DENIED_SERVICES",
        ],
    )
    .with_config(&[("DENIED_SERVICES", "deployer,ecs-*")])
    .with_attributes(&[("service", "deployer")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registering_without_deploying_by_default_or_into_a_family_not_named() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case = Hostile::new(body.clone(), "register_only", &["ALLOW_REGISTER_ONLY"])
        .with_attributes(&[("service", "false")]);
    refused(case).await;
    let case = Hostile::new(body, "register_only", &["ALLOW_REGISTER_ONLY"])
        .with_config(&[("ALLOW_REGISTER_ONLY", "api-*")])
        .with_attributes(&[("service", "false")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn poisoning_a_family_by_registering_only() {
    // Compared with the family's newest revision, as a deployment is with the service's.
    let body = container(json!({"privileged": true}));
    let case = Hostile::new(body, "privileged", &["family web", "ALLOWED_PRIVILEGES"])
        .with_config(&[("ALLOW_REGISTER_ONLY", "web")])
        .with_attributes(&[("service", "false")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_not_allowed() {
    let body = task_definition("web", "docker.io/attacker/miner:1", "healthy");
    let case = Hostile::new(
        body,
        "image",
        &["containerDefinitions[0].image", "ALLOWED_IMAGES"],
    )
    .with_config(&[("ALLOWED_IMAGES", "docker.io/library/*")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_of_another_repository_by_default() {
    let body = task_definition("web", "docker.io/attacker/nginx:1.29", "healthy");
    let case = Hostile::new(
        body,
        "image",
        &[
            "containerDefinitions[0].image",
            "docker.io/attacker/nginx",
            "docker.io/library/nginx",
            "ALLOWED_IMAGES",
        ],
    );
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_message_of_another_repository() {
    let body = json!({"app": "docker.io/attacker/miner:1"});
    let case = Hostile::new(
        body,
        "image",
        &["docker.io/attacker/miner", "ALLOWED_IMAGES"],
    )
    .with_attributes(&[("service", "web"), ("action", "image")]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_back_to_a_revision_that_may_do_more() {
    let bed = Bed::start(true).await;
    let web = bed.service("web", 1, (true, true)).await;
    // Registered outside the worker, never run: a rollback to it would add what it may do.
    let registered = bed.bed.sim.call(
        "RegisterTaskDefinition",
        &container(json!({"privileged": true})),
    );
    let privileged = registered["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .expect("registered")
        .to_owned();
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send(
        "{}",
        &[
            ("service", "web"),
            ("action", "rollback"),
            ("revision", short(&privileged)),
        ],
    )
    .await;
    let report = worker.next_report().await;
    let Outcome::Rejected { reason } = &report.outcome else {
        panic!("not refused: {report:?}");
    };
    assert!(
        reason.contains("containerDefinitions[0].privileged")
            && reason.contains("ALLOWED_PRIVILEGES=privileged"),
        "{reason}"
    );
    assert_eq!(bed.bed.sim.calls("UpdateService"), 0, "no service touched");
    let service = bed.describe("web").await.expect("web");
    assert_eq!(service.task_definition(), Some(web.as_str()));
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_without_a_digest() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let mut case = Hostile::new(body, "image_digest", &["@sha256:", "REQUIRE_IMAGE_DIGEST"])
        .with_config(&[("REQUIRE_IMAGE_DIGEST", "true")]);
    case.good_image = format!("nginx@sha256:{}", "a".repeat(64));
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_url_elsewhere() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case = Hostile::new(body, "commit_url", &["ALLOWED_COMMIT_URLS"])
        .with_config(&[("ALLOWED_COMMIT_URLS", "https://github.com/example/")])
        .with_attributes(&[
            ("service", "web"),
            ("commit_url", "https://evil.example/commit/1"),
        ]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_to_another_accounts_queue() {
    let body = task_definition("web", "nginx:1.29", "healthy");
    let case = Hostile::new(
        body,
        "reply_to",
        &["message attribute 'reply_to'", "ALLOWED_REPLY_QUEUES"],
    )
    .with_attributes(&[
        ("service", "web"),
        (
            "reply_to",
            "https://sqs.us-east-1.amazonaws.com/999999999999/exfiltrate",
        ),
    ]);
    refused(case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_body_is_never_logged_only_its_family_size_and_digest() {
    // Without a dead-letter queue the log is the only record of a rejected message.
    let bed = Bed::start(false).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = WorkerProcess::start(&bed, &[]);
    let secret = "AKIA-not-a-real-key-but-a-secret";
    let mut hostile = container(json!({"privileged": true}));
    hostile["containerDefinitions"][0]["environment"] = json!([{"name": "TOKEN", "value": secret}]);
    let unreadable = format!("{{\"family\": \"web\", \"password\": \"{secret}\"");
    for body in [hostile.to_string(), unreadable.clone()] {
        bed.send(&body, &[("service", "web")]).await;
    }
    let first = worker.wait_for("deployment finished", |_| true);
    let second = worker.wait_for("deployment finished", |l| {
        l["message_id"] != first["message_id"]
    });
    for line in [&first, &second] {
        assert_eq!(line["outcome"], "rejected", "{line}");
        assert_eq!(line["disposition"], "LogAndDelete", "{line}");
        assert_eq!(
            line["body_sha256"].as_str().map(str::len),
            Some(64),
            "{line}"
        );
        assert!(line["body_bytes"].as_u64().is_some_and(|n| n > 0), "{line}");
    }
    assert!(
        [&first, &second].iter().any(|l| l["body_family"] == "web"),
        "the family, where it can be read"
    );
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(), Some(0));
    let log = worker.log_text();
    assert!(
        !log.contains(secret),
        "a body's content reached the log:\n{log}"
    );
    assert!(!log.contains("\"body\""), "{log}");
    bed.assert_queue_empty().await;
}
