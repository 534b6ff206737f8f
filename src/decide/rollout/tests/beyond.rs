//! Table tests of what ECS's record adds beyond its verdict: the stages it waits at, its words, the
//! tasks' detail, when a rolling deployment looks settled, and redeploys.

use super::ecs::{ours, record, with_record};
use super::*;

#[test]
fn ecs_waits_on_its_own_schedule_at_hooks_bakes_and_traffic_stages() {
    let at = |stage: &str| ServiceDeploymentState {
        lifecycle_stage: Some(stage.into()),
        ..record("IN_PROGRESS")
    };
    let settled = || observe(2, vec![new_primary(Some("IN_PROGRESS"), 2)], vec![]);
    // (case, the record, what ECS waits for)
    let cases = [
        ("scaling up: ECS works on the tasks", at("SCALE_UP"), None),
        ("before scaling up", at("PRE_SCALE_UP"), None),
        ("baking", at("BAKE_TIME"), Some("its BAKE_TIME stage")),
        (
            "a traffic step",
            at("PRODUCTION_TRAFFIC_SHIFT"),
            Some("its PRODUCTION_TRAFFIC_SHIFT stage"),
        ),
        (
            "a paused hook, even while scaling up",
            ServiceDeploymentState {
                paused_hooks: vec!["approve".into()],
                ..at("PRE_SCALE_UP")
            },
            Some("lifecycle hook approve to be continued at PRE_SCALE_UP"),
        ),
        (
            "a Lambda hook running",
            ServiceDeploymentState {
                running_hooks: vec!["check".into()],
                ..at("POST_TEST_TRAFFIC_SHIFT")
            },
            Some("lifecycle hook check at POST_TEST_TRAFFIC_SHIFT"),
        ),
        (
            "ended: nothing to wait for",
            ServiceDeploymentState {
                lifecycle_stage: Some("BAKE_TIME".into()),
                ..record("SUCCESSFUL")
            },
            None,
        ),
    ];
    for (case, record, waits) in cases {
        assert_eq!(
            ecs_waits(&with_record(settled(), record), &ours()).as_deref(),
            waits,
            "{case}"
        );
    }
    // No record of the rollout's own: nothing is known to wait.
    assert_eq!(ecs_waits(&settled(), &ours()), None);
}

#[test]
fn the_tasks_add_detail_to_ecs_s_success_and_never_overturn_it() {
    let early = with_record(
        observe(
            4,
            vec![new_primary(Some("COMPLETED"), 2), old_active(2)],
            vec![
                task(NEW, "RUNNING", "HEALTHY"),
                task(NEW, "RUNNING", "HEALTHY"),
                task(OLD, "RUNNING", "HEALTHY"),
            ],
        ),
        record("SUCCESSFUL"),
    );
    assert_eq!(judge(&early, &ours(), &history()), Verdict::Done);
    assert!(needs_tasks(&early, &ours(), &history()));
    let detail = task_detail(&early, &ours(), &history()).expect("a shortfall");
    assert!(
        detail.contains("2 running and healthy on web:2, 4 desired"),
        "{detail}"
    );
    let all_in = with_record(
        observe(
            2,
            vec![new_primary(Some("COMPLETED"), 2)],
            vec![
                task(NEW, "RUNNING", "HEALTHY"),
                task(NEW, "RUNNING", "HEALTHY"),
            ],
        ),
        record("SUCCESSFUL"),
    );
    assert_eq!(task_detail(&all_in, &ours(), &history()), None);
}

#[test]
fn ecs_s_words_reach_the_verdict() {
    let ours = ours();
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
            "someone else's deployment took over",
            observe(
                2,
                vec![deployment(
                    "other",
                    "PRIMARY",
                    OTHER,
                    Some("IN_PROGRESS"),
                    0,
                )],
                vec![],
            ),
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

#[test]
fn a_newer_deployment_of_a_redeploy_s_revision_is_ecs_s_rollback_only_after_failed_tasks() {
    // A redeploy: the revision is the one the service ran, so there is no other to go back to.
    let redeploy = Goal {
        previous_task_definition: None,
        ..goal(&["web"])
    };
    let taken_over = || {
        ruled(
            observe(
                2,
                vec![deployment("later", "PRIMARY", NEW, Some("IN_PROGRESS"), 0)],
                vec![],
            ),
            ecs_rolls_back(),
        )
    };
    let cases = [
        (
            "someone's forced deployment of the same revision",
            false,
            false,
        ),
        ("after ECS counted failed tasks of the redeploy", true, true),
    ];
    for (name, failing, rolled_back) in cases {
        let known = History {
            failing,
            ..history()
        };
        let verdict = judge(&taken_over(), &redeploy, &known);
        let got = match verdict {
            Verdict::Failed(Failure::RolledBackByEcs { .. }) => true,
            Verdict::Failed(Failure::Superseded { .. }) => false,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(got, rolled_back, "{name}");
    }
}
