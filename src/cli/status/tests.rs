//! Tests of the status view: tasks matched against the target, and whether the rollout is complete.

use super::*;
use crate::decide::service::DeploymentState;

fn unknown_digest(mut row: TaskRow) -> TaskRow {
    for image in &mut row.images {
        image.digest = None;
    }
    row
}

fn task(id: &str, td: &str, digest: &str, started: i64) -> TaskRow {
    TaskRow {
        id: id.into(),
        task_definition: td.into(),
        last_status: "RUNNING".into(),
        health: "HEALTHY".into(),
        images: vec![RunningImage {
            task: id.into(),
            container: "app".into(),
            image: "app:1".into(),
            digest: Some(digest.into()),
        }],
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
        unknown_digest(task(
            "d",
            "arn:aws:ecs:us-east-1:1:task-definition/web:5",
            "",
            15,
        )),
    ];
    let marks = match_tasks(
        "arn:aws:ecs:us-east-1:1:task-definition/web:5",
        &tasks,
        &BTreeMap::new(),
    );
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
            updated_at_ms: None,
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
        &BTreeMap::new(),
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
        &BTreeMap::new(),
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
        &BTreeMap::new(),
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
        &BTreeMap::new(),
    );
    assert!(done.contains("the rollout is complete"), "{done}");
}

#[test]
fn a_moved_ecr_tag_makes_every_task_on_the_old_digest_no_match() {
    let prod = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:prod";
    let target = "arn:aws:ecs:us-east-1:1:task-definition/web:5";
    let on = |id: &str, digest: &str| {
        let mut row = task(id, target, digest, 10);
        row.images[0].image = prod.into();
        row
    };
    let tasks = [on("a", "sha256:old"), on("b", "sha256:old")];
    // Without ECR's answer, both run what the newest task runs: match.
    assert_eq!(
        match_tasks(target, &tasks, &BTreeMap::new()),
        [Match::Match, Match::Match]
    );
    // ECR says the tag points elsewhere now: no_match, naming the tag's digest.
    let moved = BTreeMap::from([(prod.to_owned(), Resolved::Digest("sha256:new".into()))]);
    let marks = match_tasks(target, &tasks, &moved);
    for mark in &marks {
        assert!(
            matches!(mark, Match::NoMatch(why) if why.contains("app runs sha256:old") && why.contains("points to sha256:new")),
            "{mark:?}"
        );
    }
    let replaced = [on("c", "sha256:new"), on("d", "sha256:new")];
    assert_eq!(
        match_tasks(target, &replaced, &moved),
        [Match::Match, Match::Match]
    );
    let view = render(
        "web",
        "default",
        &ServiceState {
            status: "ACTIVE".into(),
            desired_count: 2,
            ..ServiceState::default()
        },
        None,
        Some(target),
        &tasks,
        &moved,
    );
    assert!(
        view.contains(&format!("in ECR now: {prod} -> sha256:new")),
        "{view}"
    );
    assert!(view.contains("no_match"), "{view}");
}
