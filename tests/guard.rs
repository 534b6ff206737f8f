//! Property tests of the guard: whatever a message asks for, against whatever policy, revision and worker,
//! the decision is allowed or a refusal that names a known rule, the subject and a way to allow it; never a
//! panic. The case count keeps the run to a few seconds.

use std::collections::{BTreeMap, BTreeSet};

use ecs_deployment::decide::guard::{Case, judge};
use ecs_deployment::decide::message::parse;
use ecs_deployment::decide::policy::{Globs, Identity, Policy, Privilege, Rules, ServiceRules};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Every rule a refusal may name besides the groups of what a service may do (`Privilege::ALL`).
const RULES: [&str; 18] = [
    "own_service",
    "own_family",
    "own_role",
    "foreign_service",
    "cluster",
    "register_only",
    "new_family",
    "service_denied",
    "service_not_allowed",
    "commit_url",
    "reply_to",
    "own_queue",
    "max_task_cpu",
    "max_task_memory",
    "no_current_revision",
    "image",
    "image_digest",
    "unclassified",
];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn one_of(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(values).prop_map(str::to_owned)
}

fn maybe(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop::option::of(one_of(values))
}

fn some_of(values: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(values, 0..=values.len())
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

const IMAGES: &[&str] = &[
    "nginx:1.27",
    "docker.io/attacker/miner:1",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team-a/web:2",
    "registry.example/team-a/web@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "localhost:5000/x",
];
const ROLES: &[&str] = &[
    "arn:aws:iam::123456789012:role/web-task",
    "arn:aws:iam::123456789012:role/admin",
    "ecs-deployment-worker",
    "arn:aws:iam::999999999999:role/x/ecs-deployment-worker",
];
const SECRETS: &[&str] = &[
    "arn:aws:ssm:us-east-1:123456789012:parameter/web/db",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-b/db-AbC:password::",
    "plain-parameter-name",
];
const GLOBS: &[&str] = &[
    "*",
    "web",
    "team-*",
    "ecs-*",
    "nginx*",
    "docker.io/library/*",
    "**",
    "arn:aws:*",
];

fn container(i: usize) -> impl Strategy<Value = Value> {
    (
        one_of(IMAGES),
        prop::option::of(any::<bool>()),
        some_of(&["/dev/mem", "/dev/fuse"]),
        some_of(&["SYS_ADMIN", "NET_ADMIN"]),
        some_of(&["seccomp=unconfined", "apparmor:unconfined"]),
        maybe(SECRETS),
        some_of(SECRETS),
        some_of(&["arn:aws:s3:::team-b/prod.env"]),
    )
        .prop_map(
            move |(image, privileged, devices, caps, options, credentials, secrets, files)| {
                let mut c = json!({"name": format!("c{i}"), "image": image});
                if let Some(p) = privileged {
                    c["privileged"] = json!(p);
                }
                let devices: Vec<Value> = devices.iter().map(|d| json!({"hostPath": d})).collect();
                c["linuxParameters"] = json!({"devices": devices, "capabilities": {"add": caps}});
                c["dockerSecurityOptions"] = json!(options);
                if let Some(parameter) = credentials {
                    c["repositoryCredentials"] = json!({"credentialsParameter": parameter});
                }
                let secrets: Vec<Value> = secrets
                    .iter()
                    .enumerate()
                    .map(|(j, s)| json!({"name": format!("S{j}"), "valueFrom": s}))
                    .collect();
                c["secrets"] = json!(secrets);
                let files: Vec<Value> = files
                    .iter()
                    .map(|f| json!({"value": f, "type": "s3"}))
                    .collect();
                c["environmentFiles"] = json!(files);
                c
            },
        )
}

fn task_definition() -> impl Strategy<Value = Value> {
    (
        prop_oneof![6 => Just("web".to_owned()), 1 => one_of(&["api", "ecs-deployment"])],
        maybe(&["host", "awsvpc", "bridge"]),
        maybe(&["host", "task"]),
        maybe(&["host", "task", "none"]),
        maybe(ROLES),
        maybe(ROLES),
        some_of(&["/", "/var/log"]),
        any::<bool>(),
        prop::collection::vec(0usize..1, 1..=3),
    )
        .prop_flat_map(|(family, network, pid, ipc, task_role, execution_role, hosts, bind, count)| {
            let containers: Vec<_> = (0..count.len()).map(container).collect();
            containers.prop_map(move |containers| {
                let mut td = json!({"family": family, "containerDefinitions": containers});
                for (member, value) in [
                    ("networkMode", &network),
                    ("pidMode", &pid),
                    ("ipcMode", &ipc),
                    ("taskRoleArn", &task_role),
                    ("executionRoleArn", &execution_role),
                ] {
                    if let Some(value) = value {
                        td[member] = json!(value);
                    }
                }
                let mut volumes: Vec<Value> = hosts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| json!({"name": format!("h{i}"), "host": {"sourcePath": p}}))
                    .collect();
                if bind {
                    volumes.push(json!({"name": "b", "dockerVolumeConfiguration": {"scope": "task",
                        "driver": "local", "driverOpts": {"type": "none", "o": "bind", "device": "/etc"}}}));
                }
                td["volumes"] = json!(volumes);
                td
            })
        })
}

