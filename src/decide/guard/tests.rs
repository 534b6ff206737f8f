//! Table tests of the guard: one case per rule, refused and allowed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::*;
use crate::decide::message::parse;
use crate::decide::policy::{Globs, ServiceRules};

const ACCOUNT: &str = "123456789012";
const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/deployments";
const DEAD_LETTERS: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/deployments-dlq";

fn identity() -> Identity {
    Identity {
        region: Some("eu-west-1".into()),
        account: Some(ACCOUNT.into()),
        queue_url: Some(QUEUE.into()),
        dead_letter_queue_url: Some(DEAD_LETTERS.into()),
        service: Some(("prod".into(), "ecs-deployment".into())),
        family: Some("ecs-deployment".into()),
        role: Some("ecs-deployment-worker".into()),
    }
}

fn globs(patterns: &[&str]) -> Globs {
    Globs::new(patterns).expect("valid globs")
}

/// The revision a service runs now: one container, a task and an execution role, one secret.
fn current() -> Value {
    json!({
        "family": "web",
        "taskRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/web-task"),
        "executionRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/web-execution"),
        "networkMode": "awsvpc",
        "containerDefinitions": [{
            "name": "web",
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web:1",
            "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/web/db"}]
        }]
    })
}

/// `current()` with `change` applied to it (a JSON merge: objects merge, anything else replaces).
fn changed(change: Value) -> Value {
    let mut value = current();
    merge(&mut value, change);
    value
}

fn merge(into: &mut Value, change: Value) {
    match (into, change) {
        (Value::Object(into), Value::Object(change)) => {
            for (k, v) in change {
                merge(into.entry(k).or_insert(Value::Null), v);
            }
        }
        (into, change) => *into = change,
    }
}

/// `current()`'s container with `change` merged into it, as the whole container list.
fn container(change: Value) -> Value {
    let mut container = current()["containerDefinitions"][0].clone();
    merge(&mut container, change);
    changed(json!({"containerDefinitions": [container]}))
}

fn members(value: &Value) -> Members {
    value.as_object().cloned().unwrap_or_default()
}

/// What one case expects: allowed, or refused by this rule.
type Expect = Option<&'static str>;

struct Row {
    name: &'static str,
    attributes: Vec<(&'static str, String)>,
    body: Value,
    baseline: Option<Value>,
    policy: Policy,
    expect: Expect,
}

fn row(name: &'static str, body: Value, expect: Expect) -> Row {
    Row {
        name,
        attributes: vec![("service", "web".into())],
        body,
        baseline: Some(current()),
        policy: Policy::default_for("prod"),
        expect,
    }
}

fn with_rules(rules: Rules) -> Policy {
    Policy {
        defaults: rules,
        ..Policy::default_for("prod")
    }
}

fn privileges(list: &[Privilege]) -> Rules {
    Rules {
        privileges: list.iter().copied().collect::<BTreeSet<_>>(),
        ..Rules::default()
    }
}

fn run(rows: Vec<Row>) {
    for row in rows {
        let attributes: BTreeMap<String, String> = row
            .attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let request = parse(&row.body.to_string(), &attributes)
            .unwrap_or_else(|e| panic!("{}: the message does not parse: {e}", row.name));
        let baseline = row.baseline.as_ref().map(members);
        let case = Case {
            request: &request,
            cluster: request.cluster.as_deref().unwrap_or("prod"),
            baseline: baseline.as_ref(),
        };
        let judged = judge(&row.policy, &identity(), &case);
        match (&judged, row.expect) {
            (Ok(()), None) => {}
            (Err(refusal), Some(rule)) => {
                assert_eq!(refusal.rule, rule, "{}: {refusal}", row.name);
                let text = refusal.to_string();
                assert!(text.starts_with("policy: "), "{}: {text}", row.name);
                assert!(
                    text.ends_with(')'),
                    "{}: names no setting: {text}",
                    row.name
                );
            }
            _ => panic!("{}: expected {:?}, judged {judged:?}", row.name, row.expect),
        }
    }
}

#[test]
fn what_no_setting_allows() {
    let mut rows = vec![
        row(
            "a new image is a change of what runs",
            container(
                json!({"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web:2"}),
            ),
            None,
        ),
        row(
            "the worker's own family",
            changed(json!({"family": "ecs-deployment"})),
            Some("own_family"),
        ),
        row(
            "the worker's own role as task role",
            changed(
                json!({"taskRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/ecs-deployment-worker")}),
            ),
            Some("own_role"),
        ),
        row(
            "the worker's own role as execution role, by name",
            changed(json!({"executionRoleArn": "ecs-deployment-worker"})),
            Some("own_role"),
        ),
    ];
    let target = |service: &str, cluster: Option<&str>, expect: Expect, name: &'static str| {
        let mut attributes = vec![("service", service.to_owned())];
        if let Some(cluster) = cluster {
            attributes.push(("cluster", cluster.to_owned()));
        }
        Row {
            name,
            attributes,
            policy: Policy {
                clusters: globs(&["prod", "staging"]),
                ..Policy::default_for("prod")
            },
            ..row(name, current(), expect)
        }
    };
    rows.extend([
        target(
            "ecs-deployment",
            None,
            Some("own_service"),
            "the worker's own service",
        ),
        target(
            "ecs-deployment",
            Some("staging"),
            None,
            "a service of that name in another cluster",
        ),
        target(
            "arn:aws:ecs:eu-west-1:123456789012:service/prod/ecs-deployment",
            None,
            Some("own_service"),
            "the worker's own service by ARN",
        ),
        target(
            "arn:aws:ecs:eu-west-1:123456789012:service/prod/web",
            None,
            None,
            "a service ARN of ours",
        ),
        target(
            "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
            None,
            Some("foreign_service"),
            "another region",
        ),
        target(
            "arn:aws:ecs:eu-west-1:999999999999:service/prod/web",
            None,
            Some("foreign_service"),
            "another account",
        ),
        target(
            "arn:aws:ecs:eu-west-1:123456789012:service/staging/web",
            None,
            Some("foreign_service"),
            "another cluster",
        ),
        target(
            "arn:aws:ecs:eu-west-1:123456789012:service/web",
            None,
            None,
            "an ARN of the old format",
        ),
    ]);
    rows.push(Row {
        baseline: None,
        ..row(
            "a service without a current revision",
            current(),
            Some("no_current_revision"),
        )
    });
    run(rows);
}

