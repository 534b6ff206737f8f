//! iam-policy.json allows exactly the AWS operations the worker's source calls, each on the resources it needs.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::files::json;
use serde_json::Value;

/// The worker's source files: every `.rs` file under `src/` but the subcommands in `src/cli/` and files
/// that hold only tests (`tests.rs`, `fixtures.rs`).
fn worker_sources(src: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a source folder") {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                if path != src.join("cli") {
                    folders.push(path);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" && name != "fixtures.rs" {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The AWS operations the worker's source calls (the producer subcommands in `src/cli/` excluded), as
/// IAM actions.
fn actions_the_worker_calls() -> BTreeSet<String> {
    const SQS: [&str; 8] = [
        "receive_message",
        "delete_message",
        "delete_message_batch",
        "change_message_visibility",
        "change_message_visibility_batch",
        "get_queue_attributes",
        "get_queue_url",
        "send_message",
    ];
    const SNS: [&str; 2] = ["publish", "publish_batch"];
    // The pre-flight checks' and the digest check's read-only calls, by service.
    const READS: [(&str, &str); 7] = [
        ("batch_get_image", "ecr:BatchGetImage"),
        ("describe_images", "ecr:DescribeImages"),
        ("get_role", "iam:GetRole"),
        ("get_parameters", "ssm:GetParameters"),
        ("describe_secret", "secretsmanager:DescribeSecret"),
        ("describe_log_groups", "logs:DescribeLogGroups"),
        ("get_log_events", "logs:GetLogEvents"),
    ];
    // STS's GetCallerIdentity needs no permission: no policy can deny it.
    const NO_PERMISSION: [&str; 1] = ["get_caller_identity"];
    let mut actions = BTreeSet::new();
    let src = testbed::workspace_root().join("src");
    let mut calls = 0;
    for path in worker_sources(&src) {
        let text = std::fs::read_to_string(&path).expect("a source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        // An SDK call is `client` then `.operation(` (possibly on the next line).
        let compact: String = code.split_whitespace().collect();
        for (at, _) in compact.match_indices("client.") {
            let rest = &compact[at + "client.".len()..];
            let method: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !rest[method.len()..].starts_with('(') || method.is_empty() || method == "clone" {
                continue;
            }
            if NO_PERMISSION.contains(&method.as_str()) {
                calls += 1;
                continue;
            }
            let operation: String = method
                .split('_')
                .map(|w| {
                    let mut chars = w.chars();
                    chars
                        .next()
                        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                })
                .collect();
            let action = if SQS.contains(&method.as_str()) {
                format!("sqs:{}", operation.trim_end_matches("Batch"))
            } else if SNS.contains(&method.as_str()) {
                format!("sns:{}", operation.trim_end_matches("Batch"))
            } else if let Some((_, action)) = READS.iter().find(|(m, _)| *m == method) {
                (*action).to_owned()
            } else if ecs_model::model().has_operation(&operation) {
                format!("ecs:{operation}")
            } else {
                panic!(
                    "{}: `client.{method}(` is no known SQS, SNS, ECS or read-only check operation",
                    path.display()
                );
            };
            calls += 1;
            actions.insert(action);
        }
    }
    assert!(
        calls >= 15,
        "the scan found only {calls} SDK calls: {actions:?}"
    );
    // Registering a task definition with a task or execution role passes that role to ECS.
    if actions.contains("ecs:RegisterTaskDefinition") {
        actions.insert("iam:PassRole".to_owned());
    }
    actions
}

#[test]
fn the_iam_policy_allows_what_the_worker_calls_and_nothing_else() {
    let policy = json("iam-policy.json");
    assert_eq!(policy["Version"], "2012-10-17");
    let statements = policy["Statement"].as_array().expect("statements");
    let actions_of = |s: &Value| -> Vec<String> {
        match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(all) => all
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            other => panic!("Action {other}"),
        }
    };
    let mut allowed = BTreeSet::new();
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        for action in actions_of(statement) {
            assert!(!action.contains('*'), "no wildcard actions: {action}");
            allowed.insert(action);
        }
    }
    let called = actions_the_worker_calls();
    let missing: Vec<&String> = called.difference(&allowed).collect();
    let unused: Vec<&String> = allowed.difference(&called).collect();
    assert!(
        missing.is_empty(),
        "the worker calls these, the policy does not allow them: {missing:?}"
    );
    assert!(
        unused.is_empty(),
        "the policy allows these, the worker never calls them: {unused:?}"
    );

    // Narrowed where AWS allows it.
    let statement_of = |action: &str| {
        statements
            .iter()
            .find(|s| actions_of(s).iter().any(|a| a == action))
            .unwrap_or_else(|| panic!("no statement allows {action}"))
    };
    let resources = |statement: &Value| -> Vec<String> {
        match &statement["Resource"] {
            Value::String(r) => vec![r.clone()],
            Value::Array(all) => all
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect(),
            other => panic!("Resource {other}"),
        }
    };
    let pass_role = statement_of("iam:PassRole");
    assert_eq!(
        pass_role["Condition"]["StringEquals"]["iam:PassedToService"],
        "ecs-tasks.amazonaws.com"
    );
    for role in resources(pass_role) {
        assert!(
            !role.contains('*'),
            "iam:PassRole only for named roles: {role}"
        );
    }
    let describe = resources(statement_of("ecs:DescribeServices"));
    assert!(
        describe.iter().all(|r| r.contains(":service/")),
        "{describe:?}"
    );
    for service in resources(statement_of("ecs:UpdateService")) {
        assert!(
            service.contains(":service/") && !service.ends_with("/*"),
            "ecs:UpdateService only on the allowed services, not the whole cluster: {service}"
        );
    }
    for deployment in resources(statement_of("ecs:StopServiceDeployment")) {
        assert!(
            deployment.contains(":service-deployment/default/")
                && !deployment.ends_with("default/*"),
            "ecs:StopServiceDeployment only on the allowed services' deployments: {deployment}"
        );
    }
    let register = statement_of("ecs:RegisterTaskDefinition");
    for family in resources(register) {
        assert!(family.contains(":task-definition/"), "{family}");
    }
    assert_eq!(
        register["Condition"]["StringEqualsIfExists"]["ecs:privileged"], "false",
        "no privileged revision, whatever the worker is told"
    );
    assert!(
        resources(statement_of("ecs:DescribeTasks"))
            .iter()
            .all(|r| r.contains(":task/")),
        "ecs:DescribeTasks only on the cluster's tasks"
    );
    assert!(
        statement_of("ecs:ListTasks")["Condition"]["ArnEquals"]["ecs:cluster"].is_string(),
        "ecs:ListTasks only in the cluster"
    );
    for action in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:SendMessage",
        "sns:Publish",
        "ecs:TagResource",
        "ecs:UntagResource",
    ] {
        for statement in statements
            .iter()
            .filter(|s| actions_of(s).iter().any(|a| a == action))
        {
            assert_ne!(
                statement["Resource"], "*",
                "{action} on named resources only"
            );
        }
    }
}
