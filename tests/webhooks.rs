//! End to end: Teams cards and signed webhook notices, and sinks that fail or hang without holding a deployment up.

mod common;

use common::{Bed, HttpReceiver, task_definition};
use ecs_deployment::decide::outcome::Outcome;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_or_hanging_notification_neither_fails_nor_delays_a_deployment() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    // Slack takes the posts and does not answer; the topic does not exist; the reply queue (ours, so the
    // policy allows it) does not exist either.
    let slack = HttpReceiver::start(false).await;
    let missing_reply_queue = bed.queue_url.replace("/deployments", "/missing-replies");
    let mut worker = bed.start_worker(bed.config(&[
        ("SLACK_WEBHOOK", slack.url.as_str()),
        ("SNS_TOPIC", "arn:aws:sns:us-east-1:123456789012:missing"),
    ]));
    let id = bed
        .send(
            &task_definition("web", "nginx:1.28", "healthy").to_string(),
            &[("service", "web"), ("reply_to", &missing_reply_queue)],
        )
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert!(report.settled);
    bed.assert_queue_empty().await;
    // The deployment ended while Slack still held its first post unanswered.
    assert_eq!(
        slack.bodies.lock().expect("bodies").len(),
        1,
        "only the start reached Slack so far"
    );
    let text = testbed::wait_until(
        "failed notifications counted",
        common::REPORT_DEADLINE,
        || async {
            let text = worker.metrics.encode();
            (text.contains(r#"notifications_total{sink="sns",result="failed"} 2"#)
                && text.contains(r#"notifications_total{sink="reply",result="failed"} 2"#))
            .then_some(text)
        },
    )
    .await;
    assert!(
        text.contains(r#"aws_errors_total{service="sns",operation="Publish""#),
        "{text}"
    );
    slack.open();
    slack.wait_for(2).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn teams_gets_adaptive_cards_and_the_webhook_a_signed_notice() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let teams = HttpReceiver::start(true).await;
    let hook = HttpReceiver::start(true).await;
    let mut worker = bed.start_worker(bed.config(&[
        ("TEAMS_WEBHOOK", teams.url.as_str()),
        ("WEBHOOK_URL", hook.url.as_str()),
        ("WEBHOOK_SECRET", "s3cret"),
    ]));
    let metrics = worker.metrics.clone();
    let id = bed
        .send(
            &task_definition("web", "nginx:1.28", "healthy").to_string(),
            &[
                ("service", "web"),
                ("commit_url", "https://example.com/commit/1"),
            ],
        )
        .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    bed.send("{not json", &[("service", "web")]).await;
    worker.next_report().await;

    // Teams: one Adaptive Card per notice, colored as Slack's posts are.
    let cards = teams.wait_for(3).await;
    let card = |i: usize| cards[i]["attachments"][0].clone();
    for i in 0..3 {
        assert_eq!(
            card(i)["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card(i)["content"]["type"], "AdaptiveCard");
    }
    let colors: Vec<&str> = (0..3)
        .map(|i| {
            cards[i]["attachments"][0]["content"]["body"][0]["color"]
                .as_str()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(colors, ["Accent", "Good", "Attention"], "{cards:#?}");
    let facts = &card(1)["content"]["body"][1]["facts"];
    assert!(
        facts
            .as_array()
            .is_some_and(|f| f.contains(&json!({"title": "Service", "value": "web"}))),
        "{facts}"
    );
    assert_eq!(
        card(1)["content"]["actions"][0]["url"],
        "https://example.com/commit/1"
    );

    // The webhook: the JSON notice, signed with HMAC-SHA256 over the body as received.
    hook.wait_for(3).await;
    let raw = hook.raw.lock().expect("raw").clone();
    assert_eq!(raw.len(), 3);
    for (headers, body) in &raw {
        let notice: Value = serde_json::from_str(body).expect("a JSON notice");
        assert_eq!(
            headers.get("x-ecs-deployment-event").map(String::as_str),
            notice["event"].as_str()
        );
        assert_eq!(
            headers.get("x-ecs-deployment-signature"),
            Some(&ecs_deployment::ops::notify::webhook::signature(
                "s3cret", body
            )),
            "{headers:?}"
        );
        assert_eq!(
            headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
    }
    let first: Value = serde_json::from_str(&raw[0].1).expect("JSON");
    assert_eq!(first["message_id"], id.as_str());
    // A receiver checking with another key would refuse it.
    assert_ne!(
        raw[0].0.get("x-ecs-deployment-signature"),
        Some(&ecs_deployment::ops::notify::webhook::signature(
            "other", &raw[0].1
        ))
    );
    testbed::wait_until("delivered counts", common::REPORT_DEADLINE, || async {
        let text = metrics.encode();
        (text.contains(r#"ecs_deployment_notifications_total{sink="teams",result="delivered"} 3"#)
            && text.contains(
                r#"ecs_deployment_notifications_total{sink="webhook",result="delivered"} 3"#,
            ))
        .then_some(())
    })
    .await;
    worker.stop().await;
}
