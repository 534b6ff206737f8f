//! Table tests of the rollout judgement with ECS's own service deployment record, and of redeploys.

use super::*;
use crate::decide::service::ServiceDeploymentState;

const SD: &str = "arn:aws:ecs:us-east-1:1:service-deployment/prod/web/sd1";

pub(super) fn record(status: &str) -> ServiceDeploymentState {
    ServiceDeploymentState {
        arn: SD.into(),
        status: status.into(),
        lifecycle_stage: Some("BAKE_TIME".into()),
        ..ServiceDeploymentState::default()
    }
}

pub(super) fn with_record(observation: Observation, record: ServiceDeploymentState) -> Observation {
    Observation {
        deployment: Some(record),
        ..observation
    }
}

/// `observation` of a service whose current service deployment is `arn`.
fn current(mut observation: Observation, arn: &str) -> Observation {
    if let Some(service) = &mut observation.service {
        service.current_service_deployment = Some(arn.into());
    }
    observation
}

/// The goal whose record is [`SD`], deploying the new revision.
pub(super) fn ours() -> Goal {
    Goal {
        service_deployment: Some(RecordOf {
            arn: SD.into(),
            task_definition: NEW.into(),
        }),
        ..goal(&["web"])
    }
}

#[test]
fn ecs_s_own_verdict_decides_and_the_tasks_still_count() {
    use Expect::*;
    let ours = ours();
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
        failed: false,
        failing: false,
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
            "SUCCESSFUL while old tasks still run: ECS's verdict stands (early success)",
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
            Done,
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
            RolledBack,
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
                current(
                    observe(
                        2,
                        vec![
                            deployment("other", "PRIMARY", OTHER, Some("IN_PROGRESS"), 0),
                            deployment("new", "ACTIVE", NEW, Some("IN_PROGRESS"), 2),
                        ],
                        vec![],
                    ),
                    "arn:aws:ecs:us-east-1:1:service-deployment/prod/web/sd2",
                ),
                record("STOPPED"),
            ),
            &ours,
            &forward,
            Superseded,
        ),
        (
            "stopped: replaced by someone's new deployment of our own revision: not ours",
            with_record(
                current(
                    observe(
                        2,
                        vec![deployment("forced", "PRIMARY", NEW, Some("COMPLETED"), 2)],
                        healthy(NEW),
                    ),
                    "arn:aws:ecs:us-east-1:1:service-deployment/prod/web/sd2",
                ),
                record("STOPPED"),
            ),
            &ours,
            &forward,
            Superseded,
        ),
        (
            "stop requested, and still the service's current one: ECS stops it, a failure",
            with_record(
                current(observe(2, vec![new_primary(Some("FAILED"), 1)], vec![]), SD),
                record("STOP_REQUESTED"),
            ),
            &ours,
            &forward,
            Failed,
        ),
        (
            "a record that deploys another revision is not ours",
            with_record(
                observe(2, vec![new_primary(Some("IN_PROGRESS"), 1)], vec![]),
                ServiceDeploymentState {
                    target_task_definition: Some(OTHER.into()),
                    ..record("SUCCESSFUL")
                },
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
    }
}
