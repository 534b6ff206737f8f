//! Tests of following a sent message: the service's verdict, replies read back.

use super::*;

fn deployment(status: &str, td: &str, rollout: Option<&str>, running: i32) -> DeploymentState {
    DeploymentState {
        id: format!("ecs-svc/{td}"),
        status: status.into(),
        task_definition: td.into(),
        rollout_state: rollout.map(str::to_owned),
        rollout_state_reason: rollout.map(|r| format!("{r} reason")),
        running_count: running,
        pending_count: 0,
        failed_tasks: 0,
        created_at_ms: None,
    }
}

fn state(deployments: Vec<DeploymentState>) -> ServiceState {
    ServiceState {
        status: "ACTIVE".into(),
        desired_count: 2,
        deployments,
        deployment_controller: None,
        ..ServiceState::default()
    }
}

#[test]
fn the_service_shows_how_a_deployment_went() {
    let cases = [
        (
            state(vec![deployment("PRIMARY", "web:5", Some("IN_PROGRESS"), 1)]),
            false,
            "in progress",
        ),
        (
            state(vec![deployment("PRIMARY", "web:5", Some("COMPLETED"), 2)]),
            false,
            "deployed",
        ),
        (
            state(vec![deployment("PRIMARY", "web:5", None, 2)]),
            false,
            "deployed",
        ),
        (
            state(vec![
                deployment("PRIMARY", "web:5", None, 2),
                deployment("ACTIVE", "web:4", None, 1),
            ]),
            false,
            "in progress",
        ),
        (
            state(vec![deployment("PRIMARY", "web:5", Some("FAILED"), 0)]),
            true,
            "not deployed",
        ),
        (
            state(vec![deployment("PRIMARY", "web:4", Some("COMPLETED"), 2)]),
            true,
            "not deployed",
        ),
        (
            state(vec![deployment("PRIMARY", "web:4", Some("COMPLETED"), 2)]),
            false,
            "in progress",
        ),
    ];
    for (state, seen, expected) in cases {
        let judged = match judge_service(&state, "web:5", seen, None) {
            Seen::InProgress => "in progress",
            Seen::Deployed => "deployed",
            Seen::NotDeployed(_) => "not deployed",
        };
        assert_eq!(judged, expected, "{state:?} seen={seen}");
    }
    let mut gone = state(vec![]);
    gone.status = "DRAINING".into();
    assert!(matches!(
        judge_service(&gone, "web:5", false, None),
        Seen::NotDeployed(_)
    ));
}

#[test]
fn ecs_s_verdict_outranks_the_rollout_state() {
    let completed = state(vec![deployment("PRIMARY", "web:5", Some("COMPLETED"), 2)]);
    let in_progress = state(vec![deployment("PRIMARY", "web:5", Some("IN_PROGRESS"), 2)]);
    let went_back = state(vec![deployment("PRIMARY", "web:4", Some("COMPLETED"), 2)]);
    let baking = EcsVerdict::Going("IN_PROGRESS at BAKE_TIME".into());
    let paused = EcsVerdict::Paused {
        hooks: vec!["approve".into()],
        stage: "POST_TEST_TRAFFIC_SHIFT".into(),
    };
    let rolled_back = EcsVerdict::RolledBack("alarm".into());
    let cases = [
        (&completed, &baking, "in progress"),
        (&completed, &paused, "in progress"),
        (&in_progress, &EcsVerdict::Succeeded, "deployed"),
        (&went_back, &rolled_back, "not deployed"),
        (
            &completed,
            &EcsVerdict::Stopped("replaced".into()),
            "deployed",
        ),
    ];
    for (state, ecs, expected) in cases {
        let judged = match judge_service(state, "web:5", true, Some(ecs)) {
            Seen::InProgress => "in progress",
            Seen::Deployed => "deployed",
            Seen::NotDeployed(_) => "not deployed",
        };
        assert_eq!(judged, expected, "{ecs:?}");
    }
}

#[test]
fn replies_read_back_as_notices() {
    let text = r#"{"event":"finished","message_id":"m","service":"web","cluster":"c",
        "previous_task_definition":null,"new_task_definition":"x/web:5","commit_url":null,
        "outcome":"deployed","success":true,"rollback":null,"reason":null,"duration_ms":1000,
        "received_at":"2026-01-01T00:00:00Z","at":"2026-01-01T00:00:01Z"}"#;
    let notice: Notice = serde_json::from_str(text).expect("a reply");
    assert_eq!(outcome(&notice), Ok(EXIT_OK));
    let failed = Notice {
        success: Some(false),
        outcome: Some("failed".into()),
        reason: Some("crashed".into()),
        ..notice
    };
    let err = outcome(&failed).expect_err("failed");
    assert_eq!(err.exit, crate::cli::exit::EXIT_NO);
    assert!(err.message.contains("crashed"));
}
