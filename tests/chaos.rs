//! The worker under crashes, stops, several workers, outages, throttling and load. Each test checks that no
//! message is lost, none is deleted unsettled, and no service gets a second revision for one message.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ecs::types::Tag;
use common::{Bed, Event, Hold, Proxy, WorkerProcess, short, task_definition};
use ecs_deployment::Report;
use ecs_deployment::decide::outcome::{Outcome, Rollback};
use serde_json::json;

/// The deployment of `web` the tests interrupt: tasks stay PENDING for 300 simulated seconds (3 s).
const SLOW: &str = "slow:300";

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_rollout_is_resumed_by_the_next_and_settled_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let visibility = [("SQS_VISIBILITY_TIMEOUT", "2")];
    let mut first = WorkerProcess::start(&bed, &visibility);
    let id = bed.send_web("nginx:1.28", SLOW).await;
    first.wait_for("updated the service; watching the rollout", |_| true);

    first.signal("KILL");
    assert_eq!(first.wait_exit(), None, "killed by the signal");
    let (visible, in_flight) = bed.counts(&bed.queue_url).await;
    assert_eq!(visible + in_flight, 1, "still on the queue");

    // The message reappears when its visibility lapses; the next worker finds the revision and watches.
    let mut second = WorkerProcess::start(&bed, &visibility);
    let finished = second.wait_for("deployment finished", |_| true);
    assert_eq!(finished["message_id"], id.as_str());
    assert_eq!(finished["outcome"], "deployed", "{}", second.log_text());
    assert_eq!(
        finished["new_task_definition"].as_str().map(short),
        Some("web:2")
    );
    assert_eq!(
        finished["previous_task_definition"].as_str().map(short),
        Some("web:1")
    );
    second.wait_for("resuming: the service was pointed at the revision on an earlier delivery; watching that rollout", |_| true);
    assert_eq!(bed.revisions("web"), 2, "no second revision");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "no second rollout");
    bed.assert_queue_empty().await;
    assert_eq!(
        bed.running_task_definitions("web")
            .await
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>(),
        ["web:2", "web:2"]
    );
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_past_the_grace_releases_the_message_to_another_worker() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // A visibility far beyond the test's deadline: only a release lets the second worker have it soon.
    let mut first = WorkerProcess::start(
        &bed,
        &[
            ("SHUTDOWN_GRACE", "200ms"),
            ("SQS_VISIBILITY_TIMEOUT", "300"),
        ],
    );
    let id = bed.send_web("nginx:1.28", SLOW).await;
    first.wait_for("updated the service; watching the rollout", |_| true);

    first.signal("TERM");
    assert_eq!(first.wait_exit(), Some(0), "{}", first.log_text());
    first.wait_for("released unsettled: another worker resumes it", |l| {
        l["message_id"] == id.as_str()
    });
    assert!(first.lines_with("deployment finished").is_empty());

    let mut second = WorkerProcess::start(&bed, &[]);
    let finished = second.wait_for("deployment finished", |_| true);
    assert_eq!(finished["message_id"], id.as_str());
    assert_eq!(finished["outcome"], "deployed", "{}", second.log_text());
    assert_eq!(bed.revisions("web"), 2);
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);
    bed.assert_queue_empty().await;
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_arrives_while_the_worker_stops_is_given_back_at_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // A long wait: the receive in flight when the signal comes is still open at SQS when the message is sent.
    let mut worker = WorkerProcess::start(&bed, &[("SQS_WAIT_TIME", "10")]);
    worker.wait_for("receiving deployments", |_| true);
    worker.signal("TERM");
    worker.wait_for(
        "stop requested: no more messages are received; deployments in flight get SHUTDOWN_GRACE to settle",
        |_| true,
    );
    let id = bed.send_web("nginx:1.28", "healthy").await;
    assert_eq!(worker.wait_exit(), Some(0), "{}", worker.log_text());
    worker.wait_for("released unsettled: another worker resumes it", |l| {
        l["message_id"] == id.as_str()
    });
    assert!(worker.lines_with("deployment finished").is_empty());
    assert_eq!(
        bed.counts(&bed.queue_url).await,
        (1, 0),
        "visible again at once, not hidden for the visibility timeout"
    );
    assert_eq!(bed.revisions("web"), 1, "nothing deployed");
}

