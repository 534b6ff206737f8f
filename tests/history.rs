//! `ecs-deployment history` end to end: every deployment that reached ECS keeps its action, sender and
//! commit, whichever worker made it and however often its revision is deployed again.

mod common;

use common::Bed;
use ecs_deployment::decide::outcome::Outcome;

/// The history of `service` as `history --json` prints it, one object per deployment, newest first.
async fn history(bed: &Bed, service: &str) -> Vec<serde_json::Value> {
    let run = bed
        .cli(&["history", "--service", service, "--json"], None)
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn history_tells_every_deployment_across_a_worker_restart() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send(
        &common::task_definition("web", "nginx:1.28", "healthy").to_string(),
        &[
            ("service", "web"),
            ("commit_url", "https://example.com/c/1"),
        ],
    )
    .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    bed.send(
        r#"{"app": "nginx:1.29"}"#,
        &[("service", "web"), ("action", "image")],
    )
    .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    worker.stop().await;

    // Another worker, as after a restart: the records live in ECS, not in the worker.
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    let rollback = bed
        .send(
            "{}",
            &[
                ("service", "web"),
                ("action", "rollback"),
                ("commit_url", "https://example.com/incident/7"),
            ],
        )
        .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    worker.stop().await;

    let history = history(&bed, "web").await;
    let shown: Vec<(&str, &str)> = history
        .iter()
        .map(|e| {
            (
                e["revision"].as_str().unwrap_or_default(),
                e["action"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("web:2", "rollback"),
            ("web:3", "redeploy"),
            ("web:3", "image"),
            ("web:2", "deploy"),
            ("web:1", "-"),
        ],
        "{history:#?}"
    );
    assert_eq!(history[0]["message_id"], rollback.as_str());
    assert_eq!(history[0]["commit_url"], "https://example.com/incident/7");
    assert_eq!(history[3]["commit_url"], "https://example.com/c/1");
    for entry in &history[..4] {
        assert_eq!(entry["outcome"], "deployed", "{entry}");
        assert!(
            entry["sender"].as_str().is_some_and(|s| !s.is_empty()),
            "{entry}"
        );
    }
    assert_eq!(
        history[4]["outcome"], "successful",
        "ECS's own status: not sent through the worker"
    );
    let table = bed
        .cli(&["history", "--service", "web", "--limit", "2"], None)
        .await;
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(
        table.stdout.lines().count(),
        3,
        "a header and two deployments: {}",
        table.stdout
    );
    assert!(table.stdout.starts_with("REVISION"), "{}", table.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_keeps_its_row_when_its_revision_is_rolled_back_to_later() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));
    let mut send = async |body: &str, attributes: &[(&str, &str)]| {
        let id = bed.send(body, attributes).await;
        let report = worker.next_report().await;
        assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
        id
    };
    // As a new user would: an image update, a redeploy, a rollback, and a rollback to the named revision.
    send(
        r#"{"app": "nginx:1.29"}"#,
        &[("service", "web"), ("action", "image")],
    )
    .await;
    let redeploy = send(
        "{}",
        &[
            ("service", "web"),
            ("action", "redeploy"),
            ("commit_url", "https://example.com/c/redeploy"),
        ],
    )
    .await;
    send("{}", &[("service", "web"), ("action", "rollback")]).await;
    let again = send(
        "{}",
        &[
            ("service", "web"),
            ("action", "rollback"),
            ("revision", "web:2"),
        ],
    )
    .await;
    worker.stop().await;

    let history = history(&bed, "web").await;
    let shown: Vec<(&str, &str, &str)> = history
        .iter()
        .map(|e| {
            (
                e["revision"].as_str().unwrap_or_default(),
                e["action"].as_str().unwrap_or("-"),
                e["message_id"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        shown[..4],
        [
            ("web:2", "rollback", again.as_str()),
            ("web:1", "rollback", shown[1].2),
            ("web:2", "redeploy", redeploy.as_str()),
            ("web:2", "image", shown[3].2),
        ],
        "{history:#?}"
    );
    let redeployed = &history[2];
    assert_eq!(redeployed["commit_url"], "https://example.com/c/redeploy");
    assert!(
        redeployed["sender"].as_str().is_some_and(|s| !s.is_empty()),
        "{redeployed}"
    );
    assert_eq!(redeployed["outcome"], "deployed");
}
