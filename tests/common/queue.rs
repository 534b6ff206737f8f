//! Queues for the tests: the deployment queue with its dead-letter queue, other standard and FIFO queues,
//! an SNS topic's inbox, sending messages, and reading what queues hold.

use aws_sdk_sqs::types::{Message, MessageAttributeValue, QueueAttributeName};
use serde_json::json;

use super::ecs::task_definition;
use super::{Bed, REPORT_DEADLINE};

/// Creates the deployment queue (with a dead-letter queue when `dead_letter_queue`); returns both URLs.
pub async fn deployment_queue(
    sqs: &aws_sdk_sqs::Client,
    dead_letter_queue: bool,
) -> (String, Option<String>) {
    let mut dlq_url = None;
    let mut create = sqs.create_queue().queue_name("deployments");
    if dead_letter_queue {
        let url = sqs
            .create_queue()
            .queue_name("deployments-dlq")
            .send()
            .await
            .expect("create the dead-letter queue")
            .queue_url
            .expect("queue URL");
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("dead-letter queue attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("dead-letter queue ARN");
        create = create.attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": arn, "maxReceiveCount": "5"}).to_string(),
        );
        dlq_url = Some(url);
    }
    let queue_url = create
        .send()
        .await
        .expect("create the deployment queue")
        .queue_url
        .expect("queue URL");
    (queue_url, dlq_url)
}

impl Bed {
    /// The notices on the reply queue `replies`, waiting for `count`.
    pub async fn replies(&self, replies: &str, count: usize) -> Vec<serde_json::Value> {
        self.receive_all(replies, count)
            .await
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON notice"))
            .collect()
    }

    /// A `rollback` message for service `web`, naming `revision` when given; gives its id.
    pub async fn send_rollback(&self, revision: Option<&str>) -> String {
        let mut attributes = vec![("service", "web"), ("action", "rollback")];
        if let Some(revision) = revision {
            attributes.push(("revision", revision));
        }
        self.send("{}", &attributes).await
    }

    /// Creates a standard queue; returns its URL.
    pub async fn queue(&self, name: &str) -> String {
        self.sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create a queue")
            .queue_url
            .expect("queue URL")
    }

    /// Creates a FIFO queue (`name` ends with `.fifo`) with content-based deduplication; returns its URL.
    pub async fn fifo_queue(&self, name: &str) -> String {
        self.sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
            .send()
            .await
            .expect("create a FIFO queue")
            .queue_url
            .expect("queue URL")
    }

    /// The queue's ARN.
    pub async fn queue_arn(&self, url: &str) -> String {
        self.sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("queue ARN")
    }

    /// Creates an SNS topic (FIFO when its name ends in `.fifo`) and a queue subscribed to it with raw
    /// delivery, so each message's body is what was published; returns (topic ARN, queue URL).
    pub async fn sns_inbox(&self, topic: &str) -> (String, String) {
        let fifo = topic.ends_with(".fifo");
        let mut create = self.sns.create_topic().name(topic);
        if fifo {
            create = create.attributes("FifoTopic", "true");
        }
        let topic_arn = create
            .send()
            .await
            .expect("create a topic")
            .topic_arn
            .expect("topic ARN");
        let inbox = if fifo {
            self.fifo_queue("sns-inbox.fifo").await
        } else {
            self.queue("sns-inbox").await
        };
        self.sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(self.queue_arn(&inbox).await)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .expect("subscribe the inbox");
        (topic_arn, inbox)
    }

    /// Sends a message with String attributes; returns its message id.
    pub async fn send(&self, body: &str, attributes: &[(&str, &str)]) -> String {
        let mut send = self
            .sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body);
        for (name, value) in attributes {
            send = send.message_attributes(*name, string_attribute(value));
        }
        send.send()
            .await
            .expect("send a message")
            .message_id
            .expect("message id")
    }

    /// Sends a deployment of service `web` to `image`, whose tasks behave as `behaviour`; returns its id.
    pub async fn send_web(&self, image: &str, behaviour: &str) -> String {
        let body = task_definition("web", image, behaviour).to_string();
        self.send(&body, &[("service", "web")]).await
    }

    /// Sends a deployment of `service` to a FIFO queue with `MessageGroupId` = service; returns its id.
    pub async fn send_fifo(&self, url: &str, service: &str, image: &str) -> String {
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(task_definition(service, image, "healthy").to_string())
            .message_group_id(service)
            .message_attributes("service", string_attribute(service))
            .send()
            .await
            .expect("send to the FIFO queue")
            .message_id
            .expect("message id")
    }

    /// (visible, in flight) messages of a queue.
    pub async fn counts(&self, url: &str) -> (u64, u64) {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        let count = |name| {
            attrs
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(u64::MAX)
        };
        (
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Asserts that the deployment queue holds no message, visible or in flight.
    pub async fn assert_queue_empty(&self) {
        assert_eq!(
            self.counts(&self.queue_url).await,
            (0, 0),
            "the deployment queue should be empty"
        );
    }

    /// Receives every message now on the dead-letter queue (they stay hidden for a minute).
    pub async fn dead_letters(&self, expected: usize) -> Vec<Message> {
        let url = self.dlq_url.clone().expect("a dead-letter queue");
        self.receive_all(&url, expected).await
    }

    /// Receives `expected` messages from `url`, waiting up to [`REPORT_DEADLINE`] (they stay hidden for a
    /// minute).
    pub async fn receive_all(&self, url: &str, expected: usize) -> Vec<Message> {
        let mut messages = Vec::new();
        let deadline = tokio::time::Instant::now() + REPORT_DEADLINE;
        while messages.len() < expected {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {expected} messages arrived on {url}",
                messages.len()
            );
            let out = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .wait_time_seconds(1)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive messages");
            messages.extend(out.messages.unwrap_or_default());
        }
        messages
    }
}

/// A String message attribute with `value`.
pub fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("a String attribute with a value is complete")
}
