//! iam-policy.json and the example policy as parliament and a team's own rules read them.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::files::{config, json_value};
use serde_json::Value;

/// Findings of parliament accepted, each with its reason from the Service Authorization Reference:
/// (issue, the actions it names, why it stays).
const ACCEPTED_FINDINGS: [(&str, &str, &str); 2] = [
    (
        "RESOURCE_STAR",
        "ecs:ListTasks",
        "ListTasks's only resource type is container-instance, which listing a service's tasks does not \
         name; the statement is limited to the cluster by the ecs:cluster condition key instead (Service \
         Authorization Reference, Amazon Elastic Container Service, ListTasks)",
    ),
    (
        "UNKNOWN_ACTION",
        "ecs:StopServiceDeployment",
        "parliament's action database predates StopServiceDeployment, which the Service Authorization \
         Reference lists for Amazon Elastic Container Service on the service-deployment resource type",
    ),
];

#[test]
fn parliament_finds_nothing_in_the_iam_policy_but_what_is_accepted_with_its_reason() {
    // parliament reads a policy from standard input whenever it is not a terminal.
    let policy = std::fs::File::open(testbed::workspace_root().join("iam-policy.json"))
        .expect("iam-policy.json");
    let out = Command::new(testbed::venv_bin("parliament"))
        .arg("--json")
        .stdin(policy)
        .output()
        .expect("run parliament (make setup installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let findings: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a finding ({e}): {l}\n{stderr}"))
        })
        .collect();
    assert!(
        out.status.success() || !findings.is_empty(),
        "parliament failed: {stderr}"
    );
    let mut accepted = Vec::new();
    for finding in &findings {
        let issue = finding["issue"].as_str().unwrap_or_default();
        // Most findings list their actions in `detail`; an unknown action is named in `location`.
        let actions: Vec<&str> = match &finding["detail"] {
            Value::Array(d) => d.iter().filter_map(Value::as_str).collect(),
            _ => finding["location"]["string"].as_str().into_iter().collect(),
        };
        let reason = ACCEPTED_FINDINGS
            .iter()
            .find(|(i, action, _)| *i == issue && actions == [*action])
            .map(|(_, _, reason)| reason);
        assert!(
            reason.is_some(),
            "a finding to fix or accept with its reason: {finding}"
        );
        accepted.push((issue, actions));
    }
    assert_eq!(
        accepted.len(),
        ACCEPTED_FINDINGS.len(),
        "an accepted finding no longer reported: drop it from ACCEPTED_FINDINGS ({findings:?})"
    );
}

#[test]
fn the_example_policy_lets_team_a_deploy_only_what_is_its_own() {
    use ecs_deployment::decide::guard::{Case, judge};
    use ecs_deployment::decide::message::parse;
    use ecs_deployment::decide::policy::{Identity, Privilege};

    let path = testbed::workspace_root().join("deploy/policy.example.toml");
    let config = config([
        (
            "SQS_URL".to_owned(),
            "https://sqs.eu-west-1.amazonaws.com/123456789012/deployments".to_owned(),
        ),
        ("POLICY_FILE".to_owned(), path.display().to_string()),
    ]);
    let policy = &config.policy;
    assert!(policy.register_only.is_empty() && policy.new_families.is_empty());
    assert!(
        policy
            .rules_for("team-a-media-transcode")
            .privileges
            .contains(&Privilege::Devices)
    );
    assert!(policy.rules_for("team-a-web").privileges.is_empty());

    let digest = "a".repeat(64);
    let ours = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web@sha256:{digest}");
    let theirs = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-b/web@sha256:{digest}");
    let current = json_value(&format!(
        r#"{{"family": "team-a-web", "containerDefinitions": [{{"name": "web", "image": "{ours}"}}]}}"#
    ));
    let identity = Identity {
        region: Some("eu-west-1".into()),
        account: Some("123456789012".into()),
        queue_url: Some(config.queue_url.clone()),
        dead_letter_queue_url: None,
        ..Identity::default()
    };
    let judged = |service: &str, body: &Value| {
        let attributes = BTreeMap::from([("service".to_owned(), service.to_owned())]);
        let request = parse(&body.to_string(), &attributes).expect("a valid message");
        let baseline = current.as_object().cloned().unwrap_or_default();
        judge(
            policy,
            &identity,
            &Case {
                request: &request,
                cluster: "default",
                baseline: Some(&baseline),
            },
        )
        .map_err(|refusal| refusal.rule)
    };
    let with = |image: &str, role: &str| {
        json_value(&format!(
            r#"{{"family": "team-a-web", "taskRoleArn": "{role}",
                "containerDefinitions": [{{"name": "web", "image": "{image}"}}]}}"#
        ))
    };
    let team_role = "arn:aws:iam::123456789012:role/team-a-web";
    assert_eq!(judged("team-a-web", &with(&ours, team_role)), Ok(()));
    assert_eq!(
        judged("team-a-web", &with(&theirs, team_role)),
        Err("image")
    );
    assert_eq!(
        judged(
            "team-a-web",
            &with(&ours, "arn:aws:iam::123456789012:role/admin")
        ),
        Err("task_role")
    );
    assert_eq!(
        judged("team-a-web", &with("nginx:1.27", team_role)),
        Err("image"),
        "a tag, from another registry"
    );
    assert_eq!(
        judged("team-b-web", &with(&ours, team_role)),
        Err("service_not_allowed")
    );
    assert_eq!(
        judged("platform-dns", &with(&ours, team_role)),
        Err("service_denied")
    );
}
