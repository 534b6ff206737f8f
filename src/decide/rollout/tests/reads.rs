//! Table tests of reads that are behind, the history a watch keeps, and rollbacks' health checks.

use super::*;
use crate::decide::service::DeploymentState;

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
            History::default(),
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
            "ECS's rollback, a new deployment after ours failed: rolled back for real",
            vec![deployment(
                "rollback",
                "PRIMARY",
                OLD,
                Some("IN_PROGRESS"),
                0,
            )],
            History {
                failed: true,
                ..history()
            },
            false,
        ),
        (
            "an older deployment PRIMARY again, changed after ours began: rolled back, not behind",
            vec![DeploymentState {
                updated_at_ms: Some(CREATED + 5),
                ..old_primary()
            }],
            history(),
            false,
        ),
        (
            "an older deployment PRIMARY, unchanged since before ours: a read behind",
            vec![DeploymentState {
                updated_at_ms: Some(CREATED - 5),
                ..old_primary()
            }],
            history(),
            true,
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
        failed: false,
        failing: false,
    };
    assert!(matches!(
        judge(&observation, &back, &known),
        Verdict::InProgress(_)
    ));
}
