//! Table tests of the pre-flight rules: which members refer to what, trust policies, and the verdict.

use serde_json::{Map, Value, json};

use super::*;

fn request(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

const ECR: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

#[test]
fn every_kind_of_reference_is_found_with_its_member() {
    let td = request(json!({
        "family": "web",
        "taskRoleArn": "arn:aws:iam::123456789012:role/app/web-task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/web-execution",
        "containerDefinitions": [
            {
                "name": "web",
                "image": format!("{ECR}/team/web:prod"),
                "secrets": [
                    {"name": "A", "valueFrom": "/web/db-password"},
                    {"name": "B", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/web/api-key"},
                    {"name": "C", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/flat"},
                    {"name": "D", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:web/jwt-AbCdEf:key::"},
                    {"name": "E", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:plain-XyZ123"}
                ],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1"},
                    "secretOptions": [{"name": "token", "valueFrom": "log-token"}]
                }
            },
            {
                "name": "sidecar",
                "image": format!("{ECR}/agent@sha256:abc"),
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/made", "awslogs-create-group": "true"}
                }
            },
            {"name": "hub", "image": "nginx:1.27", "logConfiguration": {"logDriver": "json-file"}}
        ]
    }));
    let found: Vec<(String, Target)> = references(&td, Some("123456789012"))
        .into_iter()
        .map(|r| (r.member, r.target))
        .collect();
    let c0 = "containerDefinitions[0]";
    let expected = vec![
        (
            "taskRoleArn".to_owned(),
            Target::Role {
                name: "web-task".into(),
            },
        ),
        (
            "executionRoleArn".to_owned(),
            Target::Role {
                name: "web-execution".into(),
            },
        ),
        (
            format!("{c0}.image"),
            Target::Image {
                registry_id: "123456789012".into(),
                region: "eu-west-1".into(),
                repository: "team/web".into(),
                tag: Ok("prod".into()),
            },
        ),
        (
            format!("{c0}.secrets[0].valueFrom"),
            Target::Parameter {
                name: "/web/db-password".into(),
                region: None,
            },
        ),
        (
            format!("{c0}.secrets[1].valueFrom"),
            Target::Parameter {
                name: "/web/api-key".into(),
                region: Some("eu-west-1".into()),
            },
        ),
        (
            format!("{c0}.secrets[2].valueFrom"),
            Target::Parameter {
                name: "flat".into(),
                region: Some("eu-west-1".into()),
            },
        ),
        (
            format!("{c0}.secrets[3].valueFrom"),
            Target::Secret {
                id: "arn:aws:secretsmanager:us-east-1:123456789012:secret:web/jwt-AbCdEf".into(),
                region: Some("us-east-1".into()),
            },
        ),
        (
            format!("{c0}.secrets[4].valueFrom"),
            Target::Secret {
                id: "arn:aws:secretsmanager:us-east-1:123456789012:secret:plain-XyZ123".into(),
                region: Some("us-east-1".into()),
            },
        ),
        (
            format!("{c0}.logConfiguration.secretOptions[0].valueFrom"),
            Target::Parameter {
                name: "log-token".into(),
                region: None,
            },
        ),
        (
            format!("{c0}.logConfiguration.options.awslogs-group"),
            Target::LogGroup {
                name: "/ecs/web".into(),
                region: Some("eu-west-1".into()),
            },
        ),
        (
            "containerDefinitions[1].image".to_owned(),
            Target::Image {
                registry_id: "123456789012".into(),
                region: "eu-west-1".into(),
                repository: "agent".into(),
                tag: Err("sha256:abc".into()),
            },
        ),
        (
            "containerDefinitions[2].image".to_owned(),
            Target::OtherImage,
        ),
    ];
    assert_eq!(found, expected);
}

#[test]
fn roles_of_other_accounts_are_not_asked_about_and_other_registries_are_reported_unchecked() {
    let td = request(json!({
        "taskRoleArn": "arn:aws:iam::999999999999:role/theirs",
        "executionRoleArn": "not-an-arn",
        "containerDefinitions": [{"name": "a", "image": "public.ecr.aws/nginx/nginx:1"}]
    }));
    let found = references(&td, Some("123456789012"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].target, Target::OtherImage);
    assert_eq!(found[0].target.kind(), Kind::OtherRegistry);
    // Without the worker's account known, a role of any account is asked about.
    assert_eq!(references(&td, None).len(), 2);
}

#[test]
fn a_role_trusts_ecs_tasks_only_through_an_allow_of_assume_role() {
    let cases = [
        (
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            true,
        ),
        (
            json!({"Statement": {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]}, "Action": ["sts:AssumeRole", "sts:TagSession"]}}),
            true,
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            false,
        ),
        (
            json!({"Statement": [{"Effect": "Deny", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            false,
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole"}]}),
            false,
        ),
        (json!({}), false),
    ];
    for (policy, trusts) in cases {
        assert_eq!(trusts_ecs_tasks(&policy.to_string()), trusts, "{policy}");
    }
    assert!(!trusts_ecs_tasks("not json"));
}

#[test]
fn only_missing_things_reject_and_unchecked_kinds_are_told_once() {
    let role = |member: &str| Reference {
        member: member.to_owned(),
        value: "arn".to_owned(),
        target: Target::Role { name: "r".into() },
    };
    let findings = vec![
        (role("taskRoleArn"), Finding::Present),
        (
            role("executionRoleArn"),
            Finding::Unchecked("access denied".into()),
        ),
    ];
    assert_eq!(verdict(&findings), None);
    assert_eq!(
        unchecked(&findings),
        vec![(Kind::Role, "access denied".to_owned())]
    );
    let findings = vec![
        (
            role("taskRoleArn"),
            Finding::Missing("role r does not exist".into()),
        ),
        (
            role("executionRoleArn"),
            Finding::Unchecked("access denied".into()),
        ),
        (role("other"), Finding::Unchecked("throttled".into())),
    ];
    let reason = verdict(&findings).unwrap_or_default();
    assert_eq!(
        reason,
        "pre-flight check: taskRoleArn: role r does not exist; nothing was registered (VERIFY=off deploys without the checks)"
    );
    assert_eq!(unchecked(&findings).len(), 1, "one warning per kind");
}
