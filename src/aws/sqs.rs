//! The SQS calls the worker makes, as thin adapters: receive, extend, delete, move a rejected message to
//! the queue's dead-letter queue, and send a message to another queue.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName,
};

use crate::aws::error::AwsError;

/// Message attribute on a dead-lettered message: why it was rejected.
pub const REASON_ATTRIBUTE: &str = "rejection_reason";
/// Message attribute on a dead-lettered message: its message id on the deployment queue.
pub const ORIGINAL_ID_ATTRIBUTE: &str = "original_message_id";
/// SQS allows at most this many message attributes on a message.
const MAX_ATTRIBUTES: usize = 10;
/// Longest rejection reason put on a message attribute; longer ones are cut (the full one is logged).
const MAX_REASON_CHARS: usize = 4096;
/// SQS takes at most this many messages per receive and per batch call.
pub const MAX_BATCH: usize = 10;

/// The deployment queue.
#[derive(Debug, Clone)]
pub struct Queue {
    /// The SDK client, with the SDK's own retries for throttling and transient errors.
    client: Client,
    /// `SQS_URL`.
    url: String,
}

/// A received message.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// SQS's message id: names the deployment in every log line.
    pub message_id: String,
    /// The handle to extend, delete or release this delivery with.
    pub receipt_handle: String,
    /// The body: the task definition.
    pub body: String,
    /// String and Number message attributes by name (`service`, `commit_url`).
    pub attributes: BTreeMap<String, String>,
    /// Every message attribute as sent, to carry them to the dead-letter queue unchanged.
    pub raw_attributes: HashMap<String, MessageAttributeValue>,
    /// The message group of a FIFO queue's message.
    pub message_group_id: Option<String>,
    /// When the producer sent it, in milliseconds since the epoch (0 when SQS did not say): orders the
    /// messages of one service.
    pub sent_at_ms: u64,
    /// How many times SQS has handed the message out, this time included (1 when SQS did not say).
    pub receive_count: u32,
    /// SQS's SenderId: the IAM principal (user or role session) that sent the message, for history.
    pub sender: Option<String>,
}

/// A held message as later calls name it: its id, and the receipt handle of its latest delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The message id.
    pub message_id: String,
    /// The receipt handle SQS gave with the latest delivery, which every call about it must quote.
    pub receipt_handle: String,
}

/// One message's visibility change that SQS refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityFailure {
    /// The message.
    pub message_id: String,
    /// SQS's error code, such as `ReceiptHandleIsInvalid`.
    pub code: String,
    /// SQS's explanation.
    pub message: String,
}

impl VisibilityFailure {
    /// Whether the message is no longer this receiver's to change: deleted, or handed to another receiver
    /// after its visibility lapsed. Trying again cannot help.
    pub fn lost(&self) -> bool {
        self.code.contains("ReceiptHandleIsInvalid")
            || self.code.contains("MessageNotInflight")
            || self.code.contains("InvalidParameterValue")
    }
}

/// Where a queue's redrive policy sends messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterQueue {
    /// Its URL.
    pub url: String,
    /// Whether it is a FIFO queue, which needs a message group on every message.
    pub fifo: bool,
}

