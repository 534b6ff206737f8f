//! End to end: `run` messages: a one-off task of the service's revision with a command, waited for to its
//! end and judged by its essential containers' exit codes, leaving the service as it was.

mod common;

use common::{Bed, short};
use ecs_deployment::decide::outcome::{Disposition, Outcome, Rollback};
use serde_json::json;

/// A `run` message for service `web`: `command` in its container `app`.
fn run_body(command: &[&str]) -> String {
    json!({"container": "app", "command": command}).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_off_task_runs_on_the_service_s_revision_and_its_exit_code_decides() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    let ok = bed
        .send(
            &run_body(&["ecs-sim-exit", "0"]),
            &[("service", "web"), ("action", "run")],
        )
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.message_id, ok);
    assert_eq!(report.outcome, Outcome::Ran, "{report:?}");
    assert_eq!(
        report.new_task_definition.as_deref().map(short),
        Some("web:1"),
        "the revision the service runs"
    );

    bed.send(
        &run_body(&["ecs-sim-exit", "3"]),
        &[("service", "web"), ("action", "run")],
    )
    .await;
    let report = worker.next_report().await;
    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("a non-zero exit fails: {report:?}");
    };
    assert!(
        reason.contains("container app exited with code 3")
            && reason.contains("Essential container in task exited"),
        "{reason}"
    );
    assert!(matches!(rollback, Rollback::NotPossible(_)), "{rollback:?}");
    assert_eq!(report.disposition, Disposition::Delete);

    // Two one-off tasks, each started by the worker, and the service untouched.
    let stopped = bed.bed.sim.call(
        "ListTasks",
        &json!({"startedBy": "ecs-deployment", "desiredStatus": "STOPPED"}),
    );
    assert_eq!(
        stopped["taskArns"].as_array().map(Vec::len),
        Some(2),
        "{stopped}"
    );
    assert_eq!(bed.bed.sim.calls("RunTask"), 2);
    assert_eq!(bed.bed.sim.calls("UpdateService"), 0);
    assert_eq!(bed.running_revisions("web").await, ["web:1", "web:1"]);
    assert_eq!(bed.revisions("web"), 1, "nothing registered");
    let service = bed.describe("web").await.expect("web");
    assert_eq!(service.task_definition(), Some(v1.as_str()));
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_naming_what_the_revision_lacks_is_rejected_before_any_task() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.service("api", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));
    for (body, attributes, says) in [
        (
            json!({"container": "worker", "command": ["x"]}).to_string(),
            vec![("service", "web"), ("action", "run")],
            "member 'container' (worker) is not a container of web:1",
        ),
        (
            run_body(&["x"]),
            vec![("service", "web"), ("action", "run"), ("revision", "api:1")],
            "message attribute 'revision' (api:1) is not of the family service web runs",
        ),
        (
            json!({"container": "app"}).to_string(),
            vec![("service", "web"), ("action", "run")],
            "member 'command'",
        ),
    ] {
        bed.send(&body, &attributes).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("{says}: {report:?}");
        };
        assert!(reason.contains(says), "{reason} should say {says}");
    }
    assert_eq!(bed.bed.sim.calls("RunTask"), 0);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn send_action_run_sends_a_one_off_task_and_follows_it() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    let body = common::cli::file("run.json", &run_body(&["ecs-sim-exit", "0"]));
    let run = bed
        .waiting(&[
            "send",
            "--service",
            "web",
            "--action",
            "run",
            "--reply-to",
            &replies,
            &body,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains("run service web"), "{run:#?}");
    assert_eq!(worker.next_report().await.outcome, Outcome::Ran);

    // The same with the command on the command line, after `--`; its exit code is the outcome's.
    let run = bed
        .cli(
            &[
                "send",
                "--service",
                "web",
                "--run",
                "--container",
                "app",
                "--reply-to",
                &replies,
                "--wait",
                "--timeout",
                "60s",
                "--poll-interval",
                "200ms",
                "--",
                "ecs-sim-exit",
                "4",
            ],
            None,
        )
        .await;
    assert_eq!(run.code, 1, "the task failed: {run:#?}");
    assert!(
        run.stderr.contains("exited with code 4") || run.stdout.contains("exited with code 4"),
        "{run:#?}"
    );
    assert!(matches!(
        worker.next_report().await.outcome,
        Outcome::Failed { .. }
    ));
    let usage = bed
        .cli(&["send", "--service", "web", "--run", "--", "true"], None)
        .await;
    assert_eq!(usage.code, 2, "--run needs --container: {usage:#?}");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_one_off_task_s_last_log_lines_reach_the_report_and_the_reply() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.task_logs_in("/ecs/web").await;
    // web:2 logs through awslogs; the service still runs web:1.
    let mut logged = common::task_definition("web", "nginx:1.27", "healthy");
    logged["containerDefinitions"][0]["logConfiguration"] = json!({"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"
    }});
    bed.bed.sim.call("RegisterTaskDefinition", &logged);
    let replies = bed.queue("replies").await;
    // Logging is what the task may do: the guard lets the revision add it only when allowed.
    let mut worker = bed.start_worker(bed.config(&[
        ("ALLOWED_REPLY_QUEUES", replies.as_str()),
        ("ALLOWED_PRIVILEGES", "labels,logging"),
    ]));
    bed.send(
        &run_body(&["ecs-sim-exit", "3"]),
        &[
            ("service", "web"),
            ("action", "run"),
            ("revision", "web:2"),
            ("reply_to", replies.as_str()),
        ],
    )
    .await;
    let report = worker.next_report().await;
    assert!(
        matches!(report.outcome, Outcome::Failed { .. }),
        "{report:?}"
    );
    let expected = [
        "[app] ecs-sim: app started: ecs-sim-exit 3",
        "[app] ecs-sim: app exited with code 3",
    ];
    assert_eq!(report.logs, expected);
    let notices = bed.replies(&replies, 1).await;
    assert_eq!(notices[0]["logs"], json!(expected), "{}", notices[0]);
    worker.stop().await;
}
