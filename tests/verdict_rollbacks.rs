//! End to end: rollbacks as ECS has them: recognised without its record, never over a newer deployment or a SUCCESSFUL one, and records, stops, lost answers and throttles read as ECS meant them.

mod common;

use common::{Bed, REPORT_DEADLINE, SLOWER, WorkerProcess, task_definition};
use ecs_deployment::decide::outcome::{Outcome, Rollback};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn without_ecs_s_record_its_rollbacks_are_recognised_and_never_doubled() {
    let bed = Bed::start(true).await;
    let alarms = json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
        "alarms": {"alarmNames": ["staged-errors"], "enable": true, "rollback": true}});
    let staged = bed.service_configured("staged", Some(2), alarms).await;
    let rolling = bed.service("rolling", 2, (true, true)).await;
    bed.bed.sim.set_alarm("staged-errors", "ALARM");
    let sim = &bed.bed.sim;
    sim.inject_fault(json!({"operation": "DescribeServiceDeployments", "kind": "denied"}));
    sim.inject_fault(json!({"operation": "StopServiceDeployment", "kind": "denied"}));
    sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "10s")]));
    for (service, behaviour) in [("staged", "healthy"), ("rolling", "crash")] {
        let body = task_definition(service, "nginx:1.29", behaviour).to_string();
        bed.send(&body, &[("service", service)]).await;
    }
    for _ in 0..2 {
        let report = worker.next_report().await;
        let Outcome::Failed { reason, rollback } = &report.outcome else {
            panic!("expected ECS's rollback, got {report:?}");
        };
        assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
        assert!(reason.contains("ECS rolled the service back"), "{reason}");
        let before = if report.service == "staged" {
            &staged
        } else {
            &rolling
        };
        assert_eq!(
            bed.running_task_definitions(&report.service).await,
            vec![before.clone(), before.clone()]
        );
    }
    assert_eq!(
        bed.changes(),
        (2, 0),
        "one update each, no rollback of the worker's"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_rollback_undoes_a_deployment_someone_made_after_the_rollout_timed_out() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (false, false)).await;
    let hotfix = bed.register("web", "nginx:hotfix", "healthy").await; // web:2
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    bed.send_web("nginx:1.29", "crash").await; // web:3, never healthy
    bed.wait_for_task_definition("web", "web:3").await;
    // The worker's reads of the service fail; meanwhile someone deploys their hotfix.
    let sim = &bed.bed.sim;
    sim.inject_fault(json!({"operation": "DescribeServices", "kind": "error500"}));
    sim.reset_stats();
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&hotfix)
        .send()
        .await
        .expect("someone's hotfix");
    // ECS_TIMEOUT runs out: the worker reads the tasks for ECS's words, then reads the service again.
    testbed::wait_until("the rollout's timeout", REPORT_DEADLINE, || async {
        (sim.calls("ListTasks") > 0).then_some(())
    })
    .await;
    sim.clear_faults();

    let report = worker.next_report().await;
    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("expected superseded, got {report:?}");
    };
    assert!(reason.contains("of web:2"), "{reason}");
    assert_eq!(
        bed.changes(),
        (1, 0),
        "the hotfix only: nothing rolled back"
    );
    assert_eq!(
        bed.task_definition_of("web").await.as_deref(),
        Some(hotfix.as_str())
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_bake_and_capacity_found_late_do_not_count_against_ecs_timeout() {
    let bed = Bed::start_with_clock(true, Some(SLOWER)).await;
    // ECS watches the alarm for 120 simulated seconds (6 s) after the tasks are replaced.
    let alarms =
        json!({"alarms": {"alarmNames": ["web-errors"], "enable": true, "rollback": true}});
    bed.service_configured("baked", Some(2), alarms).await;
    bed.bed.sim.set_alarm("web-errors", "OK");
    bed.service("scaled", 1, (true, true)).await;
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    // Capacity is found after 100 simulated seconds (5 s).
    for (service, behaviour) in [("baked", "healthy"), ("scaled", "provisioning:100")] {
        let body = task_definition(service, "nginx:1.29", behaviour).to_string();
        bed.send(&body, &[("service", service)]).await;
    }
    for _ in 0..2 {
        let report = worker.next_report().await;
        assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
        let new = report.new_task_definition.clone().expect("registered");
        assert!(
            bed.running_task_definitions(&report.service)
                .await
                .iter()
                .all(|t| *t == new)
        );
    }
    assert_eq!(bed.changes(), (2, 0));
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_record_ecs_will_not_show_leaves_the_others_readable() {
    let bed = Bed::start_with_clock(true, Some(SLOWER)).await;
    // `open` needs its record: its alarm bake (6 s) outlasts ECS_TIMEOUT. `hidden`'s record may not be
    // read (as for a policy without its service), so every batch naming it is refused.
    let alarms =
        json!({"alarms": {"alarmNames": ["open-errors"], "enable": true, "rollback": true}});
    bed.service_configured("open", Some(2), alarms).await;
    bed.service_configured(
        "hidden",
        Some(2),
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}),
    )
    .await;
    let sim = &bed.bed.sim;
    sim.inject_fault(
        json!({"operation": "DescribeServiceDeployments", "kind": "denied",
        "naming": "service-deployment/default/hidden/"}),
    );
    sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    for service in ["open", "hidden"] {
        let body = task_definition(service, "nginx:1.29", "healthy").to_string();
        bed.send(&body, &[("service", service)]).await;
    }
    for _ in 0..2 {
        let report = worker.next_report().await;
        assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    }
    assert!(
        sim.stats()["faulted"]["DescribeServiceDeployments"].as_u64() > Some(0),
        "the hidden record was asked for: {}",
        sim.stats()
    );
    assert_eq!(bed.changes(), (2, 0));
    assert_eq!(bed.running_revisions("open").await, ["open:2", "open:2"]);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_ecs_stops_without_rolling_back_is_failed_and_rolled_back_by_the_worker() {
    let bed = Bed::start(true).await;
    // The circuit breaker on, its rollback off: ECS stops the failed deployment (STOP_REQUESTED, STOPPED).
    let v1 = bed.service("web", 2, (true, false)).await;
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "10s")]));
    bed.send_web("nginx:1.29", "crash").await;

    let report = worker.next_report().await;
    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("expected a failure, got {report:?}");
    };
    assert!(
        reason.contains("ECS stopped the service deployment"),
        "{reason}"
    );
    assert_eq!(rollback, &Rollback::Completed, "{reason}");
    let record = bed.current_record("web").await.expect("a record");
    assert_eq!(
        record.status().map(|s| s.as_str()),
        Some("SUCCESSFUL"),
        "the worker's rollback"
    );
    assert_eq!(
        bed.changes(),
        (2, 0),
        "the rollout and the worker's rollback"
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1]
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forced_deployment_whose_answer_was_lost_is_not_started_twice() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    bed.bed
        .sim
        .inject_fault(json!({"operation": "UpdateService", "kind": "lose-answer", "count": 1}));
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;

    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.changes(), (1, 0), "no second forced deployment");
    let listed = bed
        .ecs
        .list_service_deployments()
        .service("web")
        .send()
        .await
        .expect("list the service deployments");
    assert_eq!(
        listed.service_deployments().len(),
        2,
        "the first rollout and the redeploy"
    );
    assert_eq!(bed.running_revisions("web").await, ["web:1", "web:1"]);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_call_is_retried_within_the_worker_s_api_budget() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.bed
        .sim
        .inject_fault(json!({"operation": "UpdateService", "kind": "throttle", "count": 2}));
    bed.bed.sim.reset_stats();
    let listen = format!("127.0.0.1:{}", testbed::free_port());
    let mut worker = WorkerProcess::start(
        &bed,
        &[
            ("ECS_API_LIMITS", "service-modify=50/5"),
            ("HTTP_LISTEN", listen.as_str()),
        ],
    );
    bed.send_web("nginx:1.29", "healthy").await;
    let finished = worker.wait_for("deployment finished", |_| true);
    assert_eq!(finished["outcome"], "deployed", "{}", worker.log_text());
    // Each attempt took a turn in the budget, which heard of both throttles.
    let text = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("the metrics");
    let throttled = text
        .lines()
        .find(|l| {
            l.starts_with("ecs_deployment_ecs_api_throttled_total{category=\"service-modify\"}")
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok());
    assert_eq!(throttled, Some(2.0), "{text}");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 3);
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(), Some(0), "{}", worker.log_text());
}

#[tokio::test(flavor = "multi_thread")]
async fn ecs_s_record_is_bound_by_the_revision_it_deploys_or_by_its_arn_where_revisions_cannot_be_read()
 {
    let bed = Bed::start_with_clock(true, Some(SLOWER)).await;
    // Only ECS's record shows the alarm bake (6 s), which outlasts ECS_TIMEOUT.
    let alarms =
        json!({"alarms": {"alarmNames": ["web-errors"], "enable": true, "rollback": true}});
    bed.service_configured("web", Some(1), alarms).await;
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    bed.send_web("nginx:1.29", "healthy").await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert!(
        bed.bed.sim.calls("DescribeServiceRevisions") > 0,
        "the record's revision was read: {}",
        bed.bed.sim.stats()
    );

    // Without leave to read revisions, the record UpdateService named is the rollout's by its ARN alone.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServiceRevisions", "kind": "denied"}));
    bed.send_web("nginx:1.30", "healthy").await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.changes(), (2, 0));
    assert_eq!(bed.running_revisions("web").await, ["web:3"]);
    worker.stop().await;
}
