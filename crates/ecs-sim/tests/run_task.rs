//! RunTask: standalone tasks with command overrides that exit with a code, `startedBy`, groups, tags, and
//! a client token that makes a retry start nothing more.

mod common;

use common::Stepped;
use serde_json::{Value, json};

/// Registers `svc` with an essential `app` container and a non-essential `sidecar`; gives its ARN.
fn two_containers(bed: &Stepped) -> String {
    let registered = bed.sim.call(
        "RegisterTaskDefinition",
        &json!({"family": "svc", "containerDefinitions": [
            {"name": "app", "image": "app:1"},
            {"name": "sidecar", "image": "sidecar:1", "essential": false}
        ]}),
    );
    registered["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The task as DescribeTasks gives it.
fn described(bed: &Stepped, arn: &str) -> Value {
    bed.sim.call("DescribeTasks", &json!({"tasks": [arn]}))["tasks"][0].clone()
}

/// Steps simulated time until the task stopped (at most `limit` seconds); gives it.
fn stopped(bed: &Stepped, arn: &str, limit: u64) -> Value {
    for _ in 0..limit {
        let task = described(bed, arn);
        if task["lastStatus"] == "STOPPED" {
            return task;
        }
        bed.sim.advance(1);
    }
    panic!("not stopped within {limit} s: {}", described(bed, arn));
}

#[tokio::test]
async fn a_command_override_exits_with_its_code_and_stops_the_task() {
    let bed = Stepped::start().await;
    let arn = two_containers(&bed);
    let run = bed.sim.call(
        "RunTask",
        &json!({
            "taskDefinition": "svc",
            "startedBy": "ecs-deployment/m-1",
            "overrides": {"containerOverrides": [
                {"name": "app", "command": ["ecs-sim-exit", "3", "5"]}
            ]},
            "tags": [{"key": "team", "value": "a"}]
        }),
    );
    assert_eq!(run["failures"], json!([]));
    let task = &run["tasks"][0];
    let task_arn = task["taskArn"].as_str().unwrap_or_default().to_owned();
    assert_eq!(task["taskDefinitionArn"], arn.as_str());
    assert_eq!(task["group"], "family:svc", "the family's group by default");
    assert_eq!(task["startedBy"], "ecs-deployment/m-1");
    assert_eq!(task["tags"][0]["key"], "team");
    assert_eq!(
        task["overrides"]["containerOverrides"][0]["command"][0],
        "ecs-sim-exit"
    );

    let running = bed
        .sim
        .call("ListTasks", &json!({"startedBy": "ecs-deployment/m-1"}));
    assert_eq!(running["taskArns"], json!([task_arn]));

    let task = stopped(&bed, &task_arn, 60);
    assert_eq!(task["stopCode"], "EssentialContainerExited");
    assert_eq!(task["stoppedReason"], "Essential container in task exited");
    let exit = |name: &str| {
        task["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == name)
            .map(|c| c["exitCode"].clone())
    };
    assert_eq!(exit("app"), Some(json!(3)));
    assert!(
        exit("sidecar").is_some_and(|code| code.is_i64()),
        "the other containers are stopped with it: {task}"
    );
    let stopped_ones = bed.sim.call(
        "ListTasks",
        &json!({"startedBy": "ecs-deployment/m-1", "desiredStatus": "STOPPED"}),
    );
    assert_eq!(stopped_ones["taskArns"], json!([task_arn]));
}

#[tokio::test]
async fn a_retry_with_the_same_client_token_starts_nothing_more() {
    let bed = Stepped::start().await;
    two_containers(&bed);
    let request = json!({
        "taskDefinition": "svc:1",
        "clientToken": "m-1-before",
        "group": "migrations:svc",
        "overrides": {"containerOverrides": [{"name": "app", "command": ["ecs-sim-exit", "0"]}]}
    });
    let first = bed.sim.call("RunTask", &request);
    let again = bed.sim.call("RunTask", &request);
    assert_eq!(first["tasks"][0]["taskArn"], again["tasks"][0]["taskArn"]);
    assert_eq!(first["tasks"][0]["group"], "migrations:svc");
    let listed = bed.sim.call("ListTasks", &json!({"family": "svc"}));
    assert_eq!(listed["taskArns"].as_array().map(Vec::len), Some(1));
    // In another cluster the same token is another request.
    bed.sim
        .call("CreateCluster", &json!({"clusterName": "other"}));
    let elsewhere = bed.sim.call(
        "RunTask",
        &json!({"cluster": "other", "taskDefinition": "svc:1", "clientToken": "m-1-before"}),
    );
    assert_ne!(
        elsewhere["tasks"][0]["taskArn"],
        first["tasks"][0]["taskArn"]
    );
    let arn = first["tasks"][0]["taskArn"].as_str().unwrap_or_default();
    let task = stopped(&bed, arn, 60);
    assert_eq!(task["containers"][0]["exitCode"], 0);
}

#[tokio::test]
async fn run_task_refuses_what_ecs_refuses() {
    let bed = Stepped::start().await;
    two_containers(&bed);
    for (request, says) in [
        (json!({"taskDefinition": "svc", "count": 11}), "count"),
        (
            json!({"taskDefinition": "svc", "clientToken": "x".repeat(65)}),
            "clientToken",
        ),
        (
            json!({"taskDefinition": "svc", "startedBy": "has spaces"}),
            "startedBy",
        ),
        (
            json!({"taskDefinition": "svc", "overrides": {"containerOverrides": [{"name": "ghost"}]}}),
            "ghost",
        ),
        (
            json!({"taskDefinition": "svc", "overrides": {"containerOverrides": [
                {"name": "app", "command": ["ecs-sim-exit", "three"]}
            ]}}),
            "ecs-sim-exit",
        ),
    ] {
        let err = bed.sim.try_call("RunTask", &request).expect_err(says);
        assert_eq!(err["__type"], "InvalidParameterException", "{err}");
        assert!(err.to_string().contains(says), "{err} should say {says}");
    }
    let err = bed
        .sim
        .try_call("RunTask", &json!({"taskDefinition": "nothing"}))
        .expect_err("no such family");
    assert_eq!(err["__type"], "ClientException", "{err}");
    assert_eq!(
        bed.sim.call("ListTasks", &json!({}))["taskArns"],
        json!([]),
        "nothing started"
    );
}

#[tokio::test]
async fn stop_task_stops_a_task_with_the_caller_s_reason() {
    let bed = Stepped::start().await;
    two_containers(&bed);
    let run = bed.sim.call(
        "RunTask",
        &json!({"taskDefinition": "svc", "startedBy": "ecs-deployment/before/svc"}),
    );
    let arn = run["tasks"][0]["taskArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let stopping = bed.sim.call(
        "StopTask",
        &json!({"task": arn, "reason": "another task of the lock started first"}),
    );
    assert_eq!(stopping["task"]["desiredStatus"], "STOPPED");
    let task = stopped(&bed, &arn, 60);
    assert_eq!(task["stopCode"], "UserInitiated");
    assert_eq!(
        task["stoppedReason"],
        "another task of the lock started first"
    );
    let err = bed
        .sim
        .try_call("StopTask", &json!({"task": "0000"}))
        .expect_err("no such task");
    assert_eq!(err["__type"], "InvalidParameterException", "{err}");
}

#[tokio::test]
async fn a_standalone_task_resolves_its_own_ecr_images() {
    let bed = Stepped::start().await;
    let moto = testbed::Moto::start();
    let ecr = testbed::ecr_client(&moto.endpoint());
    let digest = testbed::push_image(&ecr, "web", "prod", "one").await;
    bed.sim.use_ecr(&moto.endpoint());
    bed.sim.call(
        "RegisterTaskDefinition",
        &json!({"family": "svc", "containerDefinitions": [
            {"name": "app", "image": testbed::ecr_image("web", "prod")}
        ]}),
    );
    let run = bed.sim.call(
        "RunTask",
        &json!({"taskDefinition": "svc", "overrides": {"containerOverrides": [
            {"name": "app", "command": ["ecs-sim-exit", "0"]}
        ]}}),
    );
    let arn = run["tasks"][0]["taskArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let task = stopped(&bed, &arn, 60);
    assert_eq!(
        task["containers"][0]["imageDigest"],
        digest.as_str(),
        "{task}"
    );
    assert_eq!(task["containers"][0]["exitCode"], 0);
}
