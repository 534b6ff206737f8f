//! Table tests of the rollout judgement.

use super::*;
use crate::decide::service::ServiceDeploymentState;

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
        (
            "FAILED without rollback",
            observe(
                2,
                vec![new_primary(Some("FAILED"), 0), old_active(2)],
                vec![],
            ),
            goal(&["web"]),
            Failed,
        ),
        (
            "circuit breaker rolled back: the old revision is PRIMARY again",
            observe(
                2,
                vec![
                    deployment("rollback", "PRIMARY", OLD, Some("IN_PROGRESS"), 2),
                    deployment("new", "ACTIVE", NEW, Some("FAILED"), 0),
                ],
                vec![],
            ),
            goal(&["web"]),
            RolledBack,
        ),
        (
            "one deployment, running == desired, but it is the rollback",
            observe(
                2,
                vec![deployment("rollback", "PRIMARY", OLD, None, 2)],
                vec![
                    task(OLD, "RUNNING", "HEALTHY"),
                    task(OLD, "RUNNING", "HEALTHY"),
                ],
            ),
            goal(&["web"]),
            RolledBack,
        ),
        (
            "another update took over",
            observe(
                2,
                vec![
                    deployment("other", "PRIMARY", OTHER, Some("IN_PROGRESS"), 0),
                    deployment("new", "ACTIVE", NEW, Some("IN_PROGRESS"), 1),
                ],
                vec![],
            ),
            goal(&["web"]),
            Superseded,
        ),
        (
            "someone forced a new deployment of our revision: it is followed",
            observe(
                2,
                vec![
                    deployment("forced", "PRIMARY", NEW, Some("IN_PROGRESS"), 0),
                    deployment("new", "ACTIVE", NEW, Some("IN_PROGRESS"), 2),
                ],
                vec![],
            ),
            goal(&["web"]),
            InProgress,
        ),
        (
            "someone's new deployment of our revision completed",
            observe(
                2,
                vec![deployment("forced", "PRIMARY", NEW, Some("COMPLETED"), 2)],
                healthy_new(),
            ),
            goal(&["web"]),
            Done,
        ),
        (
            "service deleted",
            Observation {
                service: None,
                tasks: None,
                deployment: None,
            },
            goal(&["web"]),
            Gone,
        ),
        (
            "service draining",
            Observation {
                service: Some(ServiceState {
                    status: "DRAINING".into(),
                    ..Default::default()
                }),
                tasks: None,
                deployment: None,
            },
            goal(&["web"]),
            Gone,
        ),
        (
            "found by task definition when the deployment id is unknown",
            observe(2, vec![new_primary(Some("COMPLETED"), 2)], healthy_new()),
            Goal {
                deployment_id: None,
                ..goal(&["web"])
            },
            Done,
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
            true,
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

#[test]
fn a_read_behind_an_earlier_one_is_no_news() {
    let old_primary = || deployment("old", "PRIMARY", OLD, Some("COMPLETED"), 2);
    let created = |d: DeploymentState, at: i64| DeploymentState {
        created_at_ms: Some(at),
        ..d
    };
    let unseen = History {
        seen: None,
        ..history()
    };
    // (case, what the read shows, what is known, in progress or not)
    let cases: Vec<(&str, Vec<DeploymentState>, History, bool)> = vec![
        (
            "right after the update, a read from before it",
            vec![old_primary()],
            unseen.clone(),
            true,
        ),
        (
            "not yet listed, and the PRIMARY is one nobody knew of",
            vec![deployment("x", "PRIMARY", OTHER, Some("IN_PROGRESS"), 0)],
            History {
                seen: None,
                older: Default::default(),
            },
            true,
        ),
        (
            "listed before, then a read from before the update",
            vec![old_primary()],
            history(),
            true,
        ),
        (
            "a PRIMARY created before ours, which the read before the update missed",
            vec![created(
                deployment("x", "PRIMARY", OTHER, Some("COMPLETED"), 2),
                CREATED - 5,
            )],
            history(),
            true,
        ),
        (
            "a PRIMARY created after ours: superseded for real",
            vec![created(
                deployment("x", "PRIMARY", OTHER, Some("IN_PROGRESS"), 0),
                CREATED + 5,
            )],
            history(),
            false,
        ),
        (
            "ECS's rollback, a new deployment: rolled back for real",
            vec![deployment(
                "rollback",
                "PRIMARY",
                OLD,
                Some("IN_PROGRESS"),
                0,
            )],
            history(),
            false,
        ),
    ];
    for (name, deployments, history, in_progress) in cases {
        let verdict = judge(&observe(2, deployments, vec![]), &goal(&["web"]), &history);
        assert_eq!(
            matches!(verdict, Verdict::InProgress(_)),
            in_progress,
            "{name}: {verdict:?}"
        );
    }
}

#[test]
fn the_history_notes_the_deployment_once_a_read_lists_it() {
    let mut known = History {
        seen: None,
        ..history()
    };
    let goal = goal(&["web"]);
    remember(
        &mut known,
        &observe(2, vec![deployment("old", "PRIMARY", OLD, None, 2)], vec![]),
        &goal,
    );
    assert_eq!(known.seen, None);
    let ours = DeploymentState {
        created_at_ms: Some(CREATED),
        ..new_primary(Some("IN_PROGRESS"), 0)
    };
    remember(
        &mut known,
        &observe(2, vec![ours, old_active(2)], vec![]),
        &goal,
    );
    assert_eq!(known.seen, Some(("ecs-svc/new".into(), Some(CREATED))));
}

#[test]
fn a_rollback_is_judged_by_the_previous_revision_s_health_checks() {
    let rollout = goal(&["web"]);
    let back = rollout.rollback(Some("ecs-svc/rollback".into()), OLD.into());
    assert_eq!(back.health_checked, ["old-web".to_owned()].into());
    assert_eq!(back.previous_task_definition.as_deref(), Some(NEW));
    assert_eq!(back.deployment_id.as_deref(), Some("ecs-svc/rollback"));
    assert!(back.previous_health_checked.is_empty(), "never rolled back");
    // ECS went back somewhere else: those checks are not known.
    let elsewhere = rollout.rollback(None, OTHER.into());
    assert!(elsewhere.health_checked.is_empty());
    // A rollback task whose health-checked container is not HEALTHY yet does not count.
    let tasks = vec![TaskState {
        container_health: vec![("old-web".into(), "UNKNOWN".into())],
        ..task(OLD, "RUNNING", "HEALTHY")
    }];
    let observation = observe(
        1,
        vec![deployment("rollback", "PRIMARY", OLD, Some("COMPLETED"), 1)],
        tasks,
    );
    let known = History {
        seen: Some(("ecs-svc/rollback".into(), None)),
        older: ["ecs-svc/new".to_owned()].into(),
    };
    assert!(matches!(
        judge(&observation, &back, &known),
        Verdict::InProgress(_)
    ));
}

const SD: &str = "arn:aws:ecs:us-east-1:1:service-deployment/prod/web/sd1";

fn record(status: &str) -> ServiceDeploymentState {
    ServiceDeploymentState {
        arn: SD.into(),
        status: status.into(),
        lifecycle_stage: Some("BAKE_TIME".into()),
        ..ServiceDeploymentState::default()
    }
}

fn with_record(observation: Observation, record: ServiceDeploymentState) -> Observation {
    Observation {
        deployment: Some(record),
        ..observation
    }
}

#[test]
fn ecs_s_own_verdict_decides_and_the_tasks_still_count() {
    use Expect::*;
    let ours = Goal {
        service_deployment: Some(SD.into()),
        ..goal(&["web"])
    };
    let healthy = |td: &str| {
        vec![
            task(td, "RUNNING", "HEALTHY"),
            task(td, "RUNNING", "HEALTHY"),
        ]
    };
    let settled = || observe(2, vec![new_primary(Some("COMPLETED"), 2)], healthy(NEW));
    // A staged strategy's rollback: the old deployment, still running, is PRIMARY again.
    let old_again = || {
        observe(
            2,
            vec![
                deployment("old", "PRIMARY", OLD, Some("COMPLETED"), 2),
                deployment("new", "ACTIVE", NEW, Some("FAILED"), 0),
            ],
            healthy(OLD),
        )
    };
    let rollback_goal = ours.ecs_rollback(Some("ecs-svc/old".into()), OLD.into());
    let rollback_history = History {
        seen: Some(("ecs-svc/old".into(), None)),
        older: ["ecs-svc/new".to_owned()].into(),
    };
    let forward = history();
    let cases: Vec<(&str, Observation, &Goal, &History, Expect)> = vec![
        (
            "baking: the tasks are in, ECS is not done",
            with_record(settled(), record("IN_PROGRESS")),
            &ours,
            &forward,
            InProgress,
        ),
        (
            "SUCCESSFUL with the tasks in",
            with_record(settled(), record("SUCCESSFUL")),
            &ours,
            &forward,
            Done,
        ),
        (
            "SUCCESSFUL outranks a rollout state not yet COMPLETED",
            with_record(
                observe(2, vec![new_primary(Some("IN_PROGRESS"), 2)], healthy(NEW)),
                record("SUCCESSFUL"),
            ),
            &ours,
            &forward,
            Done,
        ),
        (
            "SUCCESSFUL while old tasks still run",
            with_record(
                observe(
                    2,
                    vec![new_primary(Some("COMPLETED"), 2)],
                    vec![
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(OLD, "RUNNING", "HEALTHY"),
                    ],
                ),
                record("SUCCESSFUL"),
            ),
            &ours,
            &forward,
            InProgress,
        ),
        (
            "paused at a hook",
            with_record(
                settled(),
                ServiceDeploymentState {
                    paused_hooks: vec!["approve".into()],
                    ..record("IN_PROGRESS")
                },
            ),
            &ours,
            &forward,
            InProgress,
        ),
        (
            "rolling back, the old deployment PRIMARY again",
            with_record(old_again(), record("ROLLBACK_IN_PROGRESS")),
            &ours,
            &forward,
            RolledBack,
        ),
        (
            "rolled back",
            with_record(old_again(), record("ROLLBACK_SUCCESSFUL")),
            &ours,
            &forward,
            RolledBack,
        ),
        (
            "rolling back, the read still shows ours PRIMARY",
            with_record(settled(), record("ROLLBACK_IN_PROGRESS")),
            &ours,
            &forward,
            InProgress,
        ),
        (
            "ECS's rollback failed",
            with_record(old_again(), record("ROLLBACK_FAILED")),
            &ours,
            &forward,
            RollbackFailed,
        ),
        (
            "stopped with the deployment FAILED",
            with_record(
                observe(2, vec![new_primary(Some("FAILED"), 0)], vec![]),
                record("STOPPED"),
            ),
            &ours,
            &forward,
            Failed,
        ),
        (
            "stopped: replaced by someone else's revision",
            with_record(
                observe(
                    2,
                    vec![
                        deployment("other", "PRIMARY", OTHER, Some("IN_PROGRESS"), 0),
                        deployment("new", "ACTIVE", NEW, Some("IN_PROGRESS"), 2),
                    ],
                    vec![],
                ),
                record("STOPPED"),
            ),
            &ours,
            &forward,
            Superseded,
        ),
        (
            "stopped: replaced by a new deployment of our own revision, which completed",
            with_record(
                observe(
                    2,
                    vec![deployment("forced", "PRIMARY", NEW, Some("COMPLETED"), 2)],
                    healthy(NEW),
                ),
                record("STOPPED"),
            ),
            &ours,
            &forward,
            Done,
        ),
        (
            "stopped, the read not showing why yet",
            with_record(
                observe(2, vec![new_primary(Some("IN_PROGRESS"), 1)], vec![]),
                record("STOPPED"),
            ),
            &ours,
            &forward,
            InProgress,
        ),
        (
            "another service deployment's record is not ours",
            with_record(
                settled(),
                ServiceDeploymentState {
                    arn: "arn:other".into(),
                    ..record("IN_PROGRESS")
                },
            ),
            &ours,
            &forward,
            Done,
        ),
        (
            "the service is gone whatever the record says",
            with_record(
                Observation {
                    service: None,
                    tasks: None,
                    deployment: None,
                },
                record("IN_PROGRESS"),
            ),
            &ours,
            &forward,
            Gone,
        ),
        (
            "ECS's rollback in progress",
            with_record(old_again(), record("ROLLBACK_IN_PROGRESS")),
            &rollback_goal,
            &rollback_history,
            InProgress,
        ),
        (
            "ECS's rollback done",
            with_record(old_again(), record("ROLLBACK_SUCCESSFUL")),
            &rollback_goal,
            &rollback_history,
            Done,
        ),
        (
            "ECS's rollback failed, watched",
            with_record(old_again(), record("ROLLBACK_FAILED")),
            &rollback_goal,
            &rollback_history,
            RollbackFailed,
        ),
    ];
    for (name, observation, goal, history, expected) in cases {
        let verdict = judge(&observation, goal, history);
        assert_eq!(expect(&verdict), expected, "{name}: {verdict:?}");
        let reads_tasks = needs_tasks(&observation, goal, history);
        if expected == Done {
            assert!(reads_tasks, "{name}: done only with the tasks read");
        }
    }
}

#[test]
fn ecs_s_words_reach_the_verdict() {
    let ours = Goal {
        service_deployment: Some(SD.into()),
        ..goal(&["web"])
    };
    let paused = with_record(
        observe(2, vec![new_primary(Some("IN_PROGRESS"), 2)], vec![]),
        ServiceDeploymentState {
            paused_hooks: vec!["approve".into()],
            lifecycle_stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
            ..record("IN_PROGRESS")
        },
    );
    let Verdict::InProgress(progress) = judge(&paused, &ours, &history()) else {
        panic!("paused is in progress");
    };
    assert!(
        progress.contains("POST_TEST_TRAFFIC_SHIFT") && progress.contains("approve"),
        "{progress}"
    );
    let rolled_back = with_record(
        observe(
            2,
            vec![deployment("old", "PRIMARY", OLD, Some("COMPLETED"), 2)],
            vec![],
        ),
        ServiceDeploymentState {
            rollback_reason: Some("ECS deployment alarms: 5xx in ALARM state.".into()),
            triggered_alarms: vec!["5xx".into()],
            ..record("ROLLBACK_IN_PROGRESS")
        },
    );
    match judge(&rolled_back, &ours, &history()) {
        Verdict::Failed(failure @ Failure::RolledBackByEcs { .. }) => {
            let reason = failure.reason();
            assert!(
                reason.contains("5xx in ALARM state") && reason.contains("alarms in ALARM: 5xx"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_rolling_deployment_looks_settled_only_at_its_end() {
    let cases = [
        (
            "rolling out",
            observe(
                2,
                vec![new_primary(Some("IN_PROGRESS"), 1), old_active(1)],
                vec![],
            ),
            false,
        ),
        (
            "completed by ECS's counts",
            observe(2, vec![new_primary(Some("COMPLETED"), 2)], vec![]),
            true,
        ),
        (
            "failed",
            observe(2, vec![new_primary(Some("FAILED"), 0)], vec![]),
            true,
        ),
        (
            "rolled back",
            observe(
                2,
                vec![
                    deployment("back", "PRIMARY", OLD, Some("IN_PROGRESS"), 0),
                    deployment("new", "ACTIVE", NEW, Some("FAILED"), 0),
                ],
                vec![],
            ),
            true,
        ),
    ];
    for (name, observation, settled) in cases {
        assert_eq!(
            looks_settled(&observation, &goal(&["web"]), &history()),
            settled,
            "{name}"
        );
    }
}

#[test]
fn a_redeploy_is_done_only_once_every_task_is_its_own() {
    let redeploy = Goal {
        fresh_tasks: true,
        previous_task_definition: None,
        ..goal(&["web"])
    };
    let started_by = |by: &str| TaskState {
        started_by: Some(by.into()),
        ..task(NEW, "RUNNING", "HEALTHY")
    };
    let done = |tasks: Vec<TaskState>| {
        judge(
            &observe(2, vec![new_primary(Some("COMPLETED"), 2)], tasks),
            &redeploy,
            &history(),
        )
    };
    assert_eq!(
        done(vec![started_by("ecs-svc/new"), started_by("ecs-svc/new")]),
        Verdict::Done
    );
    let Verdict::InProgress(progress) =
        done(vec![started_by("ecs-svc/new"), started_by("ecs-svc/old")])
    else {
        panic!("an old task of the same revision still runs");
    };
    assert!(
        progress.contains("1 not started by this deployment"),
        "{progress}"
    );
    // Without the flag, any task of the revision counts.
    assert_eq!(
        judge(
            &observe(
                2,
                vec![new_primary(Some("COMPLETED"), 2)],
                vec![started_by("ecs-svc/new"), started_by("ecs-svc/old")]
            ),
            &goal(&["web"]),
            &history(),
        ),
        Verdict::Done
    );
}
