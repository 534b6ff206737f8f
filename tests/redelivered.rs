//! End to end: a rollback or redeploy whose worker was killed mid-rollout is watched by the next worker, never started again.

mod common;

use common::{Bed, WorkerProcess, short};

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_redelivered_mid_rollout_is_watched_not_started_again() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // web:2's tasks stay PENDING for 300 simulated seconds (3 s): a rollback to it is slow.
    let slow = bed.register("web", "nginx:1.28", "slow:300").await;
    bed.register("web", "nginx:1.29", "healthy").await;
    bed.ecs
        .update_service()
        .service("web")
        .task_definition("web:3")
        .send()
        .await
        .expect("update the service");
    testbed::wait_until("web:3 runs", std::time::Duration::from_secs(30), || async {
        (bed.running_task_definitions("web")
            .await
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>()
            == ["web:3"])
        .then_some(())
    })
    .await;
    bed.bed.sim.reset_stats();
    let visibility = [("SQS_VISIBILITY_TIMEOUT", "2")];
    let first = WorkerProcess::start(&bed, &visibility);
    bed.send_rollback(Some("web:2")).await;
    let mut second = killed_and_resumed(
        &bed,
        first,
        "rolling the service back as asked",
        &visibility,
    )
    .await;
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "no second rollout");
    assert_eq!(bed.running_task_definitions("web").await, vec![slow]);
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_redelivered_mid_rollout_is_watched_not_forced_again() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // web:2's tasks stay PENDING for 300 simulated seconds (3 s): its redeploy is slow.
    let slow = bed.register("web", "nginx:1.28", "slow:300").await;
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&slow)
        .send()
        .await
        .expect("update the service");
    testbed::wait_until("web:2 runs", std::time::Duration::from_secs(30), || async {
        (bed.running_task_definitions("web").await == [slow.clone()]).then_some(())
    })
    .await;
    bed.bed.sim.reset_stats();
    let visibility = [("SQS_VISIBILITY_TIMEOUT", "2")];
    let first = WorkerProcess::start(&bed, &visibility);
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;
    let mut second = killed_and_resumed(
        &bed,
        first,
        "forcing a new deployment of the revision the service runs",
        &visibility,
    )
    .await;
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "not forced twice");
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}

/// Kills `first` once it logged `logged` and ECS took its UpdateService, then starts another worker and
/// checks that it resumed that rollout and settled it as deployed; gives that worker.
async fn killed_and_resumed(
    bed: &Bed,
    mut first: WorkerProcess,
    logged: &str,
    settings: &[(&str, &str)],
) -> WorkerProcess {
    first.wait_for(logged, |_| true);
    wait_for_update(bed).await;
    first.signal("KILL");
    assert_eq!(first.wait_exit(), None, "killed by the signal");
    let mut second = WorkerProcess::start(bed, settings);
    let finished = second.wait_for("deployment finished", |_| true);
    assert_eq!(finished["outcome"], "deployed", "{}", second.log_text());
    second.wait_for(
        "resuming: the service was pointed at the revision on an earlier delivery; watching that rollout",
        |_| true,
    );
    second
}

/// Waits until ECS has taken the worker's UpdateService (the log line comes just before the call).
async fn wait_for_update(bed: &Bed) {
    testbed::wait_until(
        "the UpdateService call",
        std::time::Duration::from_secs(30),
        || async { (bed.bed.sim.calls("UpdateService") >= 1).then_some(()) },
    )
    .await;
}
