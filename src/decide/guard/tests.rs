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

mod attributes;
mod rules;
mod what_it_may_do;
