//! The SNS sink (`SNS_TOPIC`): the notice as JSON, a readable subject, and message attributes for
//! subscription filter policies.

use crate::aws::sns::publish;
use crate::ops::config::values::check_topic_arn;
use crate::ops::notify::legacy::legacy;
use crate::ops::notify::notice::{EVENT_ATTRIBUTE, Notice};
use crate::ops::notify::sink::{AwsClients, NotificationSink};
use crate::ops::vars::{Problem, Vars};

/// SNS limits a subject to 100 ASCII characters.
const MAX_SUBJECT: usize = 100;

/// What an SNS notification looks like (`SNS_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnsFormat {
    /// The notice as JSON, with `event`, `service`, `cluster` and `outcome` attributes.
    #[default]
    Json,
    /// The old script's subject, Markdown message and card attributes (`color`, `messagetype`,
    /// `summary`, `order`, `items`, `buttons`) for started, succeeded and failed deployments.
    Legacy,
}

/// The topic notifications are published to, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsTopic {
    /// `SNS_TOPIC`: the topic's ARN.
    pub topic: String,
    /// `SNS_FORMAT`: JSON, or the old script's messages.
    pub format: SnsFormat,
}

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

impl NotificationSink for SnsSink {
    const NAME: &'static str = "sns";
    const VARIABLES: &'static [&'static str] = &["SNS_TOPIC", "SNS_FORMAT"];
    type Settings = SnsTopic;

    fn settings(vars: &Vars) -> Result<Option<SnsTopic>, Problem> {
        let format = match vars.get("SNS_FORMAT").map(|f| f.to_ascii_lowercase()) {
            None => SnsFormat::Json,
            Some(f) if f == "json" => SnsFormat::Json,
            Some(f) if f == "legacy" => SnsFormat::Legacy,
            Some(f) => return Err(("SNS_FORMAT", format!("expected json or legacy, got {f:?}"))),
        };
        let Some(topic) = vars.get("SNS_TOPIC") else {
            return Ok(None);
        };
        check_topic_arn(&topic).map_err(|p| ("SNS_TOPIC", p))?;
        Ok(Some(SnsTopic { topic, format }))
    }

    fn start(settings: &SnsTopic, aws: &AwsClients) -> Result<Self, String> {
        Ok(Self {
            client: aws.sns.clone(),
            topic: settings.topic.clone(),
            format: settings.format,
        })
    }

    /// Publishes the notice (in the legacy format, only the events the old script had); a FIFO topic
    /// gets the service as its message group.
    async fn deliver(&self, notice: &Notice) -> Result<(), String> {
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
