//! End to end: rollouts by ECS's own strategies (rolling, blue/green, linear, canary) judged by ECS's
//! service deployments: success after the bakes, the circuit breaker, deployment alarms, the worker's own
//! timeout rolled back with StopServiceDeployment, lifecycle hooks continued or rolled back, and DAEMON
//! services.

mod common;

use common::ecs::{merged, strategy_configuration};
use common::{Bed, WorkerProcess, short, task_definition};
use ecs_deployment::decide::outcome::{Outcome, Rollback};
use serde_json::json;

/// Each of four services of `strategy` meets one fate: it succeeds after bakes longer than ECS_TIMEOUT,
/// trips the circuit breaker, trips a deployment alarm, or outlasts ECS_TIMEOUT and is rolled back by the
/// worker through StopServiceDeployment. Each outcome, reason, what runs after, and the calls made are
/// checked.
async fn every_fate(strategy: &str) {
    let bed = Bed::start(true).await;
    let alarm = format!("{}-errors", strategy.to_lowercase());
    let breaker = json!({"deploymentCircuitBreaker": {"enable": true, "rollback": true}});
    let alarms = json!({"alarms": {"alarmNames": [alarm], "enable": true, "rollback": true}});
    // Bakes of 6 minutes (3.6 s here) against an ECS_TIMEOUT of 3 s: done only if the bakes count.
    let ok = bed
        .service_configured("ok", Some(2), strategy_configuration(strategy, 6))
        .await;
    let tripped = bed
        .service_configured(
            "tripped",
            Some(2),
            merged(strategy_configuration(strategy, 0), breaker),
        )
        .await;
    let alarmed = bed
        .service_configured(
            "alarmed",
            Some(2),
            merged(strategy_configuration(strategy, 0), alarms),
        )
        .await;
    let stuck = bed
        .service_configured("stuck", Some(2), strategy_configuration(strategy, 0))
        .await;
    bed.bed.sim.set_alarm(&alarm, "ALARM");
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    for (service, behaviour) in [
        ("ok", "healthy"),
        ("tripped", "crash"),
        ("alarmed", "healthy"),
        ("stuck", "crash"),
    ] {
        let body = task_definition(service, "nginx:1.28", behaviour).to_string();
        bed.send(&body, &[("service", service)]).await;
    }
    let reports = worker.reports_by_service(4).await;

    let report = &reports["ok"];
    assert_eq!(report.outcome, Outcome::Deployed, "{strategy}: {report:?}");
    let new = report.new_task_definition.clone().expect("registered");
    assert_eq!(short(&new), "ok:2");
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(ok.as_str())
    );
    assert_eq!(
        bed.running_task_definitions("ok").await,
        vec![new.clone(), new]
    );

    let Outcome::Failed { reason, rollback } = &reports["tripped"].outcome else {
        panic!("{strategy}: {:?}", reports["tripped"]);
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{strategy}: {reason}");
    assert!(
        reason.contains("ECS rolled the service back"),
        "{strategy}: {reason}"
    );
    assert!(reason.contains("circuit breaker"), "{strategy}: {reason}");
    assert!(
        reason.contains("failed tasks, threshold 3"),
        "{strategy}: {reason}"
    );
    assert_eq!(
        bed.running_task_definitions("tripped").await,
        vec![tripped.clone(), tripped]
    );

    let Outcome::Failed { reason, rollback } = &reports["alarmed"].outcome else {
        panic!("{strategy}: {:?}", reports["alarmed"]);
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{strategy}: {reason}");
    assert!(
        reason.contains(&format!("alarms in ALARM: {alarm}")),
        "{strategy}: {reason}"
    );
    assert_eq!(
        bed.running_task_definitions("alarmed").await,
        vec![alarmed.clone(), alarmed]
    );

    let Outcome::TimedOut { reason, rollback } = &reports["stuck"].outcome else {
        panic!("{strategy}: {:?}", reports["stuck"]);
    };
    assert_eq!(rollback, &Rollback::Completed, "{strategy}: {reason}");
    assert_eq!(
        bed.running_task_definitions("stuck").await,
        vec![stuck.clone(), stuck]
    );

    let sim = &bed.bed.sim;
    assert_eq!(
        sim.calls("UpdateService"),
        4,
        "{strategy}: one update each, no rollback by UpdateService"
    );
    assert_eq!(
        sim.calls("StopServiceDeployment"),
        1,
        "{strategy}: the stuck one is rolled back by ECS"
    );
    assert!(
        sim.calls("DescribeServiceDeployments") > 0,
        "{strategy}: ECS's verdict is read"
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_deployments_are_judged_by_ecs() {
    every_fate("BLUE_GREEN").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn linear_deployments_are_judged_by_ecs() {
    every_fate("LINEAR").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_deployments_are_judged_by_ecs() {
    every_fate("CANARY").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_deployments_are_judged_by_ecs() {
    every_fate("ROLLING").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_deployment_waits_for_continue_and_can_be_rolled_back_instead() {
    let bed = Bed::start(true).await;
    let pause = json!({"lifecycleHooks": [{"targetType": "PAUSE",
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}]});
    let v1 = bed
        .service_configured(
            "gated",
            Some(2),
            merged(strategy_configuration("BLUE_GREEN", 0), pause),
        )
        .await;
    let reply_queue = bed.queue("replies").await;
    // ECS_TIMEOUT alone would end the wait long before anyone answers; the hook's timeout is added.
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "2s")]));
    let nothing = bed.cli(&["continue", "--service", "gated"], None).await;
    assert_eq!(nothing.code, 1, "{nothing:?}");
    assert!(
        nothing.stderr.contains("waits for no lifecycle hook"),
        "{nothing:?}"
    );

    for (image, rollback) in [("nginx:1.28", false), ("nginx:1.29", true)] {
        let body = task_definition("gated", image, "healthy").to_string();
        let id = bed
            .send(
                &body,
                &[("service", "gated"), ("reply_to", reply_queue.as_str())],
            )
            .await;
        let notices = bed.replies(&reply_queue, 2).await;
        let waiting = notices
            .iter()
            .find(|n| n["event"] == "waiting" && n["message_id"] == id.as_str())
            .unwrap_or_else(|| panic!("a waiting notice: {notices:?}"));
        let why = waiting["reason"].as_str().unwrap_or_default();
        assert!(why.contains("POST_TEST_TRAFFIC_SHIFT"), "{why}");
        assert!(
            why.contains("ecs-deployment continue --service gated"),
            "{why}"
        );

        let status = bed.cli(&["status", "--service", "gated"], None).await;
        assert_eq!(status.code, 0, "{status:?}");
        assert!(
            status
                .stdout
                .contains("waiting at POST_TEST_TRAFFIC_SHIFT for lifecycle hook"),
            "{}",
            status.stdout
        );
        assert!(
            status.stdout.contains("the rollout is not complete"),
            "{}",
            status.stdout
        );

        let mut args = vec!["continue", "--service", "gated"];
        if rollback {
            args.push("--rollback");
        }
        let answered = bed.cli(&args, None).await;
        assert_eq!(answered.code, 0, "{answered:?}");
        let report = worker.next_report().await;
        if rollback {
            assert!(
                answered.stdout.contains("rolling back: lifecycle hook"),
                "{answered:?}"
            );
            let Outcome::Failed { reason, rollback } = &report.outcome else {
                panic!("{report:?}");
            };
            assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
            assert!(reason.contains("Lifecycle hook"), "{reason}");
        } else {
            assert!(
                answered.stdout.contains("continued: lifecycle hook"),
                "{answered:?}"
            );
            assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
        }
        let _finished = bed.replies(&reply_queue, 1).await;
    }
    let v2 = format!("{}:2", v1.rsplit_once(':').map_or("", |(head, _)| head));
    assert_eq!(
        bed.running_task_definitions("gated").await,
        vec![v2.clone(), v2]
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn daemon_services_are_deployed_and_rolled_back_by_ecs() {
    let bed = Bed::start(true).await;
    let breaker = json!({"deploymentCircuitBreaker": {"enable": true, "rollback": true}});
    bed.service_configured(
        "agent",
        None,
        merged(strategy_configuration("ROLLING", 0), breaker),
    )
    .await;
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send(
        &task_definition("agent", "nginx:2", "healthy").to_string(),
        &[("service", "agent")],
    )
    .await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let v2 = report.new_task_definition.clone().expect("registered");
    // One task on each of the three instances.
    assert_eq!(
        bed.running_task_definitions("agent").await,
        vec![v2.clone(), v2.clone(), v2.clone()]
    );

    bed.send(
        &task_definition("agent", "nginx:3", "crash").to_string(),
        &[("service", "agent")],
    )
    .await;
    let report = worker.next_report().await;
    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("{report:?}");
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
    assert_eq!(
        bed.running_task_definitions("agent").await,
        vec![v2.clone(), v2.clone(), v2]
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_leave_to_read_service_deployments_the_service_s_deployments_judge() {
    let bed = Bed::start(true).await;
    bed.service_configured("ok", Some(2), strategy_configuration("BLUE_GREEN", 1))
        .await;
    let stuck = bed
        .service_configured("stuck", Some(2), strategy_configuration("BLUE_GREEN", 0))
        .await;
    let sim = &bed.bed.sim;
    sim.inject_fault(json!({"operation": "DescribeServiceDeployments", "kind": "denied"}));
    sim.inject_fault(json!({"operation": "StopServiceDeployment", "kind": "denied"}));
    sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));

    for (service, behaviour) in [("ok", "healthy"), ("stuck", "crash")] {
        let body = task_definition(service, "nginx:1.28", behaviour).to_string();
        bed.send(&body, &[("service", service)]).await;
    }
    let reports = worker.reports_by_service(2).await;
    assert_eq!(
        reports["ok"].outcome,
        Outcome::Deployed,
        "{:?}",
        reports["ok"]
    );
    let Outcome::TimedOut { reason, rollback } = &reports["stuck"].outcome else {
        panic!("{:?}", reports["stuck"]);
    };
    assert_eq!(rollback, &Rollback::Completed, "{reason}");
    assert_eq!(
        bed.running_task_definitions("stuck").await,
        vec![stuck.clone(), stuck]
    );
    // Denied for the batch and for each record alone, the poller stops asking; the rollback reads once
    // more and then updates the service.
    assert!(
        sim.calls("DescribeServiceDeployments") <= 4,
        "{}",
        sim.stats()
    );
    assert_eq!(sim.calls("StopServiceDeployment"), 0);
    assert_eq!(
        sim.calls("UpdateService"),
        3,
        "two deployments and one rollback"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_resumes_a_paused_deployment_reads_ecs_s_verdict_too() {
    let bed = Bed::start(true).await;
    let pause = json!({"lifecycleHooks": [{"targetType": "PAUSE",
        "lifecycleStages": ["POST_SCALE_UP"],
        "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}]});
    bed.service_configured(
        "gated",
        Some(1),
        merged(strategy_configuration("BLUE_GREEN", 0), pause),
    )
    .await;
    bed.bed.sim.reset_stats();
    let visibility = [("SQS_VISIBILITY_TIMEOUT", "2")];
    let mut first = WorkerProcess::start(&bed, &visibility);
    bed.send(
        &task_definition("gated", "nginx:1.28", "healthy").to_string(),
        &[("service", "gated")],
    )
    .await;
    first.wait_for("ECS waits for the deployment to be continued", |_| true);
    first.signal("KILL");
    assert_eq!(first.wait_exit(), None, "killed by the signal");

    // The next worker picks the message up again and watches the same service deployment.
    let mut second = WorkerProcess::start(&bed, &visibility);
    second.wait_for("resuming: the service was pointed at the revision on an earlier delivery; watching that rollout", |_| true);
    second.wait_for("ECS waits for the deployment to be continued", |_| true);
    let answered = bed.cli(&["continue", "--service", "gated"], None).await;
    assert_eq!(answered.code, 0, "{answered:?}");
    let finished = second.wait_for("deployment finished", |_| true);
    assert_eq!(finished["outcome"], "deployed", "{}", second.log_text());
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "no second rollout");
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}
