//! End to end: messages on moto's SQS, rollouts in ecs-sim, the worker through the library's entry point.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ecs::types::{DeploymentController, DeploymentControllerType};
use common::{Bed, Proxy, short, task_definition};
use ecs_deployment::decide::outcome::{Disposition, Outcome, Rollback};
use ecs_deployment::decide::policy::Privilege;
use serde_json::json;

/// A rejection case: its name, the body, the attributes, and what the reason must say.
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn a_good_deployment_rolls_out_and_its_message_is_deleted() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    let body = task_definition("web", "nginx:1.28", "healthy").to_string();
    let id = bed
        .send(
            &body,
            &[
                ("service", "web"),
                ("commit_url", "https://example.com/commit/abc"),
            ],
        )
        .await;
    let report = worker.next_report().await;

    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        (report.disposition, report.settled),
        (Disposition::Delete, true)
    );
    assert_eq!(report.service, "web");
    assert_eq!(report.cluster, "default");
    assert_eq!(
        report.commit_url.as_deref(),
        Some("https://example.com/commit/abc")
    );
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(v1.as_str())
    );
    let v2 = report
        .new_task_definition
        .clone()
        .expect("a new task definition");
    assert_eq!(short(&v2), "web:2");
    // Done means the running tasks really are the new revision, all of them.
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v2.clone(), v2.clone()]
    );
    let service = bed.describe("web").await.expect("service");
    assert_eq!(service.task_definition(), Some(v2.as_str()));
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn service_false_registers_only() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[("ALLOW_REGISTER_ONLY", "web")]));

    bed.send(
        &task_definition("web", "nginx:1.28", "healthy").to_string(),
        &[("service", "false")],
    )
    .await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Registered, "{report:?}");
    assert_eq!(
        report.new_task_definition.as_deref().map(short),
        Some("web:2")
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        0,
        "register-only must not touch a service"
    );
    assert_eq!(
        bed.task_definition_of("web").await.as_deref().map(short),
        Some("web:1")
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_task_definition_output_is_deployed_as_is() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // The producer's way: take the running definition with the aws CLI, change the image, send it back.
    bed.ecs
        .tag_resource()
        .resource_arn(bed.task_definition_of("web").await.expect("td"))
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key("team")
                .value("web")
                .build(),
        )
        .send()
        .await
        .expect("tag the task definition");
    let mut described = testbed::aws_json(
        &bed.bed.sim.endpoint(),
        &[
            "ecs",
            "describe-task-definition",
            "--task-definition",
            "web",
            "--include",
            "TAGS",
        ],
    );
    assert!(
        described["taskDefinition"]["revision"].is_number(),
        "{described}"
    );
    described["taskDefinition"]["containerDefinitions"][0]["image"] = json!("nginx:1.28");
    let mut worker = bed.start_worker(bed.config(&[]));

    let id = bed
        .send(&described.to_string(), &[("service", "web")])
        .await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let v2 = report.new_task_definition.expect("registered");
    let (producer_tags, marks) = bed.tags(&v2);
    assert_eq!(producer_tags, json!([{"key": "team", "value": "web"}]));
    assert_eq!(marks["ecs-deployment:message-id"], id);
    assert_eq!(
        marks["ecs-deployment:previous-task-definition"],
        report
            .previous_task_definition
            .expect("the previous revision")
    );
    assert!(
        marks["ecs-deployment:deployment-id"].starts_with("ecs-svc/"),
        "{marks:?}"
    );
    let registered = testbed::aws_json(
        &bed.bed.sim.endpoint(),
        &[
            "ecs",
            "describe-task-definition",
            "--task-definition",
            &v2,
            "--include",
            "TAGS",
        ],
    );
    assert_eq!(
        registered["taskDefinition"]["containerDefinitions"][0]["image"],
        "nginx:1.28"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rejection_goes_to_the_dead_letter_queue_with_its_reason() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let good = task_definition("web", "nginx:1.28", "healthy").to_string();
    let mut unknown_member = task_definition("web", "nginx:1.28", "healthy");
    unknown_member["containerDefinitions"][0]["imag"] = json!("typo");
    let mut no_containers = task_definition("web", "nginx:1.28", "healthy");
    no_containers["containerDefinitions"] = json!([]);
    let no_containers = no_containers.to_string();
    let cases: Vec<Case> = vec![
        (
            "body not JSON",
            "image: nginx".into(),
            vec![("service", "web")],
            "not JSON",
        ),
        (
            "not a task definition",
            json!({"image": "nginx"}).to_string(),
            vec![("service", "web")],
            "image",
        ),
        (
            "unknown member",
            unknown_member.to_string(),
            vec![("service", "web")],
            "containerDefinitions[0].imag",
        ),
        (
            "missing service",
            good.clone(),
            vec![("commit_url", "https://x/1")],
            "'service'",
        ),
        (
            "ECS refuses the task definition",
            no_containers,
            vec![("service", "web")],
            "Container list cannot be empty",
        ),
        (
            "unknown service",
            good.clone(),
            vec![("service", "nope")],
            "service 'nope' not found",
        ),
    ];
    let mut worker = bed.start_worker(bed.config(&[]));
    let mut expected = std::collections::HashMap::new();
    for (name, body, attributes, reason) in &cases {
        let id = bed.send(body, attributes).await;
        expected.insert(id, (*name, body.clone(), *reason));
    }
    for _ in &cases {
        let report = worker.next_report().await;
        let (name, _, reason) = expected[&report.message_id];
        match &report.outcome {
            Outcome::Rejected { reason: said } => assert!(said.contains(reason), "{name}: {said}"),
            other => panic!("{name}: expected a rejection, got {other:?}"),
        }
        assert_eq!(
            (report.disposition, report.settled),
            (Disposition::DeadLetter, true),
            "{name}"
        );
    }
    let letters = bed.dead_letters(cases.len()).await;
    assert_eq!(letters.len(), cases.len());
    for letter in letters {
        let attributes = letter.message_attributes.clone().unwrap_or_default();
        let original = attributes["original_message_id"]
            .string_value()
            .expect("original id")
            .to_owned();
        let (name, body, reason) = &expected[&original];
        assert_eq!(
            letter.body.as_deref(),
            Some(body.as_str()),
            "{name}: the body is kept"
        );
        let said = attributes["rejection_reason"]
            .string_value()
            .unwrap_or_default();
        assert!(said.contains(reason), "{name}: {said}");
        if *name != "missing service" {
            assert!(
                attributes.contains_key("service"),
                "{name}: the producer's attributes are kept"
            );
        }
    }
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        0,
        "nothing rejected may touch a service"
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_dead_letter_queue_rejections_are_logged_and_deleted() {
    let bed = Bed::start(false).await;
    bed.service("web", 1, (true, true)).await;
    // A cluster the message picks and ECS does not have: ECS refuses it.
    let mut worker = bed.start_worker(bed.config(&[("ALLOWED_CLUSTERS", "default,elsewhere")]));

    let body = task_definition("web", "nginx:1.28", "healthy").to_string();
    bed.send(&body, &[("service", "web"), ("cluster", "elsewhere")])
        .await;
    bed.send("{", &[("service", "web")]).await;
    let mut reasons = Vec::new();
    for _ in 0..2 {
        let report = worker.next_report().await;
        assert!(
            matches!(report.outcome, Outcome::Rejected { .. }),
            "{report:?}"
        );
        assert_eq!(
            (report.disposition, report.settled),
            (Disposition::LogAndDelete, true)
        );
        reasons.push(report.outcome.reason());
    }
    reasons.sort();
    assert!(
        reasons[0].contains("ClusterNotFoundException"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("not JSON"), "{reasons:?}");
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_with_the_circuit_breaker_is_rolled_back_by_ecs() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:broken", "crash").await;
    let report = worker.next_report().await;

    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("expected a failure, got {report:?}");
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
    // ECS's own words: the rollout state reason, or once the failed deployment is gone, its events.
    assert!(reason.contains("ECS rolled the service back"), "{reason}");
    assert!(reason.contains("failed to start"), "{reason}");
    assert!(
        reason.contains("Essential container"),
        "the stopped tasks' reason is quoted: {reason}"
    );
    assert_eq!(
        (report.disposition, report.settled),
        (Disposition::Delete, true)
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1.clone()]
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        1,
        "ECS rolled back; the worker must not"
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stopped_tasks_are_read_only_for_the_deployments_revision() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    // Earlier deployments left stopped tasks in the service.
    for _ in 0..2 {
        bed.ecs
            .update_service()
            .service("web")
            .force_new_deployment(true)
            .send()
            .await
            .expect("force a new deployment");
        testbed::wait_until("the forced deployment", common::REPORT_DEADLINE, || async {
            let service = bed.describe("web").await?;
            let done = service.deployments().len() == 1
                && service.deployments()[0].rollout_state().map(|s| s.as_str())
                    == Some("COMPLETED");
            done.then_some(())
        })
        .await;
    }
    let earlier: Vec<String> = testbed::service_tasks(&bed.ecs, "web", "STOPPED")
        .await
        .into_iter()
        .filter_map(|t| t.task_arn)
        .collect();
    assert_eq!(earlier.len(), 4, "{earlier:?}");
    let proxy = Proxy::start(&bed.bed.sim.endpoint()).await;
    let mut worker = bed.start_worker_with_ecs_through(bed.config(&[]), &proxy);

    bed.send_web("nginx:broken", "crash").await;
    let report = worker.next_report().await;

    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("expected a failure, got {report:?}");
    };
    assert_eq!(rollback, &Rollback::CompletedByEcs, "{reason}");
    assert!(
        reason.contains("Essential container"),
        "the stopped tasks' reason is quoted: {reason}"
    );
    let ours: Vec<String> = testbed::service_tasks(&bed.ecs, "web", "STOPPED")
        .await
        .into_iter()
        .filter(|t| t.task_definition_arn().map(short) == Some("web:2"))
        .filter_map(|t| t.started_by)
        .collect();
    let deployment = ours.first().expect("stopped tasks of web:2");
    let stopped_listings: Vec<_> = proxy
        .calls("ListTasks")
        .into_iter()
        .filter(|c| c["desiredStatus"] == "STOPPED")
        .collect();
    assert!(!stopped_listings.is_empty(), "the stopped tasks were read");
    for listing in &stopped_listings {
        assert_eq!(listing["startedBy"], deployment.as_str(), "{listing}");
        assert!(listing.get("serviceName").is_none(), "{listing}");
    }
    let described: Vec<String> = proxy
        .calls("DescribeTasks")
        .iter()
        .flat_map(|c| c["tasks"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    assert!(
        earlier.iter().all(|t| !described.contains(t)),
        "tasks of earlier deployments were described: {described:?}"
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1.clone()]
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_without_the_circuit_breaker_times_out_and_is_rolled_back() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (false, false)).await;
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "2s")]));

    bed.send_web("nginx:broken", "crash").await;
    let report = worker.next_report().await;

    let Outcome::TimedOut { reason, rollback } = &report.outcome else {
        panic!("expected a timeout, got {report:?}");
    };
    assert_eq!(rollback, &Rollback::Completed, "{reason}");
    assert!(reason.contains("ECS_TIMEOUT (2s)"), "{reason}");
    assert!(reason.contains("Essential container"), "{reason}");
    let service = bed.describe("web").await.expect("service");
    assert_eq!(
        service.task_definition(),
        Some(v1.as_str()),
        "rolled back to the previous revision"
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1.clone()]
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_rollback_off_a_failed_rollout_is_left_as_it_is() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, false)).await;
    let mut worker = bed.start_worker(bed.config(&[("ROLLBACK_ON_FAILURE", "false")]));

    bed.send_web("nginx:broken", "crash").await;
    let report = worker.next_report().await;

    assert!(
        matches!(
            &report.outcome,
            Outcome::Failed {
                rollback: Rollback::Disabled,
                ..
            }
        ),
        "{report:?}"
    );
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unplaceable_task_times_out_quoting_ecs_and_is_rolled_back() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "2s")]));

    bed.send_web("nginx:big", "unplaceable").await;
    let report = worker.next_report().await;

    let Outcome::TimedOut { reason, rollback } = &report.outcome else {
        panic!("expected a timeout, got {report:?}");
    };
    assert!(reason.contains("unable to place a task"), "{reason}");
    assert_eq!(rollback, &Rollback::Completed, "{reason}");
    assert_eq!(
        bed.task_definition_of("web").await.as_deref(),
        Some(v1.as_str())
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn someone_elses_new_deployment_of_our_own_revision_supersedes_ours_and_is_left_alone() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:slow", "slow:300").await;
    // Once the worker's update is in (web:2), someone forces a new deployment of that same revision.
    bed.wait_for_task_definition("web", "web:2").await;
    bed.ecs
        .update_service()
        .service("web")
        .force_new_deployment(true)
        .send()
        .await
        .expect("someone's forced new deployment");
    let theirs = bed
        .describe("web")
        .await
        .and_then(|s| {
            s.deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
                .and_then(|d| d.id().map(str::to_owned))
        })
        .expect("their deployment");
    let report = worker.next_report().await;

    // Their deployment is theirs: the worker neither judges it as its own nor acts on it.
    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("expected superseded, got {report:?}");
    };
    assert!(
        reason.contains(&format!("deployment {theirs} of web:2")),
        "{reason}"
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        2,
        "theirs and ours only"
    );
    assert_eq!(bed.bed.sim.calls("StopServiceDeployment"), 0);
    assert_eq!(
        bed.task_definition_of("web").await.as_deref().map(short),
        Some("web:2")
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_update_supersedes_the_rollout_and_nothing_is_rolled_back() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let other = bed.register("web", "nginx:hotfix", "healthy").await; // web:2
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:slow", "slow:300").await;
    // Once the worker's update is in (web:3), someone else updates the service.
    bed.wait_for_task_definition("web", "web:3").await;
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&other)
        .send()
        .await
        .expect("someone else's update");
    let report = worker.next_report().await;

    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("expected superseded, got {report:?}");
    };
    assert!(reason.contains("web:2"), "{reason}");
    assert_eq!(report.disposition, Disposition::Delete);
    assert_eq!(
        bed.task_definition_of("web").await.as_deref(),
        Some(other.as_str()),
        "the other update stands"
    );
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        2,
        "no rollback over someone else's update"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_deleted_mid_rollout_fails_without_rollback() {
    for purge in [false, true] {
        let bed = Bed::start(true).await;
        bed.service("web", 1, (true, true)).await;
        let mut worker = bed.start_worker(bed.config(&[]));

        bed.send_web("nginx:slow", "slow:300").await;
        bed.wait_for_task_definition("web", "web:2").await;
        bed.bed.sim.delete_service("default", "web", purge);
        let report = worker.next_report().await;

        let Outcome::Failed { reason, rollback } = &report.outcome else {
            panic!("purge={purge}: expected a failure, got {report:?}");
        };
        let expected: &[&str] = if purge {
            &["no longer exists"]
        } else {
            &["DRAINING", "INACTIVE"]
        };
        assert!(
            expected.iter().any(|e| reason.contains(e)),
            "purge={purge}: {reason}"
        );
        assert!(
            matches!(rollback, Rollback::NotPossible(_)),
            "purge={purge}: {rollback:?}"
        );
        assert_eq!(
            (report.disposition, report.settled),
            (Disposition::Delete, true)
        );
        bed.assert_queue_empty().await;
        worker.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_scaled_to_zero_is_deployed_at_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 0, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send_web("nginx:1.28", "healthy").await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert!(bed.running_task_definitions("web").await.is_empty());
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_longer_than_the_visibility_timeout_is_settled_once() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[("SQS_VISIBILITY_TIMEOUT", "2")]));

    // slow:500 takes about five seconds of real time: more than two visibility timeouts.
    let id = bed.send_web("nginx:slow", "slow:500").await;
    bed.wait_for_task_definition("web", "web:2").await;
    // Meanwhile another receiver polls the queue: the message must never be visible to it.
    let watcher = {
        let sqs = bed.sqs.clone();
        let url = bed.queue_url.clone();
        tokio::spawn(async move {
            let mut stolen = Vec::new();
            loop {
                let out = sqs
                    .receive_message()
                    .queue_url(&url)
                    .visibility_timeout(0)
                    .wait_time_seconds(1)
                    .send()
                    .await
                    .expect("receive");
                stolen.extend(
                    out.messages
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|m| m.message_id),
                );
                if !stolen.is_empty() {
                    return stolen;
                }
            }
        })
    };
    let report = worker.next_report().await;
    assert!(
        !watcher.is_finished(),
        "another receiver got the message: {:?}",
        watcher.await
    );
    watcher.abort();

    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert!(
        report.duration > Duration::from_secs(4),
        "the rollout outlived the visibility timeout"
    );
    assert_eq!(
        bed.bed.sim.calls("RegisterTaskDefinition"),
        2,
        "one registration for the service, one for the message"
    );
    bed.assert_queue_empty().await;
    assert!(worker.reports.try_recv().is_err(), "settled exactly once");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_definition_using_every_member_reaches_ecs_unchanged() {
    let path = testbed::workspace_root()
        .join("crates/ecs-sim/tests/fixtures/every-member-task-definition.json");
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read the fixture"))
            .expect("JSON");
    let missing = ecs_model::model().missing_members("RegisterTaskDefinition", &fixture);
    assert!(
        missing.is_empty(),
        "the fixture leaves out members ECS knows: {missing:?}"
    );
    let bed = Bed::start(true).await;
    // What it refers to (roles, an ECR image, parameters, a log group) exists nowhere: this is about the
    // body reaching ECS unchanged; tests/preflight.rs checks the references.
    // A new family whose first revision sets every member: the policy allows all of it.
    let privileges: Vec<&str> = Privilege::ALL.iter().map(|p| p.label()).collect();
    let privileges = privileges.join(",");
    let mut worker = bed.start_worker(bed.config(&[
        ("VERIFY", "off"),
        ("ALLOW_REGISTER_ONLY", "true"),
        ("ALLOW_NEW_FAMILIES", "true"),
        ("ALLOWED_PRIVILEGES", &privileges),
        ("ALLOWED_IMAGES", "**"),
        ("ALLOWED_TASK_ROLES", "**"),
        ("ALLOWED_EXECUTION_ROLES", "**"),
        ("ALLOWED_SECRETS", "**"),
    ]));

    bed.send(&fixture.to_string(), &[("service", "false")])
        .await;
    let report = worker.next_report().await;

    assert_eq!(report.outcome, Outcome::Registered, "{report:?}");
    let arn = report.new_task_definition.expect("registered");
    // Read back raw: an SDK or CLI would drop members its model does not know.
    let described = bed.bed.sim.call(
        "DescribeTaskDefinition",
        &json!({"taskDefinition": arn, "include": ["TAGS"]}),
    );
    let (producer_tags, _marks) = bed.tags(&arn);
    for (member, value) in fixture.as_object().expect("an object") {
        let got = if member == "tags" {
            &producer_tags
        } else {
            &described["taskDefinition"][member]
        };
        assert_eq!(got, value, "member {member} changed on the way");
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_ecs_calls_are_retried_in_place_without_a_second_revision() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // More failures than the SDK's own retries absorb, and a registration whose answer is lost: the
    // worker cannot tell it happened, finds the revision by its mark and uses it.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServices", "kind": "error500", "count": 4}));
    bed.bed.sim.inject_fault(
        json!({"operation": "RegisterTaskDefinition", "kind": "lose-answer", "count": 1}),
    );
    bed.bed
        .sim
        .inject_fault(json!({"operation": "UpdateService", "kind": "throttle", "count": 4}));
    let mut worker = bed.start_worker(bed.config(&[]));

    let id = bed.send_web("nginx:1.28", "healthy").await;
    let report = worker.next_report().await;

    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        report.new_task_definition.as_deref().map(short),
        Some("web:2")
    );
    assert_eq!(bed.revisions("web"), 2, "one revision for the message");
    assert_eq!(
        bed.bed.sim.calls("RegisterTaskDefinition"),
        2,
        "web:1 and the lost one"
    );
    assert_eq!(bed.bed.sim.stats()["faulted"]["UpdateService"], 4);
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ecs_down_past_ecs_timeout_gives_the_message_back_for_later() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServices", "kind": "error500"}));
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "1s")]));

    let id = bed.send_web("nginx:1.28", "healthy").await;
    let first = worker.next_report().await;
    assert!(
        matches!(first.outcome, Outcome::RetryLater { .. }),
        "{first:?}"
    );
    assert!(
        first.outcome.reason().contains("DescribeServices"),
        "{first:?}"
    );
    assert_eq!(
        (first.disposition, first.settled),
        (Disposition::LeaveForRedelivery, false)
    );
    assert_eq!(bed.revisions("web"), 1, "nothing registered yet");

    // Given back at once (visibility 0), it is received again; once ECS answers it goes through.
    bed.bed.sim.clear_faults();
    let second = worker.next_report().await;
    assert_eq!(second.message_id, id);
    assert_eq!(second.outcome, Outcome::Deployed, "{second:?}");
    assert_eq!(bed.revisions("web"), 2);
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_services_newest_message_waits_and_an_older_waiting_one_is_superseded() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut ids = Vec::new();
    for image in ["nginx:1.28", "nginx:1.29", "nginx:1.30"] {
        let body = task_definition("web", image, "slow:50").to_string();
        ids.push(bed.send(&body, &[("service", "web")]).await);
    }
    // Received together: the first deploys, the third replaces the second as the one waiting.
    let mut worker = bed.start_worker(bed.config(&[("SQS_VISIBILITY_TIMEOUT", "1")]));

    let mut reports = BTreeMap::new();
    for _ in 0..ids.len() {
        let report = worker.next_report().await;
        reports.insert(report.message_id.clone(), report);
    }
    let [first, second, third] = [&reports[&ids[0]], &reports[&ids[1]], &reports[&ids[2]]];
    let Outcome::Superseded { reason } = &second.outcome else {
        panic!("the older waiting message is superseded: {second:?}");
    };
    assert!(
        reason.contains(&ids[2]),
        "names the newer message: {reason}"
    );
    assert!(second.settled, "settled at once, not deployed");
    for (report, from, to) in [(first, "web:1", "web:2"), (third, "web:2", "web:3")] {
        assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
        assert_eq!(
            report.previous_task_definition.as_deref().map(short),
            Some(from),
            "each starts from the one before: {report:?}"
        );
        assert_eq!(report.new_task_definition.as_deref().map(short), Some(to));
    }
    assert!(first.received_at <= third.received_at);
    assert_eq!(bed.revisions("web"), 3, "two rollouts for three messages");
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ecs_endpoint_that_hangs_cannot_hold_a_deployment_past_its_deadline() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // Without ECS's record, the running tasks decide; every ListTasks answers after five minutes: the
    // rollout, its rollback and the stopped tasks' reasons all need it.
    bed.bed
        .sim
        .inject_fault(json!({"operation": "DescribeServiceDeployments", "kind": "denied"}));
    bed.bed
        .sim
        .inject_fault(json!({"operation": "ListTasks", "kind": "delay", "delayMs": 300_000}));
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    bed.send_web("nginx:1.29", "healthy").await;
    // Within the report deadline (a minute), far from the five minutes any one read would take.
    let report = worker.next_report().await;
    let Outcome::TimedOut { rollback, .. } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(matches!(rollback, Rollback::Failed(_)), "{rollback:?}");
    bed.bed.sim.clear_faults();
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_ecs_s_record_successful_a_task_read_that_hangs_delays_nothing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("ecs_deployment=debug")
        .try_init(); // TEMP
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    bed.bed
        .sim
        .inject_fault(json!({"operation": "ListTasks", "kind": "delay", "delayMs": 300_000}));
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "3s")]));
    bed.send_web("nginx:1.29", "healthy").await;
    // ECS's record says SUCCESSFUL: that is the verdict; the tasks would only have added detail.
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);
    assert_eq!(bed.bed.sim.calls("StopServiceDeployment"), 0);
    bed.bed.sim.clear_faults();
    assert_eq!(
        bed.running_task_definitions("web")
            .await
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>(),
        ["web:2"]
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn services_deployed_by_codedeploy_or_task_sets_are_refused_before_anything_is_registered() {
    let bed = Bed::start(true).await;
    let v1 = bed.register("web", "nginx:1.27", "healthy").await;
    for (name, controller) in [
        ("web", DeploymentControllerType::CodeDeploy),
        ("edge", DeploymentControllerType::External),
    ] {
        let mut create = bed
            .ecs
            .create_service()
            .service_name(name)
            .desired_count(1)
            .deployment_controller(
                DeploymentController::builder()
                    .r#type(controller.clone())
                    .build()
                    .expect("controller"),
            );
        if controller == DeploymentControllerType::CodeDeploy {
            create = create.task_definition(&v1);
        }
        create.send().await.expect("create the service");
    }
    let mut worker = bed.start_worker(bed.config(&[]));

    for (name, controller) in [("web", "CODE_DEPLOY"), ("edge", "EXTERNAL")] {
        let body = task_definition("web", "nginx:1.28", "healthy").to_string();
        bed.send(&body, &[("service", name)]).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("expected a rejection, got {report:?}");
        };
        assert!(
            reason.contains(controller)
                && reason.contains(name)
                && reason.contains("service=false"),
            "{reason}"
        );
        assert_eq!(report.disposition, Disposition::DeadLetter);
    }
    assert_eq!(bed.revisions("web"), 1, "nothing registered");
    assert_eq!(bed.bed.sim.calls("RegisterTaskDefinition"), 1);
    assert_eq!(bed.bed.sim.calls("UpdateService"), 0);
    assert_eq!(bed.dead_letters(2).await.len(), 2);
    worker.stop().await;
}
