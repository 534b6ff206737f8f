//! Pre-flight checks against moto (ECR, IAM, SSM, Secrets Manager, CloudWatch Logs): a task definition
//! whose references all exist is deployed; each missing reference is rejected, naming the member, before
//! anything is registered; a check the worker may not run is skipped.

mod common;

use common::{Bed, WorkerProcess};
use ecs_deployment::decide::outcome::{Disposition, Outcome};
use serde_json::{Value, json};
use testbed::{ACCOUNT_ID, ecr_image, push_image};

/// What lets the policy pass these task definitions, registered into a new family with their roles,
/// secrets, log routing and images: the checks are the subject.
const POLICY: [(&str, &str); 7] = [
    ("ALLOW_REGISTER_ONLY", "web"),
    ("ALLOW_NEW_FAMILIES", "web"),
    ("ALLOWED_TASK_ROLES", "arn:aws:iam::123456789012:role/*"),
    (
        "ALLOWED_EXECUTION_ROLES",
        "arn:aws:iam::123456789012:role/*",
    ),
    ("ALLOWED_SECRETS", "**"),
    ("ALLOWED_PRIVILEGES", "logging"),
    ("ALLOWED_IMAGES", "**"),
];

const TRUST_ECS_TASKS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The worker's warning that a kind of check is skipped.
const SKIPPED: &str = "a pre-flight check cannot run: it is skipped, and not warned of again until the worker restarts";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}")
}

