//! What the worker remembers of refused messages stays bounded: thousands of messages whose `service` is a
//! very long ARN are rejected at once and leave its resident memory within a few MB, through moto's SQS.

mod common;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use common::queue::string_attribute;
use common::{Bed, WorkerProcess, task_definition};

/// How many messages are sent, and how long each one's service name is.
const MESSAGES: usize = 1000;
const NAME_BYTES: usize = 16 * 1024;
/// The growth allowed over the messages after the first batches: a few MB.
const GROWTH_KIB: u64 = 4 * 1024;

async fn send_batch(bed: &Bed, first: usize) {
    let body = task_definition("web", "nginx:1.28", "healthy").to_string();
    let mut batch = bed.sqs.send_message_batch().queue_url(&bed.queue_url);
    for i in first..first + 10 {
        // A service ARN in the worker's own region, account and cluster, with a name of its own each time.
        let name = format!("{i:06}{}", "n".repeat(NAME_BYTES));
        let service = format!("arn:aws:ecs:us-east-1:123456789012:service/default/{name}");
        batch = batch.entries(
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(&body)
                .message_attributes("service", string_attribute(&service))
                .build()
                .expect("entry"),
        );
    }
    let sent = batch.send().await.expect("send a batch");
    assert!(sent.failed().is_empty(), "{:?}", sent.failed());
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_very_long_arn_form_services_leave_resident_memory_within_a_few_mb() {
    let bed = Bed::start(false).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = WorkerProcess::start(&bed, &[]);
    let warm = MESSAGES / 10;
    for first in (0..warm).step_by(10) {
        send_batch(&bed, first).await;
    }
    worker.wait_count("deployment finished", warm);
    let before = worker.resident_kib();
    for first in (warm..MESSAGES).step_by(10) {
        send_batch(&bed, first).await;
    }
    worker.wait_count("deployment finished", MESSAGES);
    let after = worker.resident_kib();
    for line in worker.lines_with("deployment finished") {
        assert_eq!(line["outcome"], "rejected", "{line}");
        assert!(
            line["reason"]
                .as_str()
                .is_some_and(|r| r.contains("message attribute 'service'")),
            "{line}"
        );
    }
    println!("resident memory: {before} KiB after {warm} messages, {after} KiB after {MESSAGES}");
    assert!(
        after <= before + GROWTH_KIB,
        "resident memory grew from {before} KiB to {after} KiB over {} messages",
        MESSAGES - warm
    );
}
