//! End to end: `image` messages: new images set in what the service runs, checked as any message, sent from
//! the CLI.

mod common;

use common::{Bed, short};
use ecs_deployment::decide::outcome::{Disposition, Outcome};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn an_image_message_sets_one_container_s_image_and_keeps_the_rest() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    bed.bed.sim.call(
        "TagResource",
        &json!({"resourceArn": v1, "tags": [{"key": "team", "value": "a"}]}),
    );
    let mut worker = bed.start_worker(bed.config(&[]));

    let id = bed
        .send(
            r#"{"app": "nginx:1.29"}"#,
            &[("service", "web"), ("action", "image")],
        )
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(v1.as_str())
    );
    let v2 = report.new_task_definition.clone().expect("registered");
    assert_eq!(short(&v2), "web:2");

    let described = |arn: &str| {
        bed.bed.sim.call(
            "DescribeTaskDefinition",
            &json!({"taskDefinition": arn, "include": ["TAGS"]}),
        )
    };
    let (old, new) = (described(&v1), described(&v2));
    assert_eq!(
        new["taskDefinition"]["containerDefinitions"][0]["image"],
        "nginx:1.29"
    );
    // Everything else is the revision the service ran.
    let mut expected = old["taskDefinition"]["containerDefinitions"].clone();
    expected[0]["image"] = json!("nginx:1.29");
    assert_eq!(new["taskDefinition"]["containerDefinitions"], expected);
    let (producer_tags, marks) = bed.tags(&v2);
    assert_eq!(
        producer_tags,
        json!([{"key": "team", "value": "a"}]),
        "its tags kept"
    );
    assert_eq!(
        marks.get("ecs-deployment:message-id"),
        Some(&id),
        "marked as any deployment"
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v2.clone(), v2]
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_image_and_action_messages_are_rejected_naming_what_is_wrong() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[
        ("ALLOWED_IMAGES", "nginx:*"),
        ("ALLOWED_SERVICES", "web,missing"),
    ]));

    let cases = [
        (
            r#"{"db": "postgres:16"}"#,
            vec![("service", "web"), ("action", "image")],
            "body: container 'db' is not in the task definition web:1 the service runs (its containers: app)",
        ),
        (
            r#"{"app": "nginx:1.29"}"#,
            vec![("service", "web"), ("action", "promote")],
            "message attribute 'action' (\"promote\") is not one of deploy, image",
        ),
        (
            r#"{"app": "nginx:1.29"}"#,
            vec![("service", "missing"), ("action", "image")],
            "service 'missing' not found in cluster 'default'",
        ),
        (
            r#"{"app": "evil.example.com/miner:1"}"#,
            vec![("service", "web"), ("action", "image")],
            "ALLOWED_IMAGES",
        ),
    ];
    for (body, attributes, says) in &cases {
        bed.send(body, attributes).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("{attributes:?}: {report:?}");
        };
        assert!(reason.contains(says), "{attributes:?}: {reason}");
        assert_eq!(
            report.disposition,
            Disposition::DeadLetter,
            "{attributes:?}"
        );
    }
    // A service the policy does not allow is refused before any call to ECS.
    let reads = bed.bed.sim.calls("DescribeServices");
    bed.send(
        r#"{"app": "nginx:1.29"}"#,
        &[("service", "payments"), ("action", "image")],
    )
    .await;
    let report = worker.next_report().await;
    let Outcome::Rejected { reason } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(reason.contains("ALLOWED_SERVICES"), "{reason}");
    assert_eq!(
        bed.bed.sim.calls("DescribeServices"),
        reads,
        "no call to ECS"
    );
    assert_eq!(
        bed.dead_letters(cases.len() + 1).await.len(),
        cases.len() + 1
    );
    assert_eq!(bed.revisions("web"), 1, "nothing registered");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 0);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn send_image_sends_an_image_message_and_follows_it() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    // Through the reply queue, the worker's verdict; without one, the revision it tagged in the family.
    for (image, reply) in [
        ("app=nginx:1.29", Some(replies.as_str())),
        ("app=nginx:1.30", None),
    ] {
        let mut args = vec!["send", "--service", "web", "--image", image];
        if let Some(reply) = reply {
            args.extend(["--reply-to", reply]);
        }
        let run = bed.waiting(&args).await;
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains(&format!("set {image} in service web")),
            "{run:?}"
        );
        let report = worker.next_report().await;
        assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    }
    let running = bed.running_task_definitions("web").await;
    assert_eq!(
        running.iter().map(|t| short(t)).collect::<Vec<_>>(),
        ["web:3"]
    );

    let bad = bed
        .cli(&["send", "--service", "web", "--image", "app"], None)
        .await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stderr.contains("--image app: expected CONTAINER=IMAGE"),
        "{bad:?}"
    );
    let register_only = bed
        .cli(
            &["send", "--service", "false", "--image", "app=nginx:1"],
            None,
        )
        .await;
    assert_eq!(register_only.code, 2, "{register_only:?}");
    worker.stop().await;
}
