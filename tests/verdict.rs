//! End to end: the worker never contradicts ECS. Each rollout is judged as ECS's record (or, without it,
//! ECS's documented rules) says, and each test checks the outcome, its reason, what the service runs at
//! the end and the calls the worker made: never an UpdateService or StopServiceDeployment against a
//! deployment ECS called SUCCESSFUL, nor over one the worker did not start.

mod common;

use std::time::Duration;

use aws_sdk_ecs::types::ServiceDeployment;
use common::{Bed, REPORT_DEADLINE, WorkerProcess, short, task_definition};
use ecs_deployment::decide::outcome::{Disposition, Outcome, Rollback};
use serde_json::{Value, json};
use testbed::{delete_tag, ecr_client, ecr_image, push_image};

/// Real time per simulated second where a bake of ECS's own must clearly outlast ECS_TIMEOUT while the
/// tasks' own start stays well within it.
const SLOWER: Duration = Duration::from_millis(50);

/// ECS's record of the service's current deployment.
async fn current_record(bed: &Bed, service: &str) -> Option<ServiceDeployment> {
    let described = bed.describe(service).await?;
    let arn = described.current_service_deployment()?;
    let out = bed
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .ok()?;
    out.service_deployments().first().cloned()
}

/// The `family:revision` of every task the service runs.
async fn running(bed: &Bed, service: &str) -> Vec<String> {
    bed.running_task_definitions(service)
        .await
        .iter()
        .map(|t| short(t).to_owned())
        .collect()
}

/// What the worker asked of ECS that changes a service: (UpdateService, StopServiceDeployment) calls.
fn changes(bed: &Bed) -> (u64, u64) {
    let sim = &bed.bed.sim;
    (
        sim.calls("UpdateService"),
        sim.calls("StopServiceDeployment"),
    )
}

/// `body`'s task definition with a non-essential sidecar whose health check never passes.
fn with_failing_sidecar(mut body: Value) -> Value {
    if let Some(containers) = body["containerDefinitions"].as_array_mut() {
        containers.push(json!({
            "name": "metrics",
            "image": "nginx:1.28",
            "essential": false,
            "dockerLabels": {"ecs-sim.behaviour": "unhealthy"},
            "healthCheck": {"command": ["CMD-SHELL", "false"], "interval": 5}
        }));
    }
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn early_success_is_deployed_once_ecs_says_successful_before_every_task_is_replaced() {
    // ecs-sim's time moves only when this test moves it: ECS's record says SUCCESSFUL with half the tasks
    // replaced, and stays there.
    let bed = Bed::start_with_clock(true, None).await;
    let early = json!({"maximumPercent": 100, "minimumHealthyPercent": 50,
        "earlySuccessCriteria": {"enable": true, "healthyPercent": 50,
            "sourceServiceRevisionCleanup": "DEFERRED"}});
    bed.service_configured("web", Some(4), early).await;
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "2s")]));
    bed.send_web("nginx:1.29", "healthy").await;
    bed.wait_for_task_definition("web", "web:2").await;
    let mut successful = false;
    for _ in 0..300 {
        let record = current_record(&bed, "web").await;
        if record.as_ref().and_then(|r| r.status()).map(|s| s.as_str()) == Some("SUCCESSFUL") {
            successful = true;
            break;
        }
        bed.bed.sim.advance(1);
    }
    assert!(successful, "ECS's record never said SUCCESSFUL");

    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(changes(&bed), (1, 0), "nothing against ECS's SUCCESSFUL");
    // ECS said SUCCESSFUL with two of the four desired tasks on the new revision, the old ones going.
    assert_eq!(running(&bed, "web").await, ["web:2", "web:2"]);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_essential_sidecar_s_failing_health_check_does_not_fail_the_rollout() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // Without ECS's record the worker judges the tasks itself: by ECS's rule, not every container.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServiceDeployments", "kind": "denied"}));
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    let body = with_failing_sidecar(task_definition("web", "nginx:1.29", "healthy"));
    bed.send(&body.to_string(), &[("service", "web")]).await;

    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(changes(&bed), (1, 0));
    assert_eq!(running(&bed, "web").await, ["web:2", "web:2"]);
    let tasks = testbed::service_tasks(&bed.ecs, "web", "RUNNING").await;
    for task in &tasks {
        assert_eq!(task.health_status().map(|h| h.as_str()), Some("HEALTHY"));
        let sidecar = task
            .containers()
            .iter()
            .find(|c| c.name() == Some("metrics"))
            .expect("the sidecar");
        assert_eq!(
            sidecar.health_status().map(|h| h.as_str()),
            Some("UNHEALTHY")
        );
    }
    worker.stop().await;
}

