//! The hostile suite: one test per rule of the admission policy. Each sends a message that tries what the
//! rule forbids and checks that it lands in the dead-letter queue with the rule named, that no revision
//! was registered, that the service is untouched, and that a good message afterwards still deploys. With
//! no setting given, everything under "The guard" in docs/security.md is refused.

mod common;

use common::{Bed, WorkerProcess, short, task_definition};
use ecs_deployment::decide::outcome::{Disposition, Outcome};
use serde_json::{Value, json};

/// One hostile message and what its refusal must say.
struct Hostile {
    /// The worker's settings besides the bed's.
    config: Vec<(&'static str, String)>,
    /// The message's attributes (`service` = `web` unless given).
    attributes: Vec<(&'static str, String)>,
    /// The body.
    body: Value,
    /// The rule that must refuse it.
    rule: &'static str,
    /// Words the rejection reason must have: the member or attribute, and the setting.
    says: Vec<&'static str>,
    /// The image of the good message sent afterwards.
    good_image: String,
}

impl Hostile {
    fn new(body: Value, rule: &'static str, says: &[&'static str]) -> Self {
        Self {
            config: Vec::new(),
            attributes: vec![("service", "web".into())],
            body,
            rule,
            says: says.to_vec(),
            good_image: "nginx:1.30".into(),
        }
    }

    fn with_config(mut self, config: &[(&'static str, &str)]) -> Self {
        self.config = config.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self
    }

    fn with_attributes(mut self, attributes: &[(&'static str, &str)]) -> Self {
        self.attributes = attributes
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect();
        self
    }
}

/// A body for service `web` (family `web`) with `change` merged into its one container.
fn container(change: Value) -> Value {
    let mut body = task_definition("web", "nginx:1.29", "healthy");
    if let (Some(container), Value::Object(change)) =
        (body["containerDefinitions"][0].as_object_mut(), change)
    {
        container.extend(change);
    }
    body
}

/// A body for service `web` with `change` merged into it.
fn changed(change: Value) -> Value {
    let mut body = task_definition("web", "nginx:1.29", "healthy");
    if let (Some(body), Value::Object(change)) = (body.as_object_mut(), change) {
        body.extend(change);
    }
    body
}

/// Runs the case on a fresh bed with service `web` (and `ecs-deployment` and `deployer`, for the worker
/// itself) and checks the refusal.
async fn refused(case: Hostile) {
    refused_as(case, None).await;
}

/// [`refused`], with the worker calling as the IAM role `role` when given.
async fn refused_as(case: Hostile, role: Option<&str>) {
    let bed = Bed::start(true).await;
    let web = bed.service("web", 1, (true, true)).await;
    bed.service("ecs-deployment", 1, (true, true)).await;
    bed.service("deployer", 1, (true, true)).await;
    let families = ["web", "api", "deployer", "ecs-deployment"];
    let revisions: Vec<usize> = families.iter().map(|f| bed.revisions(f)).collect();
    let config: Vec<(&str, &str)> = case.config.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config = bed.config(&config);
    let mut worker = match role {
        None => bed.start_worker(config),
        Some(role) => bed.start_worker_with_sts(config, bed.sts_as_role(role).await),
    };
    let attributes: Vec<(&str, &str)> = case
        .attributes
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let id = bed.send(&case.body.to_string(), &attributes).await;

    let report = worker.next_report().await;
    assert_eq!(report.message_id, id);
    let Outcome::Rejected { reason } = &report.outcome else {
        panic!("{}: not refused: {report:?}", case.rule);
    };
    assert_eq!(
        (report.disposition, report.settled),
        (Disposition::DeadLetter, true)
    );
    assert!(reason.starts_with("policy: "), "{reason}");
    for words in &case.says {
        assert!(
            reason.contains(words),
            "{}: {reason} should say {words}",
            case.rule
        );
    }
    let letter = bed.dead_letters(1).await.remove(0);
    let attributes = letter.message_attributes.unwrap_or_default();
    assert_eq!(
        attributes["rejection_reason"].string_value(),
        Some(reason.as_str()),
        "the dead letter carries the reason"
    );
    assert_eq!(letter.body.as_deref(), Some(case.body.to_string().as_str()));

    let after: Vec<usize> = families.iter().map(|f| bed.revisions(f)).collect();
    assert_eq!(after, revisions, "{}: no revision registered", case.rule);
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        0,
        "{}: no service touched",
        case.rule
    );
    assert_eq!(
        bed.bed.sim.calls("RegisterTaskDefinition"),
        3,
        "only the bed's own"
    );
    let service = bed.describe("web").await.expect("web");
    assert_eq!(service.task_definition(), Some(web.as_str()));
    assert_eq!(service.deployments().len(), 1);
    let line = format!(
        r#"ecs_deployment_policy_refusals_total{{rule="{}"}} 1"#,
        case.rule
    );
    assert!(worker.metrics.encode().contains(&line), "{line}");

    // A good message still deploys.
    bed.send_web(&case.good_image, "healthy").await;
    let good = worker.next_report().await;
    assert_eq!(good.outcome, Outcome::Deployed, "{good:?}");
    assert_eq!(
        good.new_task_definition.as_deref().map(short),
        Some("web:2")
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_task_role() {
    let body = changed(json!({"taskRoleArn": "arn:aws:iam::123456789012:role/admin"}));
    refused(Hostile::new(
        body,
        "task_role",
        &["taskRoleArn", "ALLOWED_TASK_ROLES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_execution_role() {
    let body = changed(json!({"executionRoleArn": "arn:aws:iam::123456789012:role/admin"}));
    refused(Hostile::new(
        body,
        "execution_role",
        &["executionRoleArn", "ALLOWED_EXECUTION_ROLES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_workers_own_role() {
    // Even where every task role is allowed.
    let body =
        changed(json!({"taskRoleArn": "arn:aws:iam::123456789012:role/ecs-deployment-worker"}));
    let case = Hostile::new(
        body,
        "own_role",
        &[
            "taskRoleArn",
            "the role the worker runs as",
            "no setting allows this",
        ],
    )
    .with_config(&[("ALLOWED_TASK_ROLES", "*")]);
    refused_as(case, Some("ecs-deployment-worker")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_privileged_container() {
    let body = container(json!({"privileged": true}));
    refused(Hostile::new(
        body,
        "privileged",
        &["containerDefinitions[0].privileged", "ALLOWED_PRIVILEGES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn host_networking() {
    let body = changed(json!({"networkMode": "host"}));
    refused(Hostile::new(
        body,
        "network_mode",
        &["networkMode", "ALLOWED_PRIVILEGES=network_mode"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hosts_process_namespace() {
    let body = changed(json!({"pidMode": "host"}));
    refused(Hostile::new(
        body,
        "pid_mode",
        &["pidMode", "ALLOWED_PRIVILEGES=pid_mode"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hosts_ipc_namespace() {
    let body = changed(json!({"ipcMode": "host"}));
    refused(Hostile::new(
        body,
        "ipc_mode",
        &["ipcMode", "ALLOWED_PRIVILEGES=ipc_mode"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_volume() {
    let body = changed(json!({"volumes": [{"name": "root", "host": {"sourcePath": "/"}}]}));
    refused(Hostile::new(
        body,
        "host_volumes",
        &["volumes[0].host.sourcePath", "ALLOWED_PRIVILEGES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_device() {
    let body = container(json!({"linuxParameters": {"devices": [{"hostPath": "/dev/mem"}]}}));
    refused(Hostile::new(
        body,
        "devices",
        &[
            "containerDefinitions[0].linuxParameters.devices",
            "ALLOWED_PRIVILEGES=devices",
        ],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_added_capability() {
    let body = container(json!({"linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}}}));
    refused(Hostile::new(
        body,
        "capabilities",
        &[
            "containerDefinitions[0].linuxParameters.capabilities.add",
            "ALLOWED_PRIVILEGES=capabilities",
        ],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_docker_security_option() {
    let body = container(json!({"dockerSecurityOptions": ["seccomp=unconfined"]}));
    refused(Hostile::new(
        body,
        "docker_security_options",
        &[
            "containerDefinitions[0].dockerSecurityOptions",
            "ALLOWED_PRIVILEGES=docker_security_options",
        ],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn new_registry_credentials() {
    let body = container(json!({"repositoryCredentials": {
        "credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-b/registry"}}));
    refused(Hostile::new(
        body,
        "repository_credentials",
        &[
            "repositoryCredentials.credentialsParameter",
            "ALLOWED_PRIVILEGES",
        ],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_teams_secret() {
    let body = container(json!({"secrets": [{"name": "DB",
        "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-b/db"}]}));
    refused(Hostile::new(
        body,
        "secrets",
        &["containerDefinitions[0].secrets", "ALLOWED_SECRETS"],
    ))
    .await;
}

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
