//! Table tests of the rollout judgement without ECS's record: by the service's deployments and tasks.

use super::*;
use crate::decide::names::short_arn;
use crate::decide::service::{DeploymentState, Rules};

const OLD: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:1";
const NEW: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:2";
const OTHER: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:3";

fn goal(health_checked: &[&str]) -> Goal {
    Goal {
        deployment_id: Some("ecs-svc/new".into()),
        task_definition: NEW.into(),
        previous_task_definition: Some(OLD.into()),
        health_checked: health_checked.iter().map(|s| s.to_string()).collect(),
        previous_health_checked: ["old-web".to_owned()].into(),
        service_deployment: None,
        ecs_rolls_back: false,
        fresh_tasks: false,
    }
}

/// `observation` of a service whose deployment configuration says `rules`.
fn ruled(mut observation: Observation, rules: Rules) -> Observation {
    if let Some(service) = &mut observation.service {
        service.rules = rules;
    }
    observation
}

/// ECS rolls failed deployments back (the circuit breaker's `rollback`).
fn ecs_rolls_back() -> Rules {
    Rules {
        ecs_rolls_back: true,
        ..Rules::default()
    }
}

fn deployment(
    id: &str,
    status: &str,
    td: &str,
    rollout: Option<&str>,
    running: i32,
) -> DeploymentState {
    DeploymentState {
        id: format!("ecs-svc/{id}"),
        status: status.into(),
        task_definition: td.into(),
        rollout_state: rollout.map(str::to_owned),
        rollout_state_reason: rollout.map(|r| format!("rollout {r}")),
        running_count: running,
        pending_count: 0,
        failed_tasks: 0,
        created_at_ms: None,
        updated_at_ms: None,
    }
}

fn task(td: &str, status: &str, health: &str) -> TaskState {
    TaskState {
        arn: "arn:aws:ecs:us-east-1:1:task/default/t".into(),
        task_definition: td.into(),
        last_status: status.into(),
        container_health: vec![
            ("web".into(), health.into()),
            ("log".into(), "UNKNOWN".into()),
        ],
        started_by: Some("ecs-svc/new".into()),
        health: None,
    }
}

fn observe(desired: i32, deployments: Vec<DeploymentState>, tasks: Vec<TaskState>) -> Observation {
    Observation {
        service: Some(ServiceState {
            status: "ACTIVE".into(),
            desired_count: desired,
            deployments,
            deployment_controller: None,
            ..ServiceState::default()
        }),
        tasks: Some(tasks),
        deployment: None,
    }
}

fn new_primary(rollout: Option<&str>, running: i32) -> DeploymentState {
    deployment("new", "PRIMARY", NEW, rollout, running)
}

fn old_active(running: i32) -> DeploymentState {
    deployment("old", "ACTIVE", OLD, Some("COMPLETED"), running)
}

/// When the goal's deployment was created, in the tests.
const CREATED: i64 = 1_000_000;

/// A rollout whose deployment UpdateService listed, started while `ecs-svc/old` was the service's.
fn history() -> History {
    History {
        seen: Some(("ecs-svc/new".into(), Some(CREATED))),
        older: ["ecs-svc/old".to_owned()].into(),
        failed: false,
        failing: false,
    }
}

#[derive(Debug, PartialEq)]
enum Expect {
    InProgress,
    Done,
    Gone,
    Failed,
    RolledBack,
    Superseded,
    RollbackFailed,
}

fn expect(verdict: &Verdict) -> Expect {
    match verdict {
        Verdict::InProgress(_) => Expect::InProgress,
        Verdict::Done => Expect::Done,
        Verdict::Failed(Failure::ServiceGone(_)) => Expect::Gone,
        Verdict::Failed(Failure::DeploymentFailed(_)) => Expect::Failed,
        Verdict::Failed(Failure::RolledBackByEcs { .. }) => Expect::RolledBack,
        Verdict::Failed(Failure::Superseded { .. }) => Expect::Superseded,
        Verdict::Failed(Failure::EcsRollbackFailed(_)) => Expect::RollbackFailed,
    }
}

