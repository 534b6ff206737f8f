//! Table tests of the guard's role, secret, image, policy-file and reply-queue rules.

use super::*;

#[test]
fn roles_and_secrets() {
    let other_role = format!("arn:aws:iam::{ACCOUNT}:role/admin");
    // The service's own secret kept, and one more.
    let with_secret = |from: &str| {
        container(json!({"secrets": [
            {"name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/web/db"},
            {"name": "OTHER", "valueFrom": from}]}))
    };
    run(vec![
        row(
            "a different task role",
            changed(json!({"taskRoleArn": other_role})),
            Some("task_role"),
        ),
        row(
            "a different execution role",
            changed(json!({"executionRoleArn": other_role})),
            Some("execution_role"),
        ),
        row(
            "a task role added where there was none",
            changed(json!({"taskRoleArn": other_role})),
            Some("task_role"),
        ),
        row(
            "the task role dropped (a task without one may reach the instance's)",
            {
                let mut body = current();
                body.as_object_mut().map(|o| o.remove("taskRoleArn"));
                body
            },
            Some("task_role"),
        ),
        Row {
            policy: with_rules(Rules {
                task_roles: globs(&[
                    "arn:aws:iam::123456789012:role/web-*",
                    "arn:aws:iam::123456789012:role/admin",
                ]),
                ..Rules::default()
            }),
            ..row(
                "a task role ALLOWED_TASK_ROLES allows",
                changed(json!({"taskRoleArn": other_role})),
                None,
            )
        },
        row(
            "another team's secret",
            with_secret("arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-b/db"),
            Some("secrets"),
        ),
        row(
            "the secret the service refers to now, under a second name",
            with_secret("arn:aws:ssm:eu-west-1:123456789012:parameter/web/db"),
            Some("secrets"),
        ),
        row("the secrets the service has now", current(), None),
        Row {
            policy: with_rules(Rules {
                secrets: globs(&["arn:aws:secretsmanager:*:123456789012:secret:team-a/**"]),
                ..Rules::default()
            }),
            ..row(
                "a secret ALLOWED_SECRETS allows, with its JSON key",
                with_secret(
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db-AbCdEf:password::",
                ),
                None,
            )
        },
        row(
            "a log driver (and its secret option)",
            container(json!({"logConfiguration": {"logDriver": "splunk",
                "secretOptions": [{"name": "splunk-token", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/team-b/token"}]}})),
            Some("logging"),
        ),
        row(
            "an environment file",
            container(
                json!({"environmentFiles": [{"value": "arn:aws:s3:::team-b/prod.env", "type": "s3"}]}),
            ),
            Some("secrets"),
        ),
        Row {
            policy: with_rules(Rules {
                secrets: globs(&["arn:aws:secretsmanager:*:123456789012:secret:team-b/*"]),
                ..Rules::default()
            }),
            ..row(
                "registry credentials ALLOWED_SECRETS allows",
                container(json!({"repositoryCredentials": {
                    "credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-b/registry"}})),
                None,
            )
        },
    ]);
}

#[test]
fn images() {
    let image = |image: &str| container(json!({"image": image}));
    let rules = |images: &[&str], digest: bool| {
        with_rules(Rules {
            images: Some(globs(images)),
            require_image_digest: digest,
            ..Rules::default()
        })
    };
    let digest = "a".repeat(64);
    run(vec![
        Row {
            policy: rules(&["123456789012.dkr.ecr.*.amazonaws.com/team-a/*"], false),
            ..row(
                "an image of the team's repositories",
                image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web:2"),
                None,
            )
        },
        Row {
            policy: rules(&["123456789012.dkr.ecr.*.amazonaws.com/team-a/*"], false),
            ..row(
                "an image elsewhere",
                image("docker.io/attacker/miner:latest"),
                Some("image"),
            )
        },
        Row {
            policy: rules(&["docker.io/library/*"], false),
            ..row(
                "a Docker Hub image written short",
                image("nginx:1.27"),
                None,
            )
        },
        Row {
            policy: rules(&["*/**"], true),
            ..row(
                "a tag where a digest is required",
                image("nginx:1.27"),
                Some("image_digest"),
            )
        },
        Row {
            policy: rules(&["*/**"], true),
            ..row("a digest", image(&format!("nginx@sha256:{digest}")), None)
        },
    ]);
}

#[test]
fn a_section_of_the_policy_file_replaces_the_defaults_and_says_so() {
    let team_a = Rules {
        section: Some("team-a-*".into()),
        privileges: BTreeSet::from([Privilege::Privileged]),
        ..Rules::default()
    };
    let policy = Policy {
        per_service: vec![ServiceRules {
            services: globs(&["team-a-*"]),
            rules: team_a,
        }],
        ..Policy::default_for("prod")
    };
    let body = container(json!({"privileged": true}));
    let mut allowed = row("a team-a service may", body.clone(), None);
    allowed.attributes = vec![("service", "team-a-web".into())];
    allowed.policy = policy.clone();
    run(vec![allowed]);
    let request = parse(
        &changed(json!({"containerDefinitions": [
            {"name": "web", "image": "x", "dockerSecurityOptions": ["seccomp=unconfined"]}]}))
        .to_string(),
        &BTreeMap::from([("service".to_owned(), "team-a-web".to_owned())]),
    )
    .expect("valid");
    let baseline = members(&current());
    let refusal = judge(
        &policy,
        &identity(),
        &Case {
            request: &request,
            cluster: "prod",
            baseline: Some(&baseline),
        },
    )
    .expect_err("refused");
    assert_eq!(
        refusal.to_string(),
        "policy: containerDefinitions[0].dockerSecurityOptions: changes what the service may do \
         (docker_security_options): it must stay as the running revision has it, or at ECS's default \
         in a new container or volume for service team-a-web \
         (allowed_privileges=docker_security_options in the POLICY_FILE section for team-a-*)"
    );
}

#[test]
fn replies_go_only_to_allowed_queues() {
    let policy = Policy::default_for("prod");
    let ours = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies";
    assert_eq!(reply_queue(&policy, &identity(), Some(ours)), Some(ours));
    let legacy = "https://eu-west-1.queue.amazonaws.com/123456789012/replies";
    assert_eq!(
        reply_queue(&policy, &identity(), Some(legacy)),
        Some(legacy),
        "another name of the region's endpoint"
    );
    assert_eq!(reply_queue(&policy, &identity(), Some(" ")), None);
    assert_eq!(reply_queue(&policy, &identity(), None), None);
    assert_eq!(
        reply_queue(
            &policy,
            &identity(),
            Some("https://sqs.eu-west-1.amazonaws.com/999999999999/r")
        ),
        None
    );
    let unknown = Identity {
        account: None,
        ..identity()
    };
    assert_eq!(
        reply_queue(&policy, &unknown, Some(ours)),
        None,
        "unknown account: refuse"
    );
}
