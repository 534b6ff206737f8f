//! Tests of the status view: tasks matched against the target, and whether the rollout is complete.

use super::*;
use crate::decide::service::DeploymentState;

fn task(id: &str, td: &str, digest: &str, started: i64) -> TaskRow {
    TaskRow {
        id: id.into(),
        task_definition: td.into(),
        last_status: "RUNNING".into(),
        health: "HEALTHY".into(),
        digests: vec![("app".into(), Some(digest.into()))],
        started_at: Some(started),
    }
}

#[test]
fn tasks_match_the_target_revision_and_its_newest_digests() {
    let tasks = [
        task(
            "a",
            "arn:aws:ecs:us-east-1:1:task-definition/web:5",
            "sha256:new",
            20,
        ),
        task(
            "b",
            "arn:aws:ecs:us-east-1:1:task-definition/web:5",
            "sha256:old",
            10,
        ),
        task(
            "c",
            "arn:aws:ecs:us-east-1:1:task-definition/web:4",
            "sha256:new",
            30,
        ),
        TaskRow {
            digests: vec![("app".into(), None)],
            ..task("d", "arn:aws:ecs:us-east-1:1:task-definition/web:5", "", 15)
        },
    ];
    let marks = match_tasks("arn:aws:ecs:us-east-1:1:task-definition/web:5", &tasks);
    assert_eq!(marks[0], Match::Match);
    assert!(matches!(&marks[1], Match::NoMatch(why) if why.contains("app runs sha256:old")));
    assert!(matches!(&marks[2], Match::NoMatch(why) if why.contains("web:4")));
    assert_eq!(
        marks[3],
        Match::Match,
        "an unknown digest is judged by the revision"
    );
}

#[test]
fn the_view_says_whether_the_rollout_is_complete() {
    let state = ServiceState {
        status: "ACTIVE".into(),
        desired_count: 1,
        deployments: vec![crate::decide::service::DeploymentState {
            id: "ecs-svc/1".into(),
            status: "PRIMARY".into(),
            task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:5".into(),
            rollout_state: Some("COMPLETED".into()),
            rollout_state_reason: None,
            running_count: 1,
            pending_count: 0,
            failed_tasks: 0,
            created_at_ms: None,
        }],
        deployment_controller: None,
        ..ServiceState::default()
    };
    let done = render(
        "web",
        "prod",
        &state,
        None,
        Some("arn:aws:ecs:us-east-1:1:task-definition/web:5"),
        &[task(
            "a",
            "arn:aws:ecs:us-east-1:1:task-definition/web:5",
            "sha256:1",
            1,
        )],
    );
    assert!(
        done.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "ecs-svc/1",
                    "PRIMARY",
                    "web:5",
                    "COMPLETED",
                    "1/1",
                    "0",
                    "0"
                ]),
        "{done}"
    );
    assert!(done.contains("match"), "{done}");
    assert!(done.contains("the rollout is complete"), "{done}");
    let old = render(
        "web",
        "prod",
        &state,
        None,
        Some("arn:aws:ecs:us-east-1:1:task-definition/web:5"),
        &[task(
            "a",
            "arn:aws:ecs:us-east-1:1:task-definition/web:4",
            "sha256:1",
            1,
        )],
    );
    assert!(old.contains("no_match: runs web:4"), "{old}");
    assert!(old.contains("not complete"), "{old}");
}

#[test]
fn ecs_s_service_deployment_is_shown_and_decides_completion() {
    let state = ServiceState {
        status: "ACTIVE".into(),
        desired_count: 1,
        deployments: vec![DeploymentState {
            id: "ecs-svc/1".into(),
            status: "PRIMARY".into(),
            task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:5".into(),
            rollout_state: Some("IN_PROGRESS".into()),
            running_count: 1,
            ..DeploymentState::default()
        }],
        ..ServiceState::default()
    };
    let record = |status: &str| ServiceDeploymentState {
        arn: "arn:aws:ecs:us-east-1:1:service-deployment/prod/web/sd1".into(),
        status: status.into(),
        lifecycle_stage: Some("BAKE_TIME".into()),
        ..ServiceDeploymentState::default()
    };
    let tasks = [task(
        "a",
        "arn:aws:ecs:us-east-1:1:task-definition/web:5",
        "sha256:1",
        1,
    )];
    let target = Some("arn:aws:ecs:us-east-1:1:task-definition/web:5");
    let baking = render(
        "web",
        "prod",
        &state,
        Some(&record("IN_PROGRESS")),
        target,
        &tasks,
    );
    assert!(
        baking.contains("service deployment arn:aws:ecs:us-east-1:1:service-deployment/prod/web/sd1: IN_PROGRESS at BAKE_TIME"),
        "{baking}"
    );
    assert!(baking.contains("the rollout is not complete"), "{baking}");
    let done = render(
        "web",
        "prod",
        &state,
        Some(&record("SUCCESSFUL")),
        target,
        &tasks,
    );
    assert!(done.contains("the rollout is complete"), "{done}");
}