#[tokio::test(flavor = "multi_thread")]
async fn waiting_messages_are_given_back_at_once_on_stop_not_after_the_grace() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // A rollout of minutes, so the grace does not end early because the deployment settled.
    let mut worker =
        WorkerProcess::start(&bed, &[("SHUTDOWN_GRACE", "5m"), ("ECS_TIMEOUT", "10m")]);
    let deploying = bed.send_web("nginx:1.28", "slow:60000").await;
    worker.wait_for("updated the service; watching the rollout", |_| true);
    let waiting = bed.send_web("nginx:1.29", "healthy").await;
    worker.wait_for(
        "waiting: a deployment of this service is in progress",
        |l| l["message_id"] == waiting.as_str(),
    );

    worker.signal("TERM");
    // Given back while the deployment in flight still has minutes of grace.
    worker.wait_for("released unsettled: another worker resumes it", |l| {
        l["message_id"] == waiting.as_str()
    });
    assert!(worker.running(), "still in its grace");
    assert!(
        worker
            .lines_with("released unsettled: another worker resumes it")
            .iter()
            .all(|l| l["message_id"] != deploying.as_str()),
        "the deployment in flight keeps its message through the grace"
    );
    worker.signal("INT");
    assert_eq!(worker.wait_exit(), Some(130));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_exits_at_once_deleting_nothing() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let mut worker = WorkerProcess::start(&bed, &[("SHUTDOWN_GRACE", "5m")]);
    bed.send_web("nginx:1.28", SLOW).await;
    worker.wait_for("updated the service; watching the rollout", |_| true);

    worker.signal("TERM");
    worker.wait_for(
        "stop requested: no more messages are received; deployments in flight get SHUTDOWN_GRACE to settle",
        |_| true,
    );
    worker.signal("INT");
    assert_eq!(worker.wait_exit(), Some(130), "{}", worker.log_text());
    assert!(worker.lines_with("deployment finished").is_empty());
    assert_eq!(
        bed.counts(&bed.queue_url).await,
        (0, 1),
        "left on the queue"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_on_a_fifo_queue_keep_each_services_order_without_overlap() {
    let bed = Bed::start(false).await;
    let services = ["alpha", "bravo", "charlie", "delta", "echo"];
    for service in services {
        bed.service(service, 1, (true, true)).await;
    }
    let url = bed.fifo_queue("deployments.fifo").await;
    let config = bed.config(&[("SQS_URL", &url), ("CONCURRENCY", "2")]);
    let mut one = bed.start_worker(config.clone());
    let mut two = bed.start_worker(config);

    let mut sent: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for round in 1..=4 {
        for service in services {
            let id = bed
                .send_fifo(&url, service, &format!("nginx:1.{round}"))
                .await;
            sent.entry(service).or_default().push(id);
        }
    }
    let mut reports: Vec<(usize, Report)> = Vec::new();
    while reports.len() < 20 {
        tokio::select! {
            Some(r) = one.reports.recv() => reports.push((1, r)),
            Some(r) = two.reports.recv() => reports.push((2, r)),
            () = tokio::time::sleep(common::REPORT_DEADLINE) => panic!("only {} reports: {reports:?}", reports.len()),
        }
    }

    for service in services {
        let mut mine: Vec<&Report> = reports
            .iter()
            .map(|(_, r)| r)
            .filter(|r| r.service == service)
            .collect();
        mine.sort_by_key(|r| r.received_at);
        let ids: Vec<&str> = mine.iter().map(|r| r.message_id.as_str()).collect();
        assert_eq!(ids, sent[service], "{service}: applied in the order sent");
        for (i, report) in mine.iter().enumerate() {
            // Each one deployed, from the revision the one before it deployed: none overlapped another
            // (an overlapping update would have superseded the rollout before it).
            assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
            let revision = format!("{service}:{}", i + 2);
            assert_eq!(
                report.new_task_definition.as_deref().map(short),
                Some(revision.as_str())
            );
            let previous = format!("{service}:{}", i + 1);
            assert_eq!(
                report.previous_task_definition.as_deref().map(short),
                Some(previous.as_str())
            );
        }
        assert_eq!(
            bed.revisions(service),
            5,
            "{service}: one revision per message"
        );
    }
    assert!(
        reports.iter().any(|(w, _)| *w == 1) && reports.iter().any(|(w, _)| *w == 2),
        "both workers deployed"
    );
    assert_eq!(bed.counts(&url).await, (0, 0));
    one.stop().await;
    two.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_rides_out_an_sqs_outage_and_recovers_by_itself() {
    let mut bed = Bed::start(false).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = WorkerProcess::start(&bed, &[]);
    bed.send_web("nginx:1.28", "healthy").await;
    let first = worker.wait_for("deployment finished", |_| true);
    assert_eq!(first["outcome"], "deployed");

    bed.bed.moto.kill();
    worker.wait_for("cannot receive; retrying with backoff", |_| true);
    assert!(worker.running());
    bed.bed.moto.start_again();
    // It comes back empty: the queue is created again, at the same URL.
    let url = bed
        .sqs
        .create_queue()
        .queue_name("deployments")
        .send()
        .await
        .expect("create the queue again")
        .queue_url
        .expect("queue URL");
    assert_eq!(url, bed.queue_url);

    let id = bed.send_web("nginx:1.29", "healthy").await;
    let second = worker.wait_for("deployment finished", |l| l["message_id"] == id.as_str());
    assert_eq!(second["outcome"], "deployed", "{}", worker.log_text());
    assert_eq!(
        second["new_task_definition"].as_str().map(short),
        Some("web:3")
    );
    worker.wait_for("receiving again", |_| true);
    // One line per change of state, not per retry: the same error is never logged twice in a row
    // (connection refused, then possibly the queue missing for the moment before it was created again).
    let errors: Vec<&str> = worker
        .lines_with("cannot receive; retrying with backoff")
        .iter()
        .filter_map(|l| l["error"].as_str())
        .collect();
    assert!(!errors.is_empty());
    assert!(
        errors.windows(2).all(|w| w[0] != w[1]),
        "{}",
        worker.log_text()
    );
    assert_eq!(worker.lines_with("receiving again").len(), 1);
    bed.assert_queue_empty().await;
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_half_of_all_ecs_calls_throttled_every_deployment_settles_correctly() {
    let bed = Bed::start(true).await;
    for service in ["web", "api", "jobs"] {
        bed.service(service, 2, (true, true)).await;
    }
    bed.bed
        .sim
        .inject_fault(json!({"kind": "throttle", "every": 2}));
    let mut worker = bed.start_worker(bed.config(&[]));

    let mut expected = BTreeMap::new();
    for (service, behaviour) in [("web", "healthy"), ("api", "healthy"), ("jobs", "crash")] {
        let body = task_definition(service, "nginx:1.28", behaviour).to_string();
        let id = bed.send(&body, &[("service", service)]).await;
        expected.insert(id, (service, behaviour));
    }
    for _ in 0..expected.len() {
        let report = worker.next_report().await;
        let (service, behaviour) = expected[&report.message_id];
        assert_eq!(report.service, service);
        if behaviour == "healthy" {
            assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
        } else {
            assert!(
                matches!(
                    &report.outcome,
                    Outcome::Failed {
                        rollback: Rollback::CompletedByEcs,
                        ..
                    }
                ),
                "{report:?}"
            );
        }
        assert!(report.settled);
    }
    bed.bed.sim.clear_faults();
    for service in ["web", "api", "jobs"] {
        assert_eq!(bed.revisions(service), 2, "{service}: one new revision");
    }
    let faulted = bed.bed.sim.stats()["faulted"].clone();
    for operation in [
        "DescribeServices",
        "RegisterTaskDefinition",
        "UpdateService",
    ] {
        assert!(
            faulted[operation].as_u64().is_some_and(|n| n > 0),
            "{operation} was throttled too: {faulted}"
        );
    }
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_services_deploy_at_once_sharing_their_service_reads() {
    let bed = Bed::start(false).await;
    let services: Vec<String> = (0..10).map(|i| format!("svc{i}")).collect();
    for service in &services {
        bed.service(service, 1, (true, true)).await;
    }
    let mut worker = bed.start_worker(bed.config(&[]));
    let describes_before = bed.bed.sim.calls("DescribeServices");

    let started = std::time::Instant::now();
    for service in &services {
        // Tasks stay PENDING for 100 simulated seconds: each rollout takes over a second.
        let body = task_definition(service, "nginx:1.28", "slow:100").to_string();
        bed.send(&body, &[("service", service)]).await;
    }
    let mut reports = Vec::new();
    for _ in 0..services.len() {
        reports.push(worker.next_report().await);
    }
    let elapsed = started.elapsed();

    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Deployed),
        "{reports:?}"
    );
    // Every deployment was received before any finished: all ten ran at once.
    let last_start = reports.iter().map(|r| r.received_at).max();
    let first_end = reports.iter().map(|r| r.received_at + r.duration).min();
    assert!(last_start < first_end, "{reports:?}");
    let longest = reports.iter().map(|r| r.duration).max().unwrap_or_default();
    let total: Duration = reports.iter().map(|r| r.duration).sum();
    assert!(
        elapsed < total / 3,
        "ten rollouts took {elapsed:?}; one takes up to {longest:?}"
    );
    // One shared DescribeServices per poll for all ten, plus one per deployment before it starts; ten
    // separate poll loops would make about ten per poll.
    let describes = bed.bed.sim.calls("DescribeServices") - describes_before;
    let polls = (elapsed.as_millis() / 50) as u64 + 1;
    assert!(
        describes <= polls + 2 * services.len() as u64,
        "{describes} DescribeServices calls in about {polls} polls"
    );
    worker.stop().await;
}

/// Whether the proxy saw an event matching `what`.
fn saw(events: &[Event], what: impl Fn(&Event) -> bool) -> bool {
    events.iter().any(what)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_released_on_stop_is_not_hidden_again_by_an_extension_on_its_way() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let proxy = Proxy::start(&bed.bed.moto.endpoint()).await;
    // Every extension takes 2.5 s to reach SQS, unless the message was given up before that.
    proxy.hold(Hold::ExtensionsUntilSettled(Duration::from_millis(2500)));
    let worker = bed.start_worker_through(
        bed.config(&[
            ("SQS_VISIBILITY_TIMEOUT", "18"),
            ("SHUTDOWN_GRACE", "0s"),
            ("ECS_TIMEOUT", "10m"),
        ]),
        &proxy,
    );
    bed.send_web("nginx:1.28", "slow:60000").await;
    proxy
        .wait_for("an extension on its way", |e| {
            saw(e, |e| matches!(e, Event::ExtensionArrived(_)))
        })
        .await;

    worker.stop().await;
    proxy
        .wait_for("the extension and the release answered", |e| {
            saw(e, |e| matches!(e, Event::Extended(_)))
                && saw(e, |e| matches!(e, Event::Released(_)))
        })
        .await;
    assert_eq!(
        proxy.extended_after_release(),
        Vec::<String>::new(),
        "hidden again after its release: {:#?}",
        proxy.events()
    );
    assert_eq!(
        bed.counts(&bed.queue_url).await,
        (1, 0),
        "visible to another worker at once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_settled_message_whose_extension_was_on_its_way_is_not_called_a_lost_hold() {
    // Time in ecs-sim moves only when the test says, so the rollout ends while an extension is on its way.
    let bed = Bed::start_with_clock(true, None).await;
    bed.service("web", 1, (true, true)).await;
    let proxy = Proxy::start(&bed.bed.moto.endpoint()).await;
    proxy.hold(Hold::ExtensionsUntilSettled(Duration::from_millis(2500)));
    let mut worker = WorkerProcess::start(
        &bed,
        &[
            ("AWS_ENDPOINT_URL_SQS", proxy.url.as_str()),
            ("SQS_VISIBILITY_TIMEOUT", "18"),
        ],
    );
    let id = bed.send_web("nginx:1.28", "healthy").await;
    worker.wait_for("updated the service; watching the rollout", |_| true);
    proxy
        .wait_for("an extension on its way", |e| {
            saw(e, |e| matches!(e, Event::ExtensionArrived(_)))
        })
        .await;

    bed.bed.sim.advance(120);
    let finished = worker.wait_for("deployment finished", |_| true);
    assert_eq!(finished["message_id"], id.as_str());
    assert_eq!(finished["outcome"], "deployed", "{}", worker.log_text());
    // The extension reaches SQS after the delete, which refuses it.
    proxy
        .wait_for("the late extension refused", |e| {
            saw(e, |e| matches!(e, Event::ExtensionRefused(_)))
        })
        .await;
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(), Some(0), "{}", worker.log_text());
    assert!(
        worker.log_text().contains("\"message\":\"stopped\""),
        "{}",
        worker.log_text()
    );
    assert!(
        !worker.log_text().contains("lost hold"),
        "a settled message is not a lost hold: {}",
        worker.log_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_extension_that_hangs_is_given_up_and_tried_again_before_the_hold_lapses() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let proxy = Proxy::start(&bed.bed.moto.endpoint()).await;
    // The first extension never gets an answer; SQS itself would have kept the message hidden for 6 s.
    proxy.hold(Hold::FirstExtensionForever);
    let worker = bed.start_worker_through(
        bed.config(&[
            ("SQS_VISIBILITY_TIMEOUT", "6"),
            ("ECS_TIMEOUT", "10m"),
            ("SHUTDOWN_GRACE", "0s"),
        ]),
        &proxy,
    );
    let id = bed.send_web("nginx:1.28", "slow:60000").await;
    let deliveries = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Received(m) if m.iter().any(|(mid, _)| mid == &id)))
            .count()
    };
    let extensions = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::ExtensionArrived(_)))
            .count()
    };
    // Either the heartbeat gives up on the hanging call and extends again, or the hold lapses and SQS
    // delivers the message a second time: whichever comes first.
    proxy
        .wait_for("a second extension, or a second delivery", |e| {
            extensions(e) >= 2 || deliveries(e) >= 2
        })
        .await;
    let events = proxy.events();
    assert_eq!(deliveries(&events), 1, "the hold lapsed: {events:#?}");
    proxy
        .wait_for("the second extension answered", |e| {
            saw(e, |e| matches!(e, Event::Extended(_)))
        })
        .await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deployment_id_is_recorded_even_when_ecs_fails_the_first_tries() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // More failures than the SDK's own retries of one call absorb.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "TagResource", "kind": "error500", "count": 4}));
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:1.28", "healthy").await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let revision = report.new_task_definition.expect("the new revision");
    let (_, marks) = bed.tags(&revision);
    assert!(
        marks
            .get("ecs-deployment:deployment-id")
            .is_some_and(|d| d.starts_with("ecs-svc/")),
        "{marks:?}"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivery_never_points_the_service_back_after_someone_deployed_since() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    // An earlier delivery of the message registered web:2 with its marks and pointed the service at it,
    // then its worker died before recording the deployment; the message is delivered again.
    let id = bed.send_web("nginx:1.28", "healthy").await;
    let received = bed
        .sqs
        .receive_message()
        .queue_url(&bed.queue_url)
        .send()
        .await
        .expect("receive");
    let handle = received.messages()[0]
        .receipt_handle()
        .expect("receipt handle")
        .to_owned();
    bed.sqs
        .change_message_visibility()
        .queue_url(&bed.queue_url)
        .receipt_handle(handle)
        .visibility_timeout(0)
        .send()
        .await
        .expect("give the message back");
    let v2 = bed.register("web", "nginx:1.28", "healthy").await;
    bed.ecs
        .tag_resource()
        .resource_arn(&v2)
        .tags(
            Tag::builder()
                .key("ecs-deployment:message-id")
                .value(&id)
                .build(),
        )
        .tags(
            Tag::builder()
                .key("ecs-deployment:previous-task-definition")
                .value(&v1)
                .build(),
        )
        .send()
        .await
        .expect("mark web:2 as the message's");
    // Then someone deployed web:3, and that rollout is over: ECS lists no deployment of web:2 any more.
    let v3 = bed.register("web", "nginx:1.29", "healthy").await;
    for revision in [&v2, &v3] {
        bed.ecs
            .update_service()
            .service("web")
            .task_definition(revision)
            .send()
            .await
            .expect("update the service");
        testbed::wait_until("the rollout", common::REPORT_DEADLINE, || async {
            let service = bed.describe("web").await?;
            let done = service.deployments().len() == 1
                && service.deployments()[0].rollout_state().map(|s| s.as_str())
                    == Some("COMPLETED");
            done.then_some(())
        })
        .await;
    }
    let updates = bed.bed.sim.calls("UpdateService");
    let mut worker = bed.start_worker(bed.config(&[]));

    let report = worker.next_report().await;

    assert_eq!(report.message_id, id);
    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("expected superseded, got {report:?}");
    };
    assert!(
        reason.contains("web:2") && reason.contains("web:3") && reason.contains("earlier delivery"),
        "{reason}"
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        updates,
        "not updated back"
    );
    assert_eq!(bed.revisions("web"), 3, "nothing registered");
    assert_eq!(
        bed.running_task_definitions("web")
            .await
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>(),
        ["web:3", "web:3"]
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}