#[test]
fn services_clusters_and_attributes() {
    let register_only = |name: &'static str,
                         body: Value,
                         baseline: Option<Value>,
                         policy: Policy,
                         expect: Expect| Row {
        attributes: vec![("service", "false".into())],
        baseline,
        policy,
        ..row(name, body, expect)
    };
    let registering = |families: &[&str], new: &[&str]| Policy {
        register_only: globs(families),
        new_families: globs(new),
        ..Policy::default_for("prod")
    };
    let attribute =
        |name: &'static str, key: &'static str, value: &str, policy: Policy, expect: Expect| Row {
            attributes: vec![("service", "web".into()), (key, value.to_owned())],
            policy,
            ..row(name, current(), expect)
        };
    let default = || Policy::default_for("prod");
    run(vec![
        attribute(
            "another cluster by default",
            "cluster",
            "staging",
            default(),
            Some("cluster"),
        ),
        attribute(
            "an allowed cluster",
            "cluster",
            "staging",
            Policy {
                clusters: globs(&["prod", "stag*"]),
                ..default()
            },
            None,
        ),
        Row {
            policy: Policy {
                denied_services: globs(&["web"]),
                ..default()
            },
            ..row("a denied service", current(), Some("service_denied"))
        },
        Row {
            policy: Policy {
                services: globs(&["team-a-*"]),
                ..default()
            },
            ..row(
                "a service not allowed",
                current(),
                Some("service_not_allowed"),
            )
        },
        register_only(
            "register-only by default",
            current(),
            Some(current()),
            default(),
            Some("register_only"),
        ),
        register_only(
            "register-only into a family it names, unchanged",
            current(),
            Some(current()),
            registering(&["w*"], &[]),
            None,
        ),
        register_only(
            "register-only into another family",
            current(),
            Some(current()),
            registering(&["team-*"], &[]),
            Some("register_only"),
        ),
        register_only(
            "register-only judged against the family's newest revision",
            container(json!({"privileged": true})),
            Some(current()),
            registering(&["*"], &[]),
            Some("privileged"),
        ),
        register_only(
            "register-only of a family not allowed",
            current(),
            Some(current()),
            Policy {
                services: globs(&["team-a-*"]),
                ..registering(&["*"], &[])
            },
            Some("service_not_allowed"),
        ),
        register_only(
            "a new family, not allowed",
            current(),
            None,
            registering(&["*"], &[]),
            Some("new_family"),
        ),
        register_only(
            "a new family is judged against an empty revision: its secrets",
            current(),
            None,
            registering(&["*"], &["web"]),
            Some("secrets"),
        ),
        register_only(
            "a new family is judged against an empty revision: its image repository",
            json!({"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:1"}]}),
            None,
            registering(&["*"], &["web"]),
            Some("image"),
        ),
        register_only(
            "a new family with what it may do at ECS's defaults and an allowed image",
            json!({"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:1"}]}),
            None,
            Policy {
                defaults: Rules {
                    images: Some(globs(&["docker.io/library/nginx:*"])),
                    ..Rules::default()
                },
                ..registering(&["*"], &["web"])
            },
            None,
        ),
        attribute(
            "a commit URL with an allowed prefix",
            "commit_url",
            "https://github.com/example/web/commit/1",
            Policy {
                commit_urls: vec!["https://github.com/example/".into()],
                ..default()
            },
            None,
        ),
        attribute(
            "a commit URL elsewhere",
            "commit_url",
            "https://evil.example/commit/1",
            Policy {
                commit_urls: vec!["https://github.com/example/".into()],
                ..default()
            },
            Some("commit_url"),
        ),
        attribute(
            "a reply queue of ours",
            "reply_to",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/replies",
            default(),
            None,
        ),
        attribute(
            "a reply queue of another account",
            "reply_to",
            "https://sqs.eu-west-1.amazonaws.com/999999999999/replies",
            default(),
            Some("reply_to"),
        ),
        attribute(
            "a reply queue of another region",
            "reply_to",
            "https://sqs.us-east-1.amazonaws.com/123456789012/replies",
            default(),
            Some("reply_to"),
        ),
        attribute(
            "a reply URL that is not a queue",
            "reply_to",
            "https://attacker.example/hook",
            default(),
            Some("reply_to"),
        ),
        attribute(
            "a reply queue ALLOWED_REPLY_QUEUES allows",
            "reply_to",
            "https://sqs.us-east-1.amazonaws.com/999999999999/ci-replies",
            Policy {
                reply_queues: globs(&["https://sqs.*.amazonaws.com/999999999999/ci-*"]),
                ..default()
            },
            None,
        ),
        attribute(
            "the worker's own deployment queue as the reply queue",
            "reply_to",
            QUEUE,
            Policy {
                reply_queues: globs(&["**"]),
                ..default()
            },
            Some("own_queue"),
        ),
        attribute(
            "the worker's dead-letter queue, by its other URL",
            "reply_to",
            "https://eu-west-1.queue.amazonaws.com/123456789012/deployments-dlq",
            Policy {
                reply_queues: globs(&["**"]),
                ..default()
            },
            Some("own_queue"),
        ),
    ]);
}

