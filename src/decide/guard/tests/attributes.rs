//! Table tests of the guard's rules for services, clusters, register-only families and the attributes
//! `commit_url` and `reply_to`.

use super::*;

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
