//! The SNS sink (`SNS_TOPIC`): the notice as JSON, a readable subject, and message attributes for
//! subscription filter policies.

use crate::aws::sns::publish;
use crate::ops::config::SnsFormat;
use crate::ops::notify::legacy::legacy;
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
    /// JSON, or the old script's messages.
    pub format: SnsFormat,
}

impl SnsSink {
    /// Publishes the notice (in the legacy format, only the events the old script had); a FIFO topic
    /// gets the service as its message group.
    pub async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let deduplication_id = notice.deduplication_id();
        let fifo = self
            .topic
            .ends_with(".fifo")
            .then(|| (non_empty(&notice.service), deduplication_id.as_str()));
        let (subject, message, attributes) = match self.format {
            SnsFormat::Json => {
                let mut attributes = vec![
                    (EVENT_ATTRIBUTE, "String", notice.event.label().to_owned()),
                    ("service", "String", non_empty(&notice.service).to_owned()),
                    ("cluster", "String", non_empty(&notice.cluster).to_owned()),
                ];
                if let Some(outcome) = &notice.outcome {
                    attributes.push(("outcome", "String", outcome.clone()));
                }
                let headline = format!("ecs-deployment: {}", notice.headline());
                (subject(&headline), notice.to_json(), attributes)
            }
            SnsFormat::Legacy => match legacy(notice) {
                Some(old) => (subject(&old.subject), old.message, old.attributes),
                None => return Ok(()),
            },
        };
        let attributes: Vec<(&str, &str, &str)> = attributes
            .iter()
            .filter(|(_, _, value)| !value.is_empty())
            .map(|(name, data_type, value)| (*name, *data_type, value.as_str()))
            .collect();
        publish(
            &self.client,
            &self.topic,
            &subject,
            &message,
            &attributes,
            fifo,
        )
        .await
        .map_err(|e| e.to_string())
    }
}

/// An SNS subject: printable ASCII on one line, at most 100 characters.
fn subject(headline: &str) -> String {
    let ascii: String = headline
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
