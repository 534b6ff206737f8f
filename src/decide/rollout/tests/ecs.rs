//! Table tests of the rollout judgement with ECS's own service deployment record, and of redeploys.

use super::*;
use crate::decide::service::ServiceDeploymentState;

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