impl Queue {
    /// The queue at `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Waits up to `wait` for at most `max` messages (1 to 10) and hides them for `visibility`.
    pub async fn receive(
        &self,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, AwsError> {
        let max = i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(1);
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max)
            .wait_time_seconds(seconds(wait))
            .visibility_timeout(seconds(visibility))
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SenderId)
            .send()
            .await
            .map_err(|e| AwsError::new("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                let raw_attributes = m.message_attributes().cloned().unwrap_or_default();
                let system = |name: MessageSystemAttributeName| {
                    m.attributes().and_then(|a| a.get(&name)).cloned()
                };
                Some(Received {
                    message_id: m.message_id()?.to_owned(),
                    receipt_handle: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    attributes: raw_attributes
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_owned())))
                        .collect(),
                    raw_attributes,
                    message_group_id: system(MessageSystemAttributeName::MessageGroupId),
                    sent_at_ms: system(MessageSystemAttributeName::SentTimestamp)
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0),
                    sender: system(MessageSystemAttributeName::SenderId),
                    receive_count: system(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                })
            })
            .collect())
    }

    /// Sets the visibility of up to ten messages to `visibility` from now: a
    /// heartbeat extends it, a release sets it to zero so another receiver gets the message at once.
    /// Returns the messages SQS refused, each with its reason.
    pub async fn change_visibility(
        &self,
        messages: &[Receipt],
        visibility: Duration,
    ) -> Result<Vec<VisibilityFailure>, AwsError> {
        self.change_visibility_within(messages, visibility, None)
            .await
    }

    /// [`Queue::change_visibility`], giving up (retries included) after `within`: an extension that comes
    /// too late is of no use, and the next one should be tried while the visibility still lasts.
    pub async fn extend_visibility(
        &self,
        messages: &[Receipt],
        visibility: Duration,
        within: Duration,
    ) -> Result<Vec<VisibilityFailure>, AwsError> {
        self.change_visibility_within(messages, visibility, Some(within))
            .await
    }

    async fn change_visibility_within(
        &self,
        messages: &[Receipt],
        visibility: Duration,
        within: Option<Duration>,
    ) -> Result<Vec<VisibilityFailure>, AwsError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        // Batch entry ids are the positions; message ids are not guaranteed to fit SQS's id pattern.
        let entries = messages
            .iter()
            .enumerate()
            .filter_map(|(i, receipt)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&receipt.receipt_handle)
                    .visibility_timeout(seconds(visibility))
                    .build()
                    .ok()
            })
            .collect();
        let out = self
            .client
            .change_message_visibility_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .customize()
            .config_override(
                within.map_or_else(aws_sdk_sqs::config::Builder::default, |within| {
                    aws_sdk_sqs::config::Builder::default().timeout_config(
                        TimeoutConfig::builder()
                            .operation_timeout(within)
                            .operation_attempt_timeout(within)
                            .build(),
                    )
                }),
            )
            .send()
            .await
            .map_err(|e| AwsError::new("ChangeMessageVisibilityBatch", e))?;
        Ok(out
            .failed()
            .iter()
            .map(|f| VisibilityFailure {
                message_id: f
                    .id()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| messages.get(i))
                    .map_or_else(|| f.id().to_owned(), |r| r.message_id.clone()),
                code: f.code().to_owned(),
                message: f.message().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// Deletes a message for good.
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), AwsError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| AwsError::new("DeleteMessage", e))?;
        Ok(())
    }

    /// The dead-letter queue of the queue's redrive policy, or `None` when it has none.
    pub async fn dead_letter_queue(&self) -> Result<Option<DeadLetterQueue>, AwsError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| AwsError::new("GetQueueAttributes", e))?;
        let Some(policy) = out
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
        else {
            return Ok(None);
        };
        let arn = serde_json::from_str::<serde_json::Value>(policy)
            .ok()
            .and_then(|p| p.get("deadLetterTargetArn")?.as_str().map(str::to_owned))
            .ok_or_else(|| {
                AwsError::unexpected(
                    "GetQueueAttributes",
                    "the RedrivePolicy has no deadLetterTargetArn",
                )
            })?;
        // arn:aws:sqs:<region>:<account>:<name>
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(account), Some(name)) = (parts.get(4), parts.get(5)) else {
            return Err(AwsError::unexpected(
                "GetQueueAttributes",
                "the RedrivePolicy's deadLetterTargetArn is not a queue ARN",
            ));
        };
        let url = self
            .client
            .get_queue_url()
            .queue_name(*name)
            .queue_owner_aws_account_id(*account)
            .send()
            .await
            .map_err(|e| AwsError::new("GetQueueUrl", e))?
            .queue_url()
            .map(str::to_owned)
            .ok_or_else(|| AwsError::unexpected("GetQueueUrl", "the answer has no QueueUrl"))?;
        Ok(Some(DeadLetterQueue {
            url,
            fifo: name.ends_with(".fifo"),
        }))
    }

    /// Sends a copy of `message` to the dead-letter queue with the reason attached; the caller deletes the
    /// original once this succeeded.
    pub async fn send_to_dead_letter_queue(
        &self,
        dlq: &DeadLetterQueue,
        message: &Received,
        reason: &str,
    ) -> Result<(), AwsError> {
        let mut attributes = HashMap::new();
        for (name, value) in [
            (REASON_ATTRIBUTE, truncate(reason, MAX_REASON_CHARS)),
            (ORIGINAL_ID_ATTRIBUTE, message.message_id.clone()),
        ] {
            if let Some(value) = string_attribute(&value) {
                attributes.insert(name.to_owned(), value);
            }
        }
        // The producer's own attributes travel along, as many as SQS allows beside ours.
        let mut originals: Vec<_> = message.raw_attributes.iter().collect();
        originals.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in originals {
            if attributes.len() >= MAX_ATTRIBUTES {
                break;
            }
            attributes
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
        let mut send = self
            .client
            .send_message()
            .queue_url(&dlq.url)
            .message_body(&message.body)
            .set_message_attributes(Some(attributes));
        if dlq.fifo {
            send = send
                .message_group_id(message.message_group_id.as_deref().unwrap_or("rejected"))
                .message_deduplication_id(&message.message_id);
        }
        send.send()
            .await
            .map_err(|e| AwsError::new("SendMessage", e))?;
        Ok(())
    }
}

/// Sends `body` with the String `attributes` (name, value) to the queue at `queue_url`; `fifo` is the
/// message group and deduplication id a FIFO queue needs. Returns the message id SQS gave it.
pub async fn send_message(
    client: &Client,
    queue_url: &str,
    body: &str,
    attributes: &[(&str, &str)],
    fifo: Option<(&str, &str)>,
) -> Result<Option<String>, AwsError> {
    let mut send = client
        .send_message()
        .queue_url(queue_url)
        .message_body(body);
    for (name, value) in attributes {
        if let Some(value) = string_attribute(value) {
            send = send.message_attributes(*name, value);
        }
    }
    if let Some((group, deduplication_id)) = fifo {
        send = send
            .message_group_id(group)
            .message_deduplication_id(deduplication_id);
    }
    let sent = send
        .send()
        .await
        .map_err(|e| AwsError::new("SendMessage", e))?;
    Ok(sent.message_id().map(str::to_owned))
}

/// A String message attribute (building fails only without a data type, which is always set).
fn string_attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

/// A duration as the whole seconds SQS takes.
fn seconds(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)
}
