//! The SNS sink (`SNS_TOPIC`): the notice as JSON, a readable subject, and message attributes for
//! subscription filter policies.

use crate::aws::sns::publish;
use crate::ops::notify::notice::{EVENT_ATTRIBUTE, Notice};

/// SNS limits a subject to 100 ASCII characters.
const MAX_SUBJECT: usize = 100;

/// Publishes to one topic.
#[derive(Debug)]
pub struct SnsSink {
    /// The SNS client.
    pub client: aws_sdk_sns::Client,
    /// The topic's ARN.
    pub topic: String,
}

impl SnsSink {
    /// Publishes the notice; a FIFO topic gets the service as its message group.
    pub async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let mut attributes = vec![
            (EVENT_ATTRIBUTE, notice.event.label()),
            ("service", non_empty(&notice.service)),
            ("cluster", non_empty(&notice.cluster)),
        ];
        if let Some(outcome) = &notice.outcome {
            attributes.push(("outcome", outcome));
        }
        let deduplication_id = notice.deduplication_id();
        let fifo = self
            .topic
            .ends_with(".fifo")
            .then(|| (non_empty(&notice.service), deduplication_id.as_str()));
        publish(
            &self.client,
            &self.topic,
            &subject(&notice.headline()),
            &notice.to_json(),
            &attributes,
            fifo,
        )
        .await
        .map_err(|e| e.to_string())
    }
}

/// An SNS subject: printable ASCII on one line, at most 100 characters.
fn subject(headline: &str) -> String {
    let ascii: String = format!("ecs-deployment: {headline}")
        .replace('→', "->")
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .collect();
    ascii.chars().take(MAX_SUBJECT).collect()
}

/// SNS takes no empty attribute value.
fn non_empty(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sns_subjects_fit_the_limits() {
        let subject = subject(&format!("Deploying {} → x\nnext", "s".repeat(200)));
        assert!(subject.len() <= MAX_SUBJECT);
        assert!(
            subject.chars().all(|c| c.is_ascii_graphic() || c == ' '),
            "{subject}"
        );
    }
}
