//! End to end: a `deploy` message's `before` task (a migration): run on the new revision before the
//! service is updated, its failure leaving the service as it was, one at a time per family.

mod common;

use common::{Bed, WorkerProcess, short, task_definition};
use ecs_deployment::decide::outcome::{Outcome, Rollback};
use serde_json::{Value, json};

/// The `before` attribute running `command` in container `app`.
fn before(command: &[&str]) -> String {
    json!({"container": "app", "command": command}).to_string()
}

/// The tasks the worker ran before updates of `family`, as DescribeTasks gives them.
fn before_tasks(bed: &Bed, family: &str) -> Vec<Value> {
    let listed = bed.bed.sim.call(
        "ListTasks",
        &json!({"startedBy": format!("ecs-deployment/before/{family}"), "desiredStatus": "STOPPED"}),
    );
    let arns = listed["taskArns"].clone();
    if arns.as_array().is_none_or(Vec::is_empty) {
        return Vec::new();
    }
    bed.bed.sim.call("DescribeTasks", &json!({"tasks": arns}))["tasks"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_that_exits_zero_runs_on_the_new_revision_before_the_update() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send(
        &task_definition("web", "nginx:1.28", "healthy").to_string(),
        &[
            ("service", "web"),
            ("before", &before(&["ecs-sim-exit", "0"])),
        ],
    )
    .await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let tasks = before_tasks(&bed, "web");
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(
        tasks[0]["taskDefinitionArn"].as_str().map(short),
        Some("web:2"),
        "on the new revision"
    );
    let service = bed.describe("web").await.expect("web");
    let updated = service
        .deployments()
        .iter()
        .find(|d| d.task_definition().map(short) == Some("web:2"))
        .and_then(|d| d.created_at())
        .map(|at| at.as_secs_f64())
        .expect("the deployment of web:2");
    let stopped = tasks[0]["stoppedAt"].as_f64().expect("stoppedAt");
    assert!(
        stopped <= updated,
        "the task ended ({stopped}) before the update ({updated})"
    );
    assert_eq!(bed.running_revisions("web").await, ["web:2", "web:2"]);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_that_exits_three_leaves_the_service_untouched() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send(
        &task_definition("web", "nginx:1.28", "healthy").to_string(),
        &[
            ("service", "web"),
            ("before", &before(&["ecs-sim-exit", "3"])),
        ],
    )
    .await;
    let report = worker.next_report().await;
    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(
        reason.contains("the task before the update")
            && reason.contains("container app exited with code 3"),
        "{reason}"
    );
    assert_eq!(
        rollback,
        &Rollback::NotPossible("the service was not updated".into())
    );
    assert_eq!(bed.bed.sim.calls("UpdateService"), 0);
    assert_eq!(bed.running_revisions("web").await, ["web:1", "web:1"]);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_migrations_of_one_family_run_one_after_the_other() {
    let bed = Bed::start(true).await;
    let shared = bed.register("shared", "nginx:1.27", "healthy").await;
    for name in ["blue", "green"] {
        bed.bed.sim.call(
            "CreateService",
            &json!({"serviceName": name, "taskDefinition": shared, "desiredCount": 1}),
        );
        bed.first_rollout(name).await;
    }
    let mut worker = bed.start_worker(bed.config(&[]));
    for name in ["blue", "green"] {
        bed.send(
            &task_definition("shared", "nginx:1.28", "healthy").to_string(),
            &[
                ("service", name),
                ("before", &before(&["ecs-sim-exit", "0", "20"])),
            ],
        )
        .await;
    }
    for _ in 0..2 {
        let report = worker.next_report().await;
        assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    }
    let mut tasks = before_tasks(&bed, "shared");
    tasks.sort_by(|a, b| {
        a["createdAt"]
            .as_f64()
            .partial_cmp(&b["createdAt"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let ran: Vec<&Value> = tasks
        .iter()
        .filter(|t| t["stopCode"] != "UserInitiated")
        .collect();
    assert_eq!(ran.len(), 2, "{tasks:#?}");
    let first_stopped = ran[0]["stoppedAt"].as_f64().expect("stoppedAt");
    let second_started = ran[1]["startedAt"].as_f64().expect("startedAt");
    assert!(
        first_stopped <= second_started,
        "the second ran ({second_started}) only after the first stopped ({first_stopped})"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_while_its_migration_runs_is_resumed_and_the_migration_runs_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let visibility = [("SQS_VISIBILITY_TIMEOUT", "2")];
    let mut first = WorkerProcess::start(&bed, &visibility);
    // 300 simulated seconds: the migration still runs when the worker is killed.
    bed.send(
        &task_definition("web", "nginx:1.28", "healthy").to_string(),
        &[
            ("service", "web"),
            ("before", &before(&["ecs-sim-exit", "0", "300"])),
        ],
    )
    .await;
    first.wait_for("running the task before the update", |_| true);
    testbed::wait_until(
        "the RunTask call",
        std::time::Duration::from_secs(30),
        || async { (bed.bed.sim.calls("RunTask") >= 1).then_some(()) },
    )
    .await;
    first.signal("KILL");
    assert_eq!(first.wait_exit(), None, "killed by the signal");

    let mut second = WorkerProcess::start(&bed, &visibility);
    let finished = second.wait_for("deployment finished", |_| true);
    assert_eq!(finished["outcome"], "deployed", "{}", second.log_text());
    let tasks = before_tasks(&bed, "web");
    assert_eq!(tasks.len(), 1, "the migration ran once: {tasks:#?}");
    assert_eq!(bed.revisions("web"), 2, "one revision registered");
    assert_eq!(bed.running_revisions("web").await, ["web:2"]);
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}
