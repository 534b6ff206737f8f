//! A refused message cannot displace a good one: sent behind a good message for a busy service, a message
//! the guard refuses (once it has read the service, or before it joins the schedule) leaves the good one to
//! be deployed, through moto's SQS and ecs-sim.

mod common;

use common::{Bed, WorkerProcess, short, task_definition};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_message_sent_behind_a_good_one_for_a_busy_service_leaves_the_good_one_deployed()
{
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let web = [("service", "web")];
    // A slow rollout keeps the service busy while the others arrive.
    let running = task_definition("web", "nginx:1.28", "slow:50");
    let good = task_definition("web", "nginx:1.29", "healthy");
    // Refused only once the revision the service runs is read: it adds a privilege.
    let mut privileged = task_definition("web", "nginx:1.30", "healthy");
    privileged["containerDefinitions"][0]["privileged"] = json!(true);
    // Refused by what needs no read of AWS: replies to a queue of another account.
    let elsewhere = task_definition("web", "nginx:1.31", "healthy");
    let ids = [
        bed.send(&running.to_string(), &web).await,
        bed.send(&good.to_string(), &web).await,
        bed.send(&privileged.to_string(), &web).await,
        bed.send(
            &elsewhere.to_string(),
            &[
                ("service", "web"),
                (
                    "reply_to",
                    "https://sqs.us-east-1.amazonaws.com/999999999999/elsewhere",
                ),
            ],
        )
        .await,
    ];
    let mut worker = WorkerProcess::start(&bed, &[("SQS_VISIBILITY_TIMEOUT", "1")]);

    let finished: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| worker.wait_for("deployment finished", |l| l["message_id"] == id.as_str()))
        .collect();
    let outcome = |i: usize| {
        finished[i]["outcome"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let reason = |i: usize| {
        finished[i]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(outcome(0), "deployed", "{}", worker.log_text());
    assert_eq!(outcome(2), "rejected", "{}", worker.log_text());
    assert!(reason(2).contains("privileged"), "{}", reason(2));
    assert_eq!(outcome(3), "rejected", "{}", worker.log_text());
    assert!(reason(3).contains("reply_to"), "{}", reason(3));
    // The good message, sent before both refused ones, is deployed after all.
    assert_eq!(outcome(1), "deployed", "{}", worker.log_text());
    let deployed = finished[1]["new_task_definition"]
        .as_str()
        .unwrap_or_default();
    let service = bed.describe("web").await.expect("the service");
    assert_eq!(
        service.task_definition().map(short),
        Some(short(deployed)),
        "the service runs the good message's revision"
    );
    // The one refused without AWS never joined the schedule: it never waited for the service.
    let waited: Vec<&str> = worker
        .lines_with("waiting: a deployment of this service is in progress")
        .iter()
        .filter_map(|l| l["message_id"].as_str())
        .collect();
    assert!(waited.contains(&ids[1].as_str()), "{waited:?}");
    assert!(!waited.contains(&ids[3].as_str()), "{waited:?}");
    bed.assert_queue_empty().await;
}