fn globs() -> impl Strategy<Value = Globs> {
    some_of(GLOBS).prop_map(|g| Globs::new(&g).unwrap_or_default())
}

/// Mostly `usual`, sometimes any globs: most cases then reach the later rules.
fn mostly(usual: &'static [&'static str]) -> impl Strategy<Value = Globs> {
    prop_oneof![3 => Just(Globs::new(usual).unwrap_or_default()), 1 => globs()]
}

fn rules() -> impl Strategy<Value = Rules> {
    (
        prop::option::of(globs()),
        any::<bool>(),
        globs(),
        globs(),
        prop::sample::subsequence(Privilege::ALL.to_vec(), 0..=Privilege::ALL.len()),
        globs(),
        maybe(&["team-*"]),
        prop::option::of(128u64..8192),
    )
        .prop_map(
            |(images, digest, task_roles, execution_roles, privileges, secrets, section, limit)| {
                Rules {
                    section,
                    images,
                    require_image_digest: digest,
                    task_roles,
                    execution_roles,
                    privileges: privileges.into_iter().collect::<BTreeSet<_>>(),
                    secrets,
                    max_task_cpu: limit,
                    max_task_memory: limit,
                }
            },
        )
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        mostly(&["*"]),
        mostly(&[]),
        mostly(&["default"]),
        mostly(&["*"]),
        some_of(&["https://github.com/"]),
        globs(),
        rules(),
        prop::option::of((globs(), rules())),
    )
        .prop_map(
            |(
                services,
                denied,
                clusters,
                register_only,
                commit_urls,
                reply_queues,
                defaults,
                section,
            )| Policy {
                services,
                denied_services: denied,
                clusters,
                register_only,
                new_families: Globs::none(),
                commit_urls,
                reply_queues,
                defaults,
                per_service: section
                    .map(|(services, rules)| ServiceRules { services, rules })
                    .into_iter()
                    .collect(),
            },
        )
}

fn identity() -> impl Strategy<Value = Identity> {
    (
        maybe(&["us-east-1"]),
        maybe(&["123456789012"]),
        maybe(&["ecs-deployment"]),
        maybe(&["ecs-deployment-worker"]),
        any::<bool>(),
    )
        .prop_map(|(region, account, family, role, service)| Identity {
            region,
            account,
            queue_url: Some("https://sqs.us-east-1.amazonaws.com/123456789012/deployments".into()),
            dead_letter_queue_url: Some(
                "https://sqs.us-east-1.amazonaws.com/123456789012/deployments-dlq".into(),
            ),
            service: service.then(|| ("default".to_owned(), "ecs-deployment".to_owned())),
            family,
            role,
        })
}

fn attributes() -> impl Strategy<Value = BTreeMap<String, String>> {
    (
        prop_oneof![
            6 => Just("web".to_owned()),
            1 => one_of(&[
                "false",
                "ecs-deployment",
                "arn:aws:ecs:us-east-1:123456789012:service/default/web",
                "arn:aws:ecs:eu-west-1:999999999999:service/prod/web",
            ]),
        ],
        prop_oneof![4 => Just(None), 1 => maybe(&["default", "prod"])],
        prop_oneof![3 => Just(None), 1 => maybe(&["https://github.com/x/commit/1", "https://evil.example/c"])],
        maybe(&[
            "https://sqs.us-east-1.amazonaws.com/123456789012/r",
            "https://sqs.us-east-1.amazonaws.com/1/r",
            "https://x.example/hook",
        ]),
    )
        .prop_map(|(service, cluster, commit, reply)| {
            let mut attributes = BTreeMap::from([("service".to_owned(), service)]);
            for (name, value) in [
                ("cluster", cluster),
                ("commit_url", commit),
                ("reply_to", reply),
            ] {
                if let Some(value) = value {
                    attributes.insert(name.to_owned(), value);
                }
            }
            attributes
        })
}

fn members(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_message_is_allowed_or_refused_by_a_named_rule(
        body in task_definition(),
        baseline in prop::option::weighted(0.8, task_definition()),
        attributes in attributes(),
        policy in policy(),
        identity in identity(),
    ) {
        let request = parse(&body.to_string(), &attributes);
        prop_assume!(request.is_ok(), "the body fits ECS's request shape: {:?}", request.err());
        let Ok(request) = request else { return Ok(()) };
        let baseline = baseline.as_ref().map(members);
        let case = Case {
            request: &request,
            cluster: request.cluster.as_deref().unwrap_or("default"),
            baseline: baseline.as_ref(),
        };
        if let Err(refusal) = judge(&policy, &identity, &case) {
            prop_assert!(
                RULES.contains(&refusal.rule)
                    || Privilege::ALL.iter().any(|p| p.label() == refusal.rule),
                "unknown rule {}",
                refusal.rule
            );
            let text = refusal.to_string();
            prop_assert!(text.starts_with("policy: "), "{}", text);
            prop_assert!(text.contains(&refusal.subject), "{}", text);
            prop_assert!(!refusal.allow.is_empty() && text.ends_with(')'), "{}", text);
            prop_assert!(!refusal.path.is_empty(), "{}", text);
        }
    }
}
