//! The SQS calls the worker makes, as thin adapters: receive, extend, delete, and moving a rejected message
//! to the queue's dead-letter queue.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};

use crate::error::AwsError;

/// Message attribute on a dead-lettered message: why it was rejected.
pub const REASON_ATTRIBUTE: &str = "rejection_reason";
/// Message attribute on a dead-lettered message: its message id on the deployment queue.
pub const ORIGINAL_ID_ATTRIBUTE: &str = "original_message_id";
/// SQS allows at most this many message attributes on a message.
const MAX_ATTRIBUTES: usize = 10;
/// Longest rejection reason put on a message attribute; longer ones are cut (the full one is logged).
const MAX_REASON_CHARS: usize = 4096;

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

    /// Waits up to `wait` for at most one message and hides it for `visibility`.
    pub async fn receive(
        &self,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, AwsError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(1)
            .wait_time_seconds(seconds(wait))
            .visibility_timeout(seconds(visibility))
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .map_err(|e| AwsError::new("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                let raw_attributes = m.message_attributes().cloned().unwrap_or_default();
                Some(Received {
                    message_id: m.message_id()?.to_owned(),
                    receipt_handle: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    attributes: raw_attributes
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_owned())))
                        .collect(),
                    raw_attributes,
                    message_group_id: m
                        .attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                        .cloned(),
                })
            })
            .collect())
    }

    /// Keeps a message hidden for `visibility` from now.
    pub async fn extend(&self, receipt_handle: &str, visibility: Duration) -> Result<(), AwsError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds(visibility))
            .send()
            .await
            .map_err(|e| AwsError::new("ChangeMessageVisibility", e))?;
        Ok(())
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