#[test]
fn no_escalation_over_the_current_revision() {
    let escalations = [
        (
            "another family",
            changed(json!({"family": "api"})),
            Privilege::FamilyChange,
        ),
        (
            "privileged",
            container(json!({"privileged": true})),
            Privilege::Privileged,
        ),
        (
            "host network",
            changed(json!({"networkMode": "host"})),
            Privilege::NetworkMode,
        ),
        (
            "host PID",
            changed(json!({"pidMode": "host"})),
            Privilege::PidMode,
        ),
        (
            "host IPC",
            changed(json!({"ipcMode": "host"})),
            Privilege::IpcMode,
        ),
        (
            "a host volume",
            changed(json!({"volumes": [{"name": "root", "host": {"sourcePath": "/"}}]})),
            Privilege::HostVolumes,
        ),
        (
            "a bind mount through a local docker volume",
            changed(
                json!({"volumes": [{"name": "root", "dockerVolumeConfiguration": {
                "scope": "task", "driver": "local",
                "driverOpts": {"type": "none", "o": "bind", "device": "/var/run/docker.sock"}}}]}),
            ),
            Privilege::HostVolumes,
        ),
        (
            "a device",
            container(json!({"linuxParameters": {"devices": [{"hostPath": "/dev/mem"}]}})),
            Privilege::Devices,
        ),
        (
            "an added capability",
            container(json!({"linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}}})),
            Privilege::Capabilities,
        ),
        (
            "a docker security option",
            container(json!({"dockerSecurityOptions": ["apparmor:unconfined"]})),
            Privilege::DockerSecurityOptions,
        ),
        (
            "registry credentials",
            container(json!({"repositoryCredentials": {
                "credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-b/registry"}})),
            Privilege::RepositoryCredentials,
        ),
    ];
    let mut rows = Vec::new();
    for (name, body, privilege) in escalations {
        rows.push(row(name, body.clone(), Some(privilege.label())));
        // A new volume is a new mount as well as what it mounts.
        let allowed = match privilege {
            Privilege::HostVolumes => vec![privilege, Privilege::Mounts],
            _ => vec![privilege],
        };
        rows.push(Row {
            policy: with_rules(privileges(&allowed)),
            ..row(name, body.clone(), None)
        });
        // What the current revision already has, it may keep.
        rows.push(Row {
            baseline: Some(body.clone()),
            ..row(name, body, None)
        });
    }
    rows.extend([
        row(
            "a docker-managed host volume binds no host path, but is a new volume",
            changed(json!({"volumes": [{"name": "scratch", "host": {}}]})),
            Some("mounts"),
        ),
        row(
            "privileged in another container, when one already is",
            json!({"family": "web", "containerDefinitions": [
                {"name": "a", "image": "x", "privileged": true},
                {"name": "b", "image": "y", "privileged": true}]}),
            Some("privileged"),
        ),
        Row {
            baseline: Some(json!({"family": "web", "containerDefinitions": [
                {"name": "a", "image": "x", "privileged": true}]})),
            ..row(
                "a new privileged container beside one that already is",
                json!({"family": "web", "containerDefinitions": [
                    {"name": "a", "image": "x", "privileged": true},
                    {"name": "b", "image": "x", "privileged": true}]}),
                Some("privileged"),
            )
        },
        Row {
            baseline: Some(changed(
                json!({"volumes": [{"name": "logs", "host": {"sourcePath": "/var/log"}}]}),
            )),
            ..row(
                "another host path than the one already bound",
                changed(json!({"volumes": [{"name": "logs", "host": {"sourcePath": "/"}}]})),
                Some("host_volumes"),
            )
        },
    ]);
    run(rows);
}

mod rules;
mod what_it_may_do;
