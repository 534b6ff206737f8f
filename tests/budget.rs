//! The worker within ECS's API rate limits, against ecs-sim enforcing them: it keeps to its share, a wave
//! that ECS throttles still settles every message, and a poll interval the budget cannot serve is
//! stretched and reported.

mod common;

use std::time::Duration;

use common::{Bed, WorkerProcess, short, task_definition};
use ecs_deployment::decide::outcome::{Disposition, Outcome};
use serde_json::json;

/// Real time per simulated second here: ECS's one registration per second is twenty a real second.
const TICK: Duration = Duration::from_millis(50);
/// Services deployed at once.
const WAVE: usize = 12;

/// A bed whose services `wave-0` .. are created, and whose ecs-sim then enforces AWS's limits with a
/// registration bucket of 4 (refilled one per simulated second), smaller than the wave.
async fn wave_bed() -> (Bed, Vec<String>) {
    let bed = Bed::start_with_clock(false, Some(TICK)).await;
    let names: Vec<String> = (0..WAVE).map(|i| format!("wave-{i}")).collect();
    for name in &names {
        bed.service(name, 1, (true, true)).await;
    }
    bed.bed.sim.reset_stats();
    bed.bed.sim.api_limits(Some(
        json!({"task-definition-modify": {"burst": 4, "rate": 1}}),
    ));
    (bed, names)
}

/// Sends one deployment per service, runs a worker with `settings` until each has reported, and checks
/// that every one was deployed and settled: none failed, rejected or given back for ECS's throttling.
async fn deploy_wave(bed: &Bed, names: &[String], settings: &[(&str, &str)]) {
    for name in names {
        let body = task_definition(name, "nginx:1.28", "healthy").to_string();
        bed.send(&body, &[("service", name)]).await;
    }
    let concurrency = WAVE.to_string();
    let mut config = vec![("CONCURRENCY", concurrency.as_str())];
    config.extend_from_slice(settings);
    let mut worker = bed.start_worker(bed.config(&config));
    for _ in names {
        let report = worker.next_report().await;
        assert_eq!(
            (&report.outcome, report.disposition, report.settled),
            (&Outcome::Deployed, Disposition::Delete, true),
            "{}: {:?}",
            report.service,
            report.outcome
        );
    }
    worker.stop().await;
    for name in names {
        let running = bed.running_task_definitions(name).await;
        assert_eq!(
            running.iter().map(|arn| short(arn)).collect::<Vec<_>>(),
            vec![format!("{name}:2")],
            "{name} runs its new revision"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_keeps_registrations_within_its_share_so_ecs_throttles_none() {
    let (bed, names) = wave_bed().await;
    // The account's bucket as the worker sees it in real time: 4 at once, 20 a second; half of it.
    deploy_wave(
        &bed,
        &names,
        &[
            ("ECS_API_LIMITS", "task-definition-modify=4/20"),
            ("ECS_API_SHARE", "50%"),
        ],
    )
    .await;
    let stats = bed.bed.sim.stats();
    assert_eq!(
        stats["calls"]["RegisterTaskDefinition"], WAVE as u64,
        "each revision registered once"
    );
    assert_eq!(
        stats["throttled"],
        json!({}),
        "ecs-sim throttled none of the worker's calls"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wave_that_ecs_throttles_still_settles_every_message() {
    let (bed, names) = wave_bed().await;
    // No limiter: the wave asks for more registrations at once than the bucket holds, as when other
    // workers or tools took the account's budget. The pre-flight lookups, paced on their own, are off so
    // that the registrations come at once.
    deploy_wave(
        &bed,
        &names,
        &[("ECS_API_LIMITS", "none"), ("VERIFY", "off")],
    )
    .await;
    let stats = bed.bed.sim.stats();
    let throttled = stats["throttled"]["RegisterTaskDefinition"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        throttled > 0,
        "the wave was throttled, or this test shows nothing: {stats}"
    );
    assert_eq!(
        stats["calls"]["RegisterTaskDefinition"].as_u64(),
        Some(WAVE as u64 + throttled),
        "a throttled registration is tried again, and no revision is registered twice"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_interval_the_budget_cannot_serve_is_stretched_and_reported() {
    let bed = Bed::start(false).await;
    let names: Vec<String> = (0..25).map(|i| format!("busy-{i}")).collect();
    for name in &names {
        bed.service(name, 1, (true, true)).await;
    }
    // DescribeServices at 20 a second: 25 services need 3 calls per reading, 150 ms, not the 50 ms asked.
    let listen = format!("127.0.0.1:{}", testbed::free_port());
    let mut worker = WorkerProcess::start(
        &bed,
        &[
            ("CONCURRENCY", "25"),
            ("ECS_API_LIMITS", "service-read=20/20"),
            ("ECS_API_SHARE", "100%"),
            ("HTTP_LISTEN", listen.as_str()),
        ],
    );
    for name in &names {
        // Five simulated minutes of PENDING: every rollout is in flight at once.
        let body = task_definition(name, "nginx:1.28", "slow:300").to_string();
        bed.send(&body, &[("service", name)]).await;
    }
    let stretched = worker.wait_for(
        "the rollouts in flight need more ECS reads than the worker's API budget (ECS_API_SHARE) allows every ECS_POLL_INTERVAL; reading them less often",
        |l| l["services"].as_u64() > Some(20),
    );
    assert_eq!(stretched["interval"], "150ms", "{stretched}");
    assert_eq!(stretched["level"], "WARN");
    let metrics = format!("http://{listen}/metrics");
    testbed::wait_until(
        "/metrics to show the stretched interval",
        Duration::from_secs(10),
        || async {
            let text = reqwest::get(&metrics).await.ok()?.text().await.ok()?;
            text.lines()
                .any(|l| l == "ecs_deployment_poll_interval_seconds 0.15")
                .then_some(())
        },
    )
    .await;
    for _ in &names {
        worker.wait_for("deployment finished", |_| true);
    }
    let back = worker.wait_for("reading rollouts every ECS_POLL_INTERVAL again", |_| true);
    assert_eq!(back["interval"], "50ms", "{back}");
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(), Some(0), "{}", worker.log_text());
}