/// Creates in moto everything [`task_definition`] refers to; gives the secret's ARN.
async fn create_references(bed: &Bed) -> String {
    let moto = bed.bed.moto.endpoint();
    push_image(&testbed::ecr_client(&moto), "app", "1.4.2", "app build").await;
    let iam = testbed::iam_client(&moto);
    for (name, trust) in [
        ("web-task", TRUST_ECS_TASKS),
        ("web-execution", TRUST_ECS_TASKS),
        ("ec2-only", TRUST_EC2),
    ] {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("create role");
    }
    testbed::ssm_client(&moto)
        .put_parameter()
        .name("/web/db")
        .value("postgres://db")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("put parameter");
    testbed::logs_client(&moto)
        .create_log_group()
        .log_group_name("/ecs/web")
        .send()
        .await
        .expect("create log group");
    testbed::secrets_client(&moto)
        .create_secret()
        .name("web/jwt")
        .secret_string(r#"{"key":"s3cret"}"#)
        .send()
        .await
        .expect("create secret")
        .arn()
        .expect("the secret's ARN")
        .to_owned()
}

/// A task definition of family web referring to roles, an ECR image, a parameter, a secret (one key of
/// it) and a log group.
fn task_definition(secret_arn: &str) -> Value {
    json!({
        "family": "web",
        "taskRoleArn": role("web-task"),
        "executionRoleArn": role("web-execution"),
        "containerDefinitions": [{
            "name": "app",
            "image": ecr_image("app", "1.4.2"),
            "essential": true,
            "secrets": [
                {"name": "DB", "valueFrom": "/web/db"},
                {"name": "JWT", "valueFrom": format!("{secret_arn}:key::")}
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}
            }
        }]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_definition_whose_references_all_exist_passes() {
    let bed = Bed::start(true).await;
    let secret = create_references(&bed).await;
    let mut worker = bed.start_worker(bed.config(&POLICY));
    bed.send(
        &task_definition(&secret).to_string(),
        &[("service", "false")],
    )
    .await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Registered, "{report:?}");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_missing_reference_is_rejected_naming_its_member_and_nothing_is_registered() {
    let bed = Bed::start(true).await;
    let secret = create_references(&bed).await;
    let good = task_definition(&secret);
    let mut worker = bed.start_worker(bed.config(&POLICY));
    let container = "containerDefinitions[0]";
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "an image tag never pushed",
            json!({"image": ecr_image("app", "never-pushed")}),
            format!(
                "{container}.image {}: tag never-pushed is not in ECR repository app",
                ecr_image("app", "never-pushed")
            ),
        ),
        (
            "an image repository that does not exist",
            json!({"image": ecr_image("nope", "1")}),
            format!(
                "{}: tag 1 is not in ECR repository nope",
                ecr_image("nope", "1")
            ),
        ),
        (
            "a parameter with a typo",
            json!({"secrets": [{"name": "DB", "valueFrom": "/web/dbb"}]}),
            format!("{container}.secrets[0].valueFrom: SSM parameter /web/dbb does not exist"),
        ),
        (
            "a secret that does not exist",
            json!({"secrets": [{"name": "JWT", "valueFrom": format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:web/nope-AbCdEf:key::")}]}),
            format!(
                "{container}.secrets[0].valueFrom: secret arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:web/nope-AbCdEf does not exist"
            ),
        ),
        (
            "a log group that does not exist",
            json!({"logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/webb", "awslogs-region": "us-east-1"}}}),
            format!(
                "{container}.logConfiguration.options.awslogs-group: log group /ecs/webb does not exist"
            ),
        ),
    ];
    for (what, container_change, says) in &cases {
        let mut body = good.clone();
        if let (Some(target), Some(change)) = (
            body["containerDefinitions"][0].as_object_mut(),
            container_change.as_object(),
        ) {
            for (k, v) in change {
                target.insert(k.clone(), v.clone());
            }
        }
        bed.send(&body.to_string(), &[("service", "false")]).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("{what}: {report:?}");
        };
        assert!(reason.contains(says), "{what}: {reason}");
        assert!(
            reason.contains("VERIFY=off"),
            "{what}: says how to allow it: {reason}"
        );
        assert_eq!(report.disposition, Disposition::DeadLetter, "{what}");
    }
    // The roles: one that does not exist, one that does not trust ECS tasks.
    for (role_name, says) in [
        (
            "web-missing",
            "executionRoleArn: role web-missing does not exist",
        ),
        (
            "ec2-only",
            "executionRoleArn: role ec2-only does not trust ecs-tasks.amazonaws.com",
        ),
    ] {
        let mut body = good.clone();
        body["executionRoleArn"] = json!(role(role_name));
        bed.send(&body.to_string(), &[("service", "false")]).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("{role_name}: {report:?}");
        };
        assert!(reason.contains(says), "{role_name}: {reason}");
    }
    assert_eq!(bed.revisions("web"), 0, "nothing registered");
    // awslogs-create-group needs no log group.
    let mut body = good.clone();
    body["containerDefinitions"][0]["logConfiguration"]["options"] =
        json!({"awslogs-group": "/ecs/new", "awslogs-create-group": "true"});
    bed.send(&body.to_string(), &[("service", "false")]).await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Registered);
    // VERIFY=off deploys without the checks.
    worker.stop().await;
    let mut verify_off = POLICY.to_vec();
    verify_off.push(("VERIFY", "off"));
    let mut worker = bed.start_worker(bed.config(&verify_off));
    let mut body = good.clone();
    body["containerDefinitions"][0]["image"] = json!(ecr_image("app", "never-pushed"));
    bed.send(&body.to_string(), &[("service", "false")]).await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Registered);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn checks_the_worker_may_not_run_are_skipped_with_one_warning_per_kind() {
    let bed = Bed::start(true).await;
    let denied = common::denying_endpoint().await;
    // Every check's service answers AccessDenied; nothing they would look up exists anyway.
    let mut overrides: Vec<(&str, &str)> = POLICY.to_vec();
    for variable in [
        "AWS_ENDPOINT_URL_ECR",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_SSM",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    ] {
        overrides.push((variable, denied.url.as_str()));
    }
    let mut worker = WorkerProcess::start(&bed, &overrides);
    let secret = format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:web/jwt-AbCdEf");
    let mut from_docker_hub = task_definition(&secret);
    from_docker_hub["containerDefinitions"][0]["image"] = json!("nginx:1.27");
    for body in [
        task_definition(&secret),
        from_docker_hub.clone(),
        task_definition(&secret),
        from_docker_hub,
    ] {
        let id = bed.send(&body.to_string(), &[("service", "false")]).await;
        let finished = worker.wait_for("deployment finished", |l| l["message_id"] == id.as_str());
        assert_eq!(finished["outcome"], "registered", "{}", worker.log_text());
    }
    let warnings = worker.lines_with(SKIPPED);
    let mut checks: Vec<String> = warnings
        .iter()
        .filter_map(|l| l["check"].as_str().map(str::to_owned))
        .collect();
    checks.sort();
    assert_eq!(
        checks,
        [
            "ecr:DescribeImages",
            "iam:GetRole",
            "logs:DescribeLogGroups",
            "none: only ECR images are looked up",
            "secretsmanager:DescribeSecret",
            "ssm:GetParameters"
        ],
        "one warning per kind over four deployments"
    );
    for warning in &warnings {
        let reason = warning["reason"].as_str().unwrap_or_default();
        let expected = if warning["check"] == "none: only ECR images are looked up" {
            "not in a private ECR registry"
        } else {
            "AccessDenied"
        };
        assert!(reason.contains(expected), "{warning}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_online_runs_the_same_checks_from_the_command_line() {
    let bed = Bed::start(false).await;
    let secret = create_references(&bed).await;
    let dir = std::env::temp_dir().join(format!("preflight-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let good = dir.join("good.json");
    std::fs::write(&good, task_definition(&secret).to_string()).expect("write");
    let run = bed
        .cli(&["validate", "--online", &good.to_string_lossy()], None)
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("6 references checked"), "{run:?}");
    assert_eq!(run.stderr.matches("checked: ").count(), 6, "{run:?}");

    let mut body = task_definition(&secret);
    body["containerDefinitions"][0]["image"] = json!(ecr_image("app", "never-pushed"));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, body.to_string()).expect("write");
    let run = bed
        .cli(&["validate", "--online", &bad.to_string_lossy()], None)
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("refused: pre-flight check: containerDefinitions[0].image"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("missing: containerDefinitions[0].image"),
        "{run:?}"
    );
    // Offline, as before: the body alone.
    let run = bed.cli(&["validate", &bad.to_string_lossy()], None).await;
    assert_eq!(run.code, 0, "{run:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn lookups_are_bounded_in_flight_and_paced_whatever_a_task_definition_names() {
    let bed = Bed::start(true).await;
    let ssm = testbed::ssm_client(&bed.bed.moto.endpoint());
    let mut secrets = Vec::new();
    for i in 0..12 {
        let name = format!("/web/key-{i}");
        ssm.put_parameter()
            .name(&name)
            .value("v")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .expect("put parameter");
        secrets.push(json!({"name": format!("KEY_{i}"), "valueFrom": name}));
    }
    // Every lookup takes 300 ms at the other end: unbounded, all twelve would be in flight at once.
    let proxy = common::Proxy::start(&bed.bed.moto.endpoint()).await;
    proxy.hold(common::Hold::Every(std::time::Duration::from_millis(300)));
    let mut worker = bed.start_worker_with_lookups_through(bed.config(&POLICY), &proxy);
    let body = json!({"family": "web", "containerDefinitions": [{
        "name": "app", "image": "nginx:1.29", "essential": true, "secrets": secrets}]});
    bed.send(&body.to_string(), &[("service", "false")]).await;

    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Registered, "{report:?}");
    assert_eq!(proxy.calls("GetParameters").len(), 12, "one lookup each");
    let most = proxy.most_in_flight();
    assert!(
        (2..=4).contains(&most),
        "at most 4 lookups in flight, and more than one: {most}"
    );
    // Started at most 10 a second (with slack for the timer and the network).
    let arrivals = proxy.arrivals();
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= std::time::Duration::from_millis(80),
            "lookups started {gap:?} apart"
        );
    }
    worker.stop().await;
}
