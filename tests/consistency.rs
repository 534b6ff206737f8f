//! Rollouts judged while ECS's reads are eventually consistent: ecs-sim answers DescribeServices, ListTasks
//! and DescribeTasks with the state of up to several of the worker's polls ago, and every outcome must be
//! the one ECS itself recorded.

mod common;

use common::{Bed, short};
use ecs_deployment::decide::outcome::{Outcome, Rollback};
use serde_json::json;

/// How far behind a read may be, in simulated seconds: 200 ms, four of the worker's 50 ms polls.
const LAG: u64 = 20;
/// How many seeded runs.
const RUNS: u64 = 12;

#[tokio::test(flavor = "multi_thread")]
async fn under_stale_reads_every_outcome_is_the_one_ecs_recorded() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    seeded_runs(bed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn under_stale_reads_every_blue_green_outcome_is_the_one_ecs_recorded() {
    let bed = Bed::start(true).await;
    bed.service_configured(
        "web",
        Some(2),
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
               "deploymentCircuitBreaker": {"enable": true, "rollback": true}}),
    )
    .await;
    seeded_runs(bed).await;
}

/// Deploys service `web` [`RUNS`] times under stale reads, one in three crashing (the circuit breaker rolls
/// those back), and checks each outcome against what ECS recorded.
async fn seeded_runs(bed: Bed) {
    let mut worker = bed.start_worker(bed.config(&[]));
    let mut deployed = 0;
    let mut rolled_back = 0;

    for seed in 0..RUNS {
        let crash = seed % 3 == 2;
        let before = bed
            .describe("web")
            .await
            .and_then(|s| s.task_definition)
            .expect("the service's task definition");
        bed.bed.sim.stale_reads(LAG, seed);
        let behaviour = if crash { "crash" } else { "healthy" };
        bed.send_web(&format!("nginx:1.{seed}"), behaviour).await;
        let report = worker.next_report().await;
        bed.bed.sim.stale_reads(0, 0);

        // What ECS recorded, read without lag.
        let service = bed.describe("web").await.expect("the service");
        let deployments = service.deployments();
        assert_eq!(deployments.len(), 1, "run {seed}: {deployments:#?}");
        assert_eq!(
            deployments[0].rollout_state().map(|s| s.as_str()),
            Some("COMPLETED"),
            "run {seed}"
        );
        let now = service.task_definition().expect("task definition");
        if crash {
            let Outcome::Failed { reason, rollback } = &report.outcome else {
                panic!("run {seed}: ECS rolled back, the worker said {report:?}");
            };
            assert_eq!(rollback, &Rollback::CompletedByEcs, "run {seed}: {reason}");
            assert_eq!(now, before, "run {seed}: ECS went back");
            assert_eq!(
                report.previous_task_definition.as_deref(),
                Some(before.as_str()),
                "run {seed}"
            );
            rolled_back += 1;
        } else {
            assert_eq!(report.outcome, Outcome::Deployed, "run {seed}: {report:?}");
            assert_eq!(
                report.new_task_definition.as_deref(),
                Some(now),
                "run {seed}: ECS completed the new revision"
            );
            deployed += 1;
        }
        let running = bed.running_task_definitions("web").await;
        assert_eq!(
            running.iter().map(|t| short(t)).collect::<Vec<_>>(),
            [short(now), short(now)],
            "run {seed}"
        );
    }
    assert_eq!((deployed, rolled_back), (8, 4));
    bed.assert_queue_empty().await;
    worker.stop().await;
}
