//! The reply sink: the notice as JSON to the SQS queue a message names in its `reply_to` attribute, with
//! the original message id as an attribute.

use crate::aws::sqs::send_message;
use crate::ops::notify::notice::{EVENT_ATTRIBUTE, Notice, ORIGINAL_MESSAGE_ID_ATTRIBUTE};
use crate::ops::notify::sink::{AwsClients, NotificationSink};
use crate::ops::vars::{Problem, Vars};

/// Sends to whichever queue each notice names.
#[derive(Debug)]
pub struct ReplySink {
    /// The SQS client.
    pub client: aws_sdk_sqs::Client,
}

impl NotificationSink for ReplySink {
    const NAME: &'static str = "reply";
    const VARIABLES: &'static [&'static str] = &[];
    const REPLIES_ONLY: bool = true;
    type Settings = ();

    /// Always on: any message may ask for a reply.
    fn settings(_: &Vars) -> Result<Option<()>, Problem> {
        Ok(Some(()))
    }

    fn start((): &(), aws: &AwsClients) -> Result<Self, String> {
        Ok(Self {
            client: aws.sqs.clone(),
        })
    }

    /// Sends the notice to its `reply_to` queue, if it has one; a FIFO queue gets the original message id as
    /// its message group.
    async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let Some(queue) = notice.reply_to.as_deref() else {
            return Ok(());
        };
        if !(queue.starts_with("https://") || queue.starts_with("http://")) {
            return Err(format!(
                "message attribute 'reply_to' ({queue:?}) is not an SQS queue URL"
            ));
        }
        let deduplication_id = notice.deduplication_id();
        let fifo = queue
            .ends_with(".fifo")
            .then_some((notice.message_id.as_str(), deduplication_id.as_str()));
        send_message(
            &self.client,
            queue,
            &notice.to_json(),
            &[
                (ORIGINAL_MESSAGE_ID_ATTRIBUTE, &notice.message_id),
                (EVENT_ATTRIBUTE, notice.event.label()),
            ],
            fifo,
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}
