//! The Slack sink: one post per notification to an incoming webhook (`SLACK_WEBHOOK`), a headline and a
//! colored attachment with the details, retried while Slack is unreachable or busy.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::{Value, json};

use crate::decide::names::short_arn;
use crate::ops::config::Slack;
use crate::ops::notify::notice::{Event, Notice};

/// How long one Slack request may take.
const SLACK_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a Slack request is tried when Slack is unreachable or fails.
const SLACK_ATTEMPTS: usize = 3;

/// Posts to one webhook.
#[derive(Debug)]
pub struct SlackSink {
    /// The HTTPS client, with [`SLACK_TIMEOUT`] per request.
    http: reqwest::Client,
    /// The webhook, channel and bot name.
    slack: Slack,
}

impl SlackSink {
    /// A sink for `slack`; fails when no HTTPS client can be made (no CA certificates, say).
    pub fn new(slack: &Slack) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(SLACK_TIMEOUT)
            .user_agent(concat!("ecs-deployment/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            slack: slack.clone(),
        })
    }

    /// Posts the notice, trying again while Slack does not answer, answers 429 or fails.
    pub async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let payload = payload(notice, &self.slack);
        (|| post_slack(&self.http, &self.slack.webhook, &payload))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_secs(1))
                    .with_max_times(SLACK_ATTEMPTS - 1)
                    .with_jitter(),
            )
            .when(|e: &SlackError| e.transient)
            .await
            .map_err(|e| e.message)
    }
}

/// A failed Slack request.
#[derive(Debug)]
struct SlackError {
    /// What went wrong, without the webhook URL (a secret).
    message: String,
    /// Whether trying again may help (no answer, 429 or 5xx).
    transient: bool,
}

async fn post_slack(
    http: &reqwest::Client,
    webhook: &str,
    payload: &Value,
) -> Result<(), SlackError> {
    let response = http
        .post(webhook)
        .json(payload)
        .send()
        .await
        .map_err(|e| SlackError {
            message: format!("Slack webhook unreachable: {}", e.without_url()),
            transient: true,
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(SlackError {
        message: format!(
            "Slack webhook answered {status}: {}",
            body.chars().take(200).collect::<String>()
        ),
        transient: status.is_server_error() || status.as_u16() == 429,
    })
}

/// The message Slack shows: a headline, and the details as a colored attachment's fields.
pub fn payload(notice: &Notice, slack: &Slack) -> Value {
    // SLACK_COLOR colors what went well, as the old script did; a failure is always red.
    let chosen = slack.color.as_deref();
    let (emoji, color) = match (notice.event, notice.success) {
        (Event::Started, _) => (":rocket:", chosen.unwrap_or("#439FE0")),
        (Event::Retrying, _) => (":hourglass:", "warning"),
        (Event::Waiting, _) => (":double_vertical_bar:", "warning"),
        (Event::Finished, Some(true)) => (":white_check_mark:", chosen.unwrap_or("good")),
        (Event::Finished, _) if notice.outcome.as_deref() == Some("superseded") => {
            (":arrow_right_hook:", "warning")
        }
        (Event::Finished, _) => (":x:", "danger"),
    };
    let mut fields = vec![
        field("Service", &notice.service, true),
        field("Cluster", &notice.cluster, true),
    ];
    if let Some(previous) = &notice.previous_task_definition {
        fields.push(field("From", short_arn(previous), true));
    }
    if let Some(new) = &notice.new_task_definition {
        fields.push(field("To", short_arn(new), true));
    }
    if let Some(outcome) = &notice.outcome {
        fields.push(field("Outcome", outcome, true));
    }
    if let Some(ms) = notice.duration_ms {
        let took = humantime::format_duration(Duration::from_secs(ms / 1000)).to_string();
        fields.push(field("Duration", &took, true));
    }
    if let Some(rollback) = &notice.rollback {
        fields.push(field("Rollback", rollback, true));
    }
    if let Some(reason) = &notice.reason {
        fields.push(field("Reason", reason, false));
    }
    if !notice.ecs_said.is_empty() {
        fields.push(field("ECS said", &notice.ecs_said.join("\n"), false));
    }
    if let Some(url) = &notice.commit_url {
        fields.push(field("Commit", url, false));
    }
    let headline = format!("{emoji} {}", escape(&notice.headline()));
    let mut payload = json!({
        "username": slack.botname,
        "text": headline,
        "attachments": [{
            "fallback": headline,
            "color": color,
            "fields": fields,
            "footer": format!("message {}", notice.message_id),
        }],
    });
    if let (Some(channel), Some(object)) = (&slack.channel, payload.as_object_mut()) {
        object.insert("channel".into(), Value::String(channel.clone()));
    }
    payload
}

fn field(title: &str, value: &str, short: bool) -> Value {
    json!({"title": title, "value": escape(value), "short": short})
}

/// Slack's three control characters, escaped as its message format asks.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::outcome::Outcome;
    use crate::ops::notify::fixtures::{report, slack};

    #[test]
    fn slack_messages_are_escaped_and_colored() {
        let payload = super::payload(
            &Notice::finished(&report(Outcome::Deployed), None),
            &slack(),
        );
        assert_eq!(payload["channel"], "#deploys");
        assert_eq!(payload["username"], "deployer");
        assert_eq!(payload["attachments"][0]["color"], "good");
        let text = payload.to_string();
        assert!(
            text.contains("https://git.example/c/1?a=&lt;b&gt;&amp;c"),
            "{text}"
        );
        let failed = Notice::finished(
            &report(Outcome::Rejected {
                reason: "bad <body>".into(),
            }),
            None,
        );
        let payload = super::payload(&failed, &slack());
        assert_eq!(payload["attachments"][0]["color"], "danger");
        assert!(payload.to_string().contains("bad &lt;body&gt;"));
    }

    #[test]
    fn slack_color_colors_started_and_succeeded_posts_and_failures_stay_red() {
        let colored = Slack {
            color: Some("#335EFF".into()),
            ..slack()
        };
        let report = report(Outcome::Deployed);
        let color =
            |notice: &Notice| super::payload(notice, &colored)["attachments"][0]["color"].clone();
        assert_eq!(
            color(&Notice::started(&report, None, None, None)),
            "#335EFF"
        );
        assert_eq!(color(&Notice::finished(&report, None)), "#335EFF");
        let failed = Notice::finished(
            &super::super::fixtures::report(Outcome::Rejected { reason: "x".into() }),
            None,
        );
        assert_eq!(color(&failed), "danger");
        // Unset, the worker's own colors.
        let plain = super::payload(&Notice::started(&report, None, None, None), &slack());
        assert_eq!(plain["attachments"][0]["color"], "#439FE0");
    }
}