#[test]
fn verdicts() {
    use Expect::*;
    let healthy_new = || {
        vec![
            task(NEW, "RUNNING", "HEALTHY"),
            task(NEW, "RUNNING", "HEALTHY"),
        ]
    };
    let cases: Vec<(&str, Observation, Goal, Expect)> = vec![
        (
            "COMPLETED with all tasks on the new revision, healthy",
            observe(2, vec![new_primary(Some("COMPLETED"), 2)], healthy_new()),
            goal(&["web"]),
            Done,
        ),
        (
            "COMPLETED but an old task still running",
            observe(2, vec![new_primary(Some("COMPLETED"), 2)], {
                let mut t = healthy_new();
                t.push(task(OLD, "RUNNING", "HEALTHY"));
                t
            }),
            goal(&["web"]),
            InProgress,
        ),
        (
            "COMPLETED but a health-checked container not yet healthy",
            observe(
                2,
                vec![new_primary(Some("COMPLETED"), 2)],
                vec![
                    task(NEW, "RUNNING", "HEALTHY"),
                    task(NEW, "RUNNING", "UNKNOWN"),
                ],
            ),
            goal(&["web"]),
            InProgress,
        ),
        (
            "no health check: RUNNING is enough",
            observe(
                2,
                vec![new_primary(Some("COMPLETED"), 2)],
                vec![
                    task(NEW, "RUNNING", "UNKNOWN"),
                    task(NEW, "RUNNING", "UNKNOWN"),
                ],
            ),
            goal(&[]),
            Done,
        ),
        (
            "COMPLETED but fewer running tasks than desired",
            observe(
                2,
                vec![new_primary(Some("COMPLETED"), 1)],
                vec![
                    task(NEW, "RUNNING", "HEALTHY"),
                    task(NEW, "PENDING", "UNKNOWN"),
                ],
            ),
            goal(&["web"]),
            InProgress,
        ),
        (
            "one new task RUNNING is not done (the old script's mistake)",
            observe(
                2,
                vec![new_primary(Some("IN_PROGRESS"), 1), old_active(2)],
                vec![
                    task(NEW, "RUNNING", "HEALTHY"),
                    task(OLD, "RUNNING", "HEALTHY"),
                    task(OLD, "RUNNING", "HEALTHY"),
                ],
            ),
            goal(&["web"]),
            InProgress,
        ),
        (
            "IN_PROGRESS with every task already new waits for ECS",
            observe(2, vec![new_primary(Some("IN_PROGRESS"), 2)], healthy_new()),
            goal(&["web"]),
            InProgress,
        ),
        (
            "desiredCount 0 is done once nothing else runs",
            observe(0, vec![new_primary(Some("IN_PROGRESS"), 0)], vec![]),
            goal(&["web"]),
            Done,
        ),
        (
            "no rolloutState: one deployment, ours, running == desired",
            observe(2, vec![new_primary(None, 2)], healthy_new()),
            goal(&["web"]),
            Done,
        ),
        (
            "no rolloutState: two deployments is not done",
            observe(2, vec![new_primary(None, 2), old_active(0)], healthy_new()),
            goal(&["web"]),
            InProgress,
        ),
        (
            "no rolloutState: pending tasks is not done",
            observe(
                2,
                vec![DeploymentState {
                    pending_count: 1,
                    ..new_primary(None, 2)
                }],
                healthy_new(),
            ),
            goal(&["web"]),
            InProgress,
        ),
    ];
    for (name, observation, goal, expected) in cases {
        let verdict = judge(&observation, &goal, &history());
        assert_eq!(expect(&verdict), expected, "{name}: {verdict:?}");
    }
}

#[test]
fn progress_and_reasons_are_readable() {
    let obs = observe(
        3,
        vec![new_primary(Some("IN_PROGRESS"), 1), old_active(3)],
        vec![
            task(NEW, "RUNNING", "HEALTHY"),
            task(OLD, "RUNNING", "HEALTHY"),
        ],
    );
    assert_eq!(
        judge(&obs, &goal(&["web"]), &history()),
        Verdict::InProgress(
            "1 running and healthy on web:2, 3 desired, 1 on other task definitions, rollout IN_PROGRESS".into()
        )
    );
    let superseded = Failure::Superseded {
        by_deployment: None,
        by_task_definition: OTHER.into(),
    };
    assert!(
        superseded.reason().contains("web:3"),
        "{}",
        superseded.reason()
    );
    assert_eq!(short_arn("web:7"), "web:7");
}

#[test]
fn tasks_are_read_only_once_ecs_says_the_deployment_is_done() {
    // (case, deployments, tasks needed)
    let cases = [
        (
            "in progress",
            vec![new_primary(Some("IN_PROGRESS"), 1), old_active(2)],
            false,
        ),
        ("completed", vec![new_primary(Some("COMPLETED"), 2)], true),
        (
            "failed",
            vec![deployment("new", "PRIMARY", NEW, Some("FAILED"), 0)],
            false,
        ),
        (
            "another deployment is primary",
            vec![deployment("other", "PRIMARY", OTHER, Some("COMPLETED"), 2)],
            false,
        ),
        (
            "someone's new deployment of our revision completed",
            vec![deployment("forced", "PRIMARY", NEW, Some("COMPLETED"), 2)],
            false,
        ),
        (
            "no rollout state, settled",
            vec![new_primary(None, 2)],
            true,
        ),
    ];
    for (name, deployments, needed) in cases {
        let obs = observe(2, deployments, vec![]);
        assert_eq!(
            needs_tasks(&obs, &goal(&["web"]), &history()),
            needed,
            "{name}"
        );
    }
    let unread = Observation {
        tasks: None,
        ..observe(2, vec![new_primary(Some("COMPLETED"), 2)], vec![])
    };
    assert_eq!(
        judge(&unread, &goal(&["web"]), &history()),
        Verdict::InProgress("2 of 2 running on web:2 (ECS's count), rollout COMPLETED".into())
    );
}

mod beyond;
mod ecs;
mod ends;
mod reads;