/// A redeploy (a forced new deployment of the same revision) whose image tag is gone from ECR: ECS's
/// circuit breaker rolls it back to the same task definition, and the worker says so, with ECS's record
/// readable or not.
async fn a_redeploy_ecs_rolls_back(record_readable: bool) {
    let bed = Bed::start(true).await;
    let ecr = ecr_client(&bed.bed.moto.endpoint());
    let built = push_image(&ecr, "web", "prod", "first build").await;
    bed.bed.sim.use_ecr(&bed.bed.moto.endpoint());
    let v1 = bed
        .service_on("web", &ecr_image("web", "prod"), "healthy", 2, (true, true))
        .await;
    delete_tag(&ecr, "web", "prod").await;
    if !record_readable {
        bed.bed
            .sim
            .inject_fault(json!({"operation": "DescribeServiceDeployments", "kind": "denied"}));
    }
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "10s")]));
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;

    let report = worker.next_report().await;
    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("expected ECS's rollback, got {report:?}");
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
    assert!(reason.contains("ECS rolled the service back"), "{reason}");
    assert_eq!(changes(&bed), (1, 0), "ECS's rollback, not the worker's");
    let tasks = testbed::service_tasks(&bed.ecs, "web", "RUNNING").await;
    assert_eq!(tasks.len(), 2);
    for task in tasks {
        assert_eq!(task.task_definition_arn(), Some(v1.as_str()));
        assert_eq!(task.containers()[0].image_digest(), Some(built.as_str()));
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_that_ecs_rolls_back_is_failed_by_ecs_s_record() {
    a_redeploy_ecs_rolls_back(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_that_ecs_rolls_back_is_failed_without_ecs_s_record() {
    a_redeploy_ecs_rolls_back(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_that_outlasts_the_message_s_hold_gives_the_message_back_and_is_not_rolled_back()
{
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.bed.sim.reset_stats();
    // A hold far shorter than the rollout (its task waits 1000 simulated seconds, 10 s here).
    let mut config = bed.config(&[]);
    config.max_hold = Duration::from_secs(2);
    let mut worker = bed.start_worker(config);
    bed.send_web("nginx:1.29", "slow:1000").await;

    let report = worker.next_report().await;
    let Outcome::RetryLater { reason } = &report.outcome else {
        panic!("expected the message given back, got {report:?}");
    };
    assert!(reason.starts_with("released:"), "{reason}");
    assert_ne!(report.disposition, Disposition::Delete);
    assert_eq!(changes(&bed), (1, 0), "nothing rolled back");
    assert_eq!(
        bed.task_definition_of("web").await.as_deref().map(short),
        Some("web:2"),
        "the rollout goes on"
    );
    worker.stop().await;
    // Given back, the message is there for the next worker to resume.
    assert_eq!(bed.receive_all(&bed.queue_url, 1).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn hooks_before_every_linear_step_are_waited_for_without_counting_against_ecs_timeout() {
    let bed = Bed::start(true).await;
    let config = json!({"strategy": "LINEAR",
        "linearConfiguration": {"stepPercent": 34.0, "stepBakeTimeInMinutes": 0},
        "lifecycleHooks": [{"targetType": "PAUSE",
            "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}]});
    bed.service_configured("web", Some(2), config).await;
    let reply_queue = bed.queue("replies").await;
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "1s")]));
    let body = task_definition("web", "nginx:1.29", "healthy").to_string();
    bed.send(
        &body,
        &[("service", "web"), ("reply_to", reply_queue.as_str())],
    )
    .await;

    let mut waits = 0;
    while waits < 3 {
        let notices = bed.receive_all(&reply_queue, 1).await;
        for notice in notices {
            let notice: Value =
                serde_json::from_str(notice.body().unwrap_or_default()).expect("a JSON notice");
            if notice["event"] != "waiting" {
                continue;
            }
            waits += 1;
            let why = notice["reason"].as_str().unwrap_or_default();
            assert!(why.contains("PRE_PRODUCTION_TRAFFIC_SHIFT"), "{why}");
            // The worker keeps reading ECS's record for longer than ECS_TIMEOUT while the hook waits.
            let reads = bed.bed.sim.calls("DescribeServiceDeployments");
            testbed::wait_until(
                "the worker reading ECS's record for over a second",
                REPORT_DEADLINE,
                || async {
                    (bed.bed.sim.calls("DescribeServiceDeployments") > reads + 30).then_some(())
                },
            )
            .await;
            let answered = bed.cli(&["continue", "--service", "web"], None).await;
            assert_eq!(answered.code, 0, "{answered:?}");
        }
    }
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(changes(&bed), (1, 0));
    assert_eq!(running(&bed, "web").await, ["web:2", "web:2"]);
    worker.stop().await;
}

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
        changes(&bed),
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
        changes(&bed),
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
    assert_eq!(changes(&bed), (2, 0));
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
    assert_eq!(changes(&bed), (2, 0));
    assert_eq!(running(&bed, "open").await, ["open:2", "open:2"]);
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
    let record = current_record(&bed, "web").await.expect("a record");
    assert_eq!(
        record.status().map(|s| s.as_str()),
        Some("SUCCESSFUL"),
        "the worker's rollback"
    );
    assert_eq!(
        changes(&bed),
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
    assert_eq!(changes(&bed), (1, 0), "no second forced deployment");
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
    assert_eq!(running(&bed, "web").await, ["web:1", "web:1"]);
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
    assert_eq!(changes(&bed), (2, 0));
    assert_eq!(running(&bed, "web").await, ["web:3"]);
    worker.stop().await;
}
