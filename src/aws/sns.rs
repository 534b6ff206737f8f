//! The SNS call the worker makes: publishing a notification to a topic.

use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::aws::error::AwsError;

/// Publishes `message` under `subject` with the `attributes` (name, data type such as `String` or
/// `String.Array`, value) to the topic; `fifo` is
/// the message group and deduplication id a FIFO topic needs.
pub async fn publish(
    client: &Client,
    topic_arn: &str,
    subject: &str,
    message: &str,
    attributes: &[(&str, &str, &str)],
    fifo: Option<(&str, &str)>,
) -> Result<(), AwsError> {
    let mut publish = client
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .message(message);
    for (name, data_type, value) in attributes {
        // Building fails only without a data type, which is always set.
        if let Ok(value) = MessageAttributeValue::builder()
            .data_type(*data_type)
            .string_value(*value)
            .build()
        {
            publish = publish.message_attributes(*name, value);
        }
    }
    if let Some((group, deduplication_id)) = fifo {
        publish = publish
            .message_group_id(group)
            .message_deduplication_id(deduplication_id);
    }
    publish
        .send()
        .await
        .map_err(|e| AwsError::new("Publish", e))?;
    Ok(())
}
