//! Table tests of what a task may do, compared with the revision it replaces: a new family's first
//! revision, weakening, new containers, and the CPU and memory limits.

use super::*;

#[test]
fn a_new_family_is_judged_against_an_empty_revision() {
    let register = |name: &'static str, body: Value, policy: Policy, expect: Expect| Row {
        attributes: vec![("service", "false".into())],
        baseline: None,
        policy,
        ..row(name, body, expect)
    };
    let allowing = |rules: Rules| Policy {
        register_only: globs(&["*"]),
        new_families: globs(&["tools"]),
        ..with_rules(rules)
    };
    let images = || Some(globs(&["docker.io/x/*"]));
    let host = json!({"family": "tools", "networkMode": "host",
        "containerDefinitions": [{"name": "t", "image": "docker.io/x/y:1"}]});
    let role = json!({"family": "tools", "taskRoleArn": "admin",
        "containerDefinitions": [{"name": "t", "image": "docker.io/x/y:1"}]});
    run(vec![
        register(
            "host networking",
            host.clone(),
            allowing(Rules {
                images: images(),
                ..Rules::default()
            }),
            Some("network_mode"),
        ),
        register(
            "host networking, allowed",
            host,
            allowing(Rules {
                images: images(),
                ..privileges(&[Privilege::NetworkMode])
            }),
            None,
        ),
        register(
            "a task role",
            role.clone(),
            allowing(Rules {
                images: images(),
                ..Rules::default()
            }),
            Some("task_role"),
        ),
        register(
            "a task role the rules name",
            role.clone(),
            allowing(Rules {
                images: images(),
                task_roles: globs(&["admin"]),
                ..Rules::default()
            }),
            None,
        ),
        register(
            "an image of a repository the rules do not name",
            role,
            allowing(Rules {
                task_roles: globs(&["admin"]),
                ..Rules::default()
            }),
            Some("image"),
        ),
        register(
            "the worker's role, whatever the rules",
            json!({"family": "tools", "taskRoleArn": "ecs-deployment-worker",
                "containerDefinitions": [{"name": "t", "image": "docker.io/x/y:1"}]}),
            allowing(Rules {
                images: images(),
                task_roles: globs(&["*"]),
                ..Rules::default()
            }),
            Some("own_role"),
        ),
        register(
            "another new family",
            json!({"family": "other", "containerDefinitions": [{"name": "t", "image": "docker.io/x/y:1"}]}),
            allowing(Rules {
                images: images(),
                ..Rules::default()
            }),
            Some("new_family"),
        ),
    ]);
}

#[test]
fn cpu_and_memory_change_freely_within_the_limits() {
    let limited = || {
        with_rules(Rules {
            max_task_cpu: Some(1024),
            max_task_memory: Some(2048),
            ..Rules::default()
        })
    };
    run(vec![
        Row {
            policy: limited(),
            ..row(
                "more CPU and memory, within the limits",
                changed(json!({"cpu": "1 vCPU", "memory": "2 GB"})),
                None,
            )
        },
        Row {
            policy: limited(),
            ..row(
                "more CPU than MAX_TASK_CPU",
                changed(json!({"cpu": "2 vCPU", "memory": "512"})),
                Some("max_task_cpu"),
            )
        },
        Row {
            policy: limited(),
            ..row(
                "a container with more memory than MAX_TASK_MEMORY",
                container(json!({"memory": 4096})),
                Some("max_task_memory"),
            )
        },
        row(
            "no limit set: ECS's own apply",
            changed(json!({"cpu": "16 vCPU", "memory": "120 GB"})),
            None,
        ),
    ]);
}

#[test]
fn weakening_and_new_containers() {
    let hardened = || {
        let mut body = current();
        merge(
            &mut body,
            json!({"containerDefinitions": [{
                "name": "web",
                "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web:1",
                "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/web/db"}],
                "readonlyRootFilesystem": true,
                "linuxParameters": {"capabilities": {"drop": ["ALL"]}}
            }]}),
        );
        body
    };
    let against_hardened = |name: &'static str, body: Value, expect: Expect| Row {
        baseline: Some(hardened()),
        ..row(name, body, expect)
    };
    let with_container = |extra: Value| {
        let mut body = hardened();
        if let Some(list) = body["containerDefinitions"].as_array_mut() {
            list.push(extra);
        }
        body
    };
    let without = |member: &str| {
        let mut body = hardened();
        if let Some(container) = body["containerDefinitions"][0].as_object_mut() {
            container.remove(member);
        }
        body
    };
    let sidecar_image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web:sidecar";
    run(vec![
        against_hardened("unchanged", hardened(), None),
        against_hardened(
            "the capabilities it dropped, dropped no more",
            without("linuxParameters"),
            Some("capabilities"),
        ),
        against_hardened(
            "a read-only root filesystem made writable",
            without("readonlyRootFilesystem"),
            Some("read_only_root"),
        ),
        against_hardened(
            "a plain sidecar of a repository the revision uses",
            with_container(json!({"name": "sidecar", "image": sidecar_image, "command": ["run"]})),
            None,
        ),
        against_hardened(
            "a privileged sidecar",
            with_container(json!({"name": "sidecar", "image": sidecar_image, "privileged": true})),
            Some("privileged"),
        ),
        against_hardened(
            "a sidecar with a secret",
            with_container(json!({"name": "sidecar", "image": sidecar_image,
                "secrets": [{"name": "K", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/other"}]})),
            Some("secrets"),
        ),
        against_hardened(
            "a sidecar routing its logs",
            with_container(json!({"name": "sidecar", "image": sidecar_image,
                "logConfiguration": {"logDriver": "syslog", "options": {"syslog-address": "tcp://10.0.0.1:514"}}})),
            Some("logging"),
        ),
        against_hardened(
            "a sidecar of another repository",
            with_container(json!({"name": "sidecar", "image": "docker.io/attacker/miner:1"})),
            Some("image"),
        ),
    ]);
}
