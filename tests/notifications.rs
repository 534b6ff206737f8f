//! Notifications: a local HTTP receiver standing in for Slack, SNS and reply queues on moto.

mod common;

use std::collections::BTreeMap;

use aws_sdk_sqs::types::Message;
use common::{Bed, HttpReceiver, task_definition};
use ecs_deployment::decide::outcome::Outcome;
use serde_json::{Value, json};

/// The JSON bodies of `messages`, with each message's String attributes.
fn notices(messages: &[Message]) -> Vec<(Value, BTreeMap<String, String>)> {
    messages
        .iter()
        .map(|m| {
            let body = serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON notice");
            let attributes = m
                .message_attributes()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_owned())))
                .collect();
            (body, attributes)
        })
        .collect()
}

fn find<'a>(
    all: &'a [(Value, BTreeMap<String, String>)],
    event: &str,
    id: &str,
) -> &'a (Value, BTreeMap<String, String>) {
    all.iter()
        .find(|(n, _)| n["event"] == event && n["message_id"] == id)
        .unwrap_or_else(|| panic!("no {event} notice for {id} among {all:#?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_sns_and_the_reply_queue_hear_of_every_start_and_end() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    let slack = HttpReceiver::start(true).await;
    // SNS delivers to an SQS queue subscribed to the topic, raw, so the body is the worker's JSON.
    let (topic, inbox) = bed.sns_inbox("deployments").await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[
        ("SLACK_WEBHOOK", slack.url.as_str()),
        ("SLACK_CHANNEL", "#deploys"),
        ("SLACK_BOTNAME", "deploy-bot"),
        ("SNS_TOPIC", topic.as_str()),
    ]));

    let good = bed
        .send(
            &task_definition("web", "nginx:1.28", "healthy").to_string(),
            &[
                ("service", "web"),
                ("commit_url", "https://example.com/commit/1"),
                ("reply_to", replies.as_str()),
            ],
        )
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let v2 = report.new_task_definition.clone().expect("registered");
    let crash = bed
        .send(
            &task_definition("web", "nginx:1.29", "crash").to_string(),
            &[("service", "web"), ("reply_to", replies.as_str())],
        )
        .await;
    let report = worker.next_report().await;
    assert!(
        matches!(report.outcome, Outcome::Failed { .. }),
        "{report:?}"
    );
    let rejected = bed
        .send(
            "{not json",
            &[("service", "web"), ("reply_to", replies.as_str())],
        )
        .await;
    let report = worker.next_report().await;
    assert!(
        matches!(report.outcome, Outcome::Rejected { .. }),
        "{report:?}"
    );

    // Two deployments started and three ended: five notices on every sink.
    let sns = notices(&bed.receive_all(&inbox, 5).await);
    let reply = notices(&bed.receive_all(&replies, 5).await);
    let posts = slack.wait_for(5).await;
    for all in [&sns, &reply] {
        let (started, _) = find(all, "started", &good);
        assert_eq!(started["service"], "web");
        assert_eq!(started["cluster"], "default");
        assert_eq!(started["previous_task_definition"], v1.as_str());
        assert_eq!(started["new_task_definition"], v2.as_str());
        assert_eq!(started["commit_url"], "https://example.com/commit/1");
        let (deployed, _) = find(all, "finished", &good);
        assert_eq!(deployed["outcome"], "deployed");
        assert_eq!(deployed["success"], true);
        assert!(deployed["duration_ms"].as_u64().is_some());
        let (failed, _) = find(all, "finished", &crash);
        assert_eq!(failed["outcome"], "failed");
        assert_eq!(failed["success"], false);
        assert_eq!(failed["rollback"], "rolled_back_by_ecs");
        assert!(
            failed["ecs_said"].as_array().is_some_and(|s| !s.is_empty()),
            "what ECS said travels with a failure: {failed}"
        );
        let (refused, _) = find(all, "finished", &rejected);
        assert_eq!(refused["outcome"], "rejected");
        assert!(
            refused["reason"]
                .as_str()
                .is_some_and(|r| r.contains("not JSON"))
        );
    }
    // Replies are correlated by the original message id.
    for (notice, attributes) in &reply {
        assert_eq!(
            attributes.get("original_message_id"),
            notice["message_id"].as_str().map(str::to_owned).as_ref()
        );
        assert_eq!(
            attributes.get("event"),
            notice["event"].as_str().map(str::to_owned).as_ref()
        );
    }
    // Slack: the old script's channel and name, a colored attachment per notice.
    assert!(
        posts
            .iter()
            .all(|p| p["channel"] == "#deploys" && p["username"] == "deploy-bot"),
        "{posts:#?}"
    );
    let texts: Vec<&str> = posts.iter().filter_map(|p| p["text"].as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Deploying web in default: web:1 → web:2")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Deployed web in default: web:1 → web:2")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Deployment of web in default failed")),
        "{texts:?}"
    );
    let colors: Vec<&str> = posts
        .iter()
        .filter_map(|p| p["attachments"][0]["color"].as_str())
        .collect();
    assert!(
        colors.contains(&"good") && colors.contains(&"danger"),
        "{colors:?}"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fifo_reply_queues_and_topics_get_a_message_group() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let replies = bed.fifo_queue("replies.fifo").await;
    let (topic, inbox) = bed.sns_inbox("deployments.fifo").await;
    let mut worker = bed.start_worker(bed.config(&[("SNS_TOPIC", topic.as_str())]));
    let id = bed
        .send(
            &task_definition("web", "nginx:1.28", "healthy").to_string(),
            &[("service", "web"), ("reply_to", replies.as_str())],
        )
        .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);

    let group = |m: &Message| {
        m.attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId))
            .cloned()
    };
    // A FIFO queue hands out one message of a group at a time: each is deleted before the next.
    for (url, expected_group) in [(&replies, id.as_str()), (&inbox, "web")] {
        let mut events = Vec::new();
        while events.len() < 2 {
            let messages =
                testbed::wait_until("a FIFO notice", common::REPORT_DEADLINE, || async {
                    let out = bed
                        .sqs
                        .receive_message()
                        .queue_url(url)
                        .message_system_attribute_names(
                            aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId,
                        )
                        .wait_time_seconds(1)
                        .send()
                        .await
                        .expect("receive");
                    let messages = out.messages.unwrap_or_default();
                    (!messages.is_empty()).then_some(messages)
                })
                .await;
            for message in messages {
                assert_eq!(group(&message).as_deref(), Some(expected_group), "{url}");
                let (notice, _) = &notices(std::slice::from_ref(&message))[0];
                events.push(notice["event"].as_str().unwrap_or_default().to_owned());
                bed.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
        }
        assert_eq!(events, ["started", "finished"], "in order on {url}");
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_given_back_for_later_says_so_then_says_how_it_ended() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let replies = bed.queue("replies").await;
    bed.bed
        .sim
        .inject_fault(serde_json::json!({"operation": "DescribeServices", "kind": "error500"}));
    let mut worker = bed.start_worker(bed.config(&[("ECS_TIMEOUT", "1s")]));
    let id = bed
        .send(
            &task_definition("web", "nginx:1.28", "healthy").to_string(),
            &[("service", "web"), ("reply_to", replies.as_str())],
        )
        .await;
    let first = worker.next_report().await;
    assert!(
        matches!(first.outcome, Outcome::RetryLater { .. }),
        "{first:?}"
    );
    let retrying = notices(&bed.receive_all(&replies, 1).await);
    let (notice, _) = find(&retrying, "retrying", &id);
    assert_eq!(notice["outcome"], "retry_later");
    assert_eq!(notice["success"], false);
    assert!(
        notice["reason"]
            .as_str()
            .is_some_and(|r| r.contains("DescribeServices")),
        "{notice}"
    );

    bed.bed.sim.clear_faults();
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    let rest = notices(&bed.receive_all(&replies, 2).await);
    find(&rest, "started", &id);
    let (finished, _) = find(&rest, "finished", &id);
    assert_eq!(finished["outcome"], "deployed");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_scripts_deployment_keeps_its_slack_color_and_its_sns_to_teams_cards() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let topic = bed
        .sns
        .create_topic()
        .name("legacy")
        .send()
        .await
        .expect("create a topic")
        .topic_arn
        .expect("topic ARN");
    // Without raw delivery SQS gets SNS's envelope: subject, message and typed attributes, as a bridge
    // subscribed over HTTPS does.
    let inbox = bed.queue("legacy-inbox").await;
    bed.sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(bed.queue_arn(&inbox).await)
        .send()
        .await
        .expect("subscribe");
    // The old script's Slack variables too, its color among them.
    let slack = HttpReceiver::start(true).await;
    let mut worker = bed.start_worker(bed.config(&[
        ("SNS_TOPIC", topic.as_str()),
        ("SNS_FORMAT", "legacy"),
        ("SLACK_WEBHOOK", slack.url.as_str()),
        ("SLACK_CHANNEL", "#deploys"),
        ("SLACK_COLOR", "#335EFF"),
    ]));
    bed.send(
        &task_definition("web", "nginx:1.28", "healthy").to_string(),
        &[
            ("service", "web"),
            ("commit_url", "https://example.com/commit/abc123"),
        ],
    )
    .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    bed.send("{not json", &[("service", "web")]).await;
    assert!(matches!(
        worker.next_report().await.outcome,
        Outcome::Rejected { .. }
    ));
    let envelopes: Vec<Value> = bed
        .receive_all(&inbox, 3)
        .await
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap_or_default()).expect("an SNS envelope"))
        .collect();
    let by_subject = |subject: &str| {
        envelopes
            .iter()
            .find(|e| e["Subject"] == subject)
            .unwrap_or_else(|| panic!("no '{subject}' among {envelopes:#?}"))
    };
    let attribute = |envelope: &Value, name: &str| {
        (
            envelope["MessageAttributes"][name]["Type"].clone(),
            envelope["MessageAttributes"][name]["Value"].clone(),
        )
    };
    let started = by_subject("ECS Deployment: web");
    assert!(
        started["Message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Registered new Task Definition [web:2](")
                && m.contains("<br>Starting Service Update of [web](")
                && m.ends_with("<br>Commit ID: [abc123](https://example.com/commit/abc123)")),
        "{started}"
    );
    assert_eq!(
        attribute(started, "color"),
        (json!("String"), json!("0000ff"))
    );
    assert_eq!(attribute(started, "messagetype").1, json!("normal"));
    assert_eq!(attribute(started, "order").0, json!("String.Array"));
    let done = by_subject("ECS Service Update Successful: web");
    assert_eq!(attribute(done, "color").1, json!("00ff00"));
    assert_eq!(
        attribute(done, "summary").1,
        json!("ECS Service Update Successful: web")
    );
    let buttons: Value =
        serde_json::from_str(attribute(done, "buttons").1.as_str().unwrap_or("null"))
            .expect("buttons are JSON");
    assert_eq!(buttons[0]["name"], "Service Events");
    let failed = by_subject("ECS Deployment Failure");
    assert_eq!(attribute(failed, "color").1, json!("ff0000"));
    assert_eq!(attribute(failed, "messagetype").1, json!("pretext"));
    let items: Value =
        serde_json::from_str(attribute(failed, "items").1.as_str().unwrap_or("null"))
            .expect("items are JSON");
    assert_eq!(items[0], json!({"name": "Service", "value": "web"}));
    assert_eq!(items[1]["name"], "Error Message");
    let posts = slack.wait_for(3).await;
    let colors: Vec<&str> = posts
        .iter()
        .map(|p| p["attachments"][0]["color"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(colors, ["#335EFF", "#335EFF", "danger"], "{posts:#?}");
    assert!(
        items[1]["value"]
            .as_str()
            .is_some_and(|v| v.contains("not JSON")),
        "{items}"
    );
    worker.stop().await;
}
