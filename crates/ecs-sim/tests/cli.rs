//! ecs-sim driven by the real `aws` CLI (from `.venv/`), as an operator or the old deploy script would.

use std::time::Duration;

use serde_json::{Value, json};
use testbed::{Sim, aws_cli, aws_json, wait_until_blocking};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/every-member-task-definition.json"
);

fn service(endpoint: &str, name: &str) -> Value {
    aws_json(endpoint, &["ecs", "describe-services", "--services", name])["services"][0].clone()
}

fn completed_on(service: &Value, task_definition: &str) -> bool {
    let deployments = service["deployments"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    deployments.len() == 1
        && deployments[0]["taskDefinition"] == task_definition
        && deployments[0]["rolloutState"] == "COMPLETED"
        && service["runningCount"] == service["desiredCount"]
}

#[test]
fn the_aws_cli_drives_a_full_rollout() {
    let sim = Sim::start(Some(Duration::from_millis(20)));
    let ecs = sim.endpoint();
    aws_json(
        &ecs,
        &["ecs", "create-cluster", "--cluster-name", "default"],
    );
    let containers = |image: &str| {
        json!([{"name": "web", "image": image, "essential": true,
                "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5}}])
        .to_string()
    };
    let register = |image: &str| {
        aws_json(
            &ecs,
            &[
                "ecs",
                "register-task-definition",
                "--family",
                "web",
                "--container-definitions",
                &containers(image),
            ],
        )["taskDefinition"]["taskDefinitionArn"]
            .as_str()
            .map(str::to_owned)
            .expect("registered ARN")
    };
    let v1 = register("nginx:1.27");
    let created = aws_json(
        &ecs,
        &[
            "ecs",
            "create-service",
            "--service-name",
            "web",
            "--task-definition",
            "web:1",
            "--desired-count",
            "3",
            "--deployment-configuration",
            "maximumPercent=200,minimumHealthyPercent=100,deploymentCircuitBreaker={enable=true,rollback=true}",
        ],
    );
    assert_eq!(
        created["service"]["deployments"][0]["rolloutState"],
        "IN_PROGRESS"
    );
    wait_until_blocking(
        "the first deployment to complete",
        Duration::from_secs(60),
        || completed_on(&service(&ecs, "web"), &v1).then_some(()),
    );

    let v2 = register("nginx:1.28");
    let updated = aws_json(
        &ecs,
        &[
            "ecs",
            "update-service",
            "--service",
            "web",
            "--task-definition",
            "web:2",
        ],
    );
    let deployments = &updated["service"]["deployments"];
    assert_eq!(deployments[0]["status"], "PRIMARY");
    assert_eq!(deployments[0]["taskDefinition"], v2.as_str());
    assert_eq!(deployments[0]["rolloutState"], "IN_PROGRESS");
    assert_eq!(deployments[1]["status"], "ACTIVE");
    assert_eq!(deployments[1]["taskDefinition"], v1.as_str());

    let done = wait_until_blocking(
        "the rollout to web:2 to complete",
        Duration::from_secs(60),
        || {
            let s = service(&ecs, "web");
            completed_on(&s, &v2).then_some(s)
        },
    );
    assert_eq!(done["taskDefinition"], v2.as_str());
    let events: Vec<&str> = done["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["message"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(events[0], "(service web) has reached a steady state.");

    let arns = aws_json(&ecs, &["ecs", "list-tasks", "--service-name", "web"])["taskArns"].clone();
    let arns: Vec<&str> = arns
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(arns.len(), 3);
    let mut args = vec!["ecs", "describe-tasks", "--tasks"];
    args.extend(arns.iter().copied());
    let tasks = aws_json(&ecs, &args)["tasks"].clone();
    for task in tasks.as_array().into_iter().flatten() {
        assert_eq!(task["taskDefinitionArn"], v2.as_str());
        assert_eq!(task["lastStatus"], "RUNNING");
        assert_eq!(task["healthStatus"], "HEALTHY");
        assert_eq!(task["containers"][0]["image"], "nginx:1.28");
    }
}

/// The fixture, checked to use every member of RegisterTaskDefinition that ecs-sim's model knows.
fn every_member_fixture() -> Value {
    let text = std::fs::read_to_string(FIXTURE).expect("read the fixture");
    let fixture: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let missing = ecs_model::model().missing_members("RegisterTaskDefinition", &fixture);
    assert!(
        missing.is_empty(),
        "the fixture leaves out members ECS knows: {missing:?}"
    );
    fixture
}

/// Every member given at registration comes back from DescribeTaskDefinition unchanged, plus exactly the
/// read-only members ECS adds.
fn assert_round_trip(registered: &Value, described: &Value) {
    let definition = described["taskDefinition"]
        .as_object()
        .expect("task definition");
    for (member, value) in registered.as_object().expect("registered object") {
        if member == "tags" {
            assert_eq!(&described["tags"], value, "tags");
        } else {
            assert_eq!(
                definition.get(member),
                Some(value),
                "member {member} changed on the way"
            );
        }
    }
    let added: Vec<&String> = definition
        .keys()
        .filter(|k| registered.get(k.as_str()).is_none())
        .collect();
    assert_eq!(
        added,
        [
            "taskDefinitionArn",
            "revision",
            "status",
            "requiresAttributes",
            "compatibilities",
            "registeredAt",
            "registeredBy",
        ]
    );
    assert_eq!(definition["revision"], 1);
    assert_eq!(definition["status"], "ACTIVE");
    assert_eq!(definition["compatibilities"], json!(["EC2", "FARGATE"]));
}

#[test]
fn a_task_definition_using_every_member_round_trips_exactly_over_the_wire() {
    let fixture = every_member_fixture();
    let sim = Sim::start(None);
    let call = |operation: &str, body: &Value| sim.call(operation, body);
    let registered = call("RegisterTaskDefinition", &fixture);
    let arn = registered["taskDefinition"]["taskDefinitionArn"].clone();
    let described = call(
        "DescribeTaskDefinition",
        &json!({"taskDefinition": arn, "include": ["TAGS"]}),
    );
    assert_round_trip(&fixture, &described);
}

/// Keeps only the members the `aws` CLI's own model knows, by its input skeleton: awscli v1 ships a
/// botocore of its own that can be older than the model ecs-sim is built from.
fn known_to(skeleton: &Value, value: &Value) -> Value {
    match (skeleton, value) {
        (Value::Object(skel), Value::Object(object)) if !skel.contains_key("KeyName") => {
            Value::Object(
                object
                    .iter()
                    .filter_map(|(k, v)| skel.get(k).map(|s| (k.clone(), known_to(s, v))))
                    .collect(),
            )
        }
        (Value::Array(skel), Value::Array(items)) if !skel.is_empty() => {
            Value::Array(items.iter().map(|item| known_to(&skel[0], item)).collect())
        }
        _ => value.clone(),
    }
}

#[test]
fn a_task_definition_using_every_member_the_cli_knows_round_trips_through_the_aws_cli() {
    let skeleton = aws_json(
        "http://127.0.0.1:9",
        &[
            "ecs",
            "register-task-definition",
            "--generate-cli-skeleton",
            "input",
        ],
    );
    let input = known_to(&skeleton, &every_member_fixture());
    let path = std::env::temp_dir().join(format!("every-member-{}.json", std::process::id()));
    std::fs::write(&path, input.to_string()).expect("write the CLI input");

    let sim = Sim::start(None);
    let ecs = sim.endpoint();
    let registered = aws_json(
        &ecs,
        &[
            "ecs",
            "register-task-definition",
            "--cli-input-json",
            &format!("file://{}", path.display()),
        ],
    );
    let _ = std::fs::remove_file(&path);
    let arn = registered["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .expect("ARN")
        .to_owned();
    let described = aws_json(
        &ecs,
        &[
            "ecs",
            "describe-task-definition",
            "--task-definition",
            &arn,
            "--include",
            "TAGS",
        ],
    );
    assert_round_trip(&input, &described);
}

#[test]
fn the_aws_cli_reports_ecs_errors_and_exits_non_zero() {
    let sim = Sim::start(None);
    let update_ghost = || {
        let output = aws_cli()
            .args(["--endpoint-url", &sim.endpoint(), "ecs", "update-service"])
            .args(["--service", "ghost", "--desired-count", "1"])
            .output()
            .expect("run the aws CLI");
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = update_ghost();
    assert!(stderr.contains("ClusterNotFoundException"), "{stderr}");
    aws_json(&sim.endpoint(), &["ecs", "create-cluster"]);
    let stderr = update_ghost();
    assert!(stderr.contains("ServiceNotFoundException"), "{stderr}");
}
