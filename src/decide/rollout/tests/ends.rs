//! Table tests of how a rollout ends without ECS's record: failed, rolled back by ECS, superseded, done
//! early, or its service gone.

use super::*;

#[test]
fn how_rollouts_end() {
    use Expect::*;
    let healthy_new = || {
        vec![
            task(NEW, "RUNNING", "HEALTHY"),
            task(NEW, "RUNNING", "HEALTHY"),
        ]
    };
    let cases: Vec<(&str, Observation, Goal, Expect)> = vec![
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
            "FAILED, and ECS rolls back: its rollback is waited for, not started again",
            ruled(
                observe(
                    2,
                    vec![new_primary(Some("FAILED"), 0), old_active(2)],
                    vec![],
                ),
                ecs_rolls_back(),
            ),
            goal(&["web"]),
            InProgress,
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
            "one deployment back on the previous revision, ECS rolling back failures: its rollback",
            ruled(
                observe(
                    2,
                    vec![deployment("rollback", "PRIMARY", OLD, None, 2)],
                    vec![
                        task(OLD, "RUNNING", "HEALTHY"),
                        task(OLD, "RUNNING", "HEALTHY"),
                    ],
                ),
                ecs_rolls_back(),
            ),
            goal(&["web"]),
            RolledBack,
        ),
        (
            "one deployment back on the previous revision, ECS rolling nothing back: someone else's",
            observe(
                2,
                vec![deployment("rollback", "PRIMARY", OLD, None, 2)],
                vec![],
            ),
            goal(&["web"]),
            Superseded,
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
            "someone forced a new deployment of our revision: it is not ours",
            observe(
                2,
                vec![
                    deployment("forced", "PRIMARY", NEW, Some("IN_PROGRESS"), 0),
                    deployment("new", "ACTIVE", NEW, Some("IN_PROGRESS"), 2),
                ],
                vec![],
            ),
            goal(&["web"]),
            Superseded,
        ),
        (
            "ECS's rollback of a failed redeploy runs the same revision: rolled back, never done",
            observe(
                2,
                vec![
                    deployment("rollback", "PRIMARY", NEW, Some("COMPLETED"), 2),
                    deployment("new", "ACTIVE", NEW, Some("FAILED"), 0),
                ],
                healthy_new(),
            ),
            Goal {
                previous_task_definition: None,
                fresh_tasks: true,
                ..goal(&["web"])
            },
            RolledBack,
        ),
        (
            "early success, DEFERRED: half the tasks healthy and old ones still running is done",
            ruled(
                observe(
                    4,
                    vec![new_primary(Some("COMPLETED"), 2), old_active(2)],
                    vec![
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(OLD, "RUNNING", "HEALTHY"),
                        task(OLD, "RUNNING", "HEALTHY"),
                    ],
                ),
                Rules {
                    early_success: Some((50, true)),
                    ..Rules::default()
                },
            ),
            goal(&["web"]),
            Done,
        ),
        (
            "early success, BLOCKING: not done while old tasks run",
            ruled(
                observe(
                    4,
                    vec![new_primary(Some("COMPLETED"), 2), old_active(2)],
                    vec![
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(OLD, "RUNNING", "HEALTHY"),
                    ],
                ),
                Rules {
                    early_success: Some((50, false)),
                    ..Rules::default()
                },
            ),
            goal(&["web"]),
            InProgress,
        ),
        (
            "the task's own health decides, whatever a container that does not decide it says",
            observe(
                2,
                vec![new_primary(Some("COMPLETED"), 2)],
                vec![
                    TaskState {
                        health: Some("HEALTHY".into()),
                        container_health: vec![
                            ("web".into(), "HEALTHY".into()),
                            ("sidecar".into(), "UNHEALTHY".into()),
                        ],
                        ..task(NEW, "RUNNING", "HEALTHY")
                    };
                    2
                ],
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
