//! End to end: messages the worker rejects, with their reasons, to the dead-letter queue or deleted.

mod common;

use common::{Bed, task_definition};
use ecs_deployment::decide::outcome::{Disposition, Outcome};
use serde_json::json;

/// A rejection case: its name, the body, the attributes, and what the reason must say.
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);

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
