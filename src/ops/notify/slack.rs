//! The Slack sink: one post per notification to an incoming webhook (`SLACK_WEBHOOK`), a headline and a
//! colored attachment with the details.

use serde_json::{Value, json};

use crate::ops::config::Slack;
use crate::ops::notify::notice::{Event, Notice, Tone};
use crate::ops::notify::post::Poster;

/// Posts to one webhook.
#[derive(Debug)]
pub struct SlackSink {
    /// The HTTPS client.
    poster: Poster,
    /// The webhook, channel, bot name and color.
    slack: Slack,
}

impl SlackSink {
    /// A sink for `slack`; fails when no HTTPS client can be made (no CA certificates, say).
    pub fn new(slack: &Slack) -> Result<Self, reqwest::Error> {
        Ok(Self {
            poster: Poster::new("Slack webhook")?,
            slack: slack.clone(),
        })
    }

    /// Posts the notice, trying again while Slack does not answer, answers 429 or fails.
    pub async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let payload = payload(notice, &self.slack).to_string();
        self.poster.post(&self.slack.webhook, &payload, &[]).await
    }
}

/// The message Slack shows: a headline, and the details as a colored attachment's fields.
pub fn payload(notice: &Notice, slack: &Slack) -> Value {
    // SLACK_COLOR colors what went well, as the old script did; a failure is always red.
    let chosen = slack.color.as_deref();
    let (emoji, color) = match notice.tone() {
        Tone::Info => (":rocket:", chosen.unwrap_or("#439FE0")),
        Tone::Good => (":white_check_mark:", chosen.unwrap_or("good")),
        Tone::Warning => (notice_emoji(notice), "warning"),
        Tone::Bad => (":x:", "danger"),
    };
    let fields: Vec<Value> = notice
        .facts()
        .iter()
        .map(|(title, value, short)| field(title, value, *short))
        .collect();
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

/// The emoji of a notice that needs attention but did not fail.
fn notice_emoji(notice: &Notice) -> &'static str {
    match notice.event {
        Event::Waiting => ":double_vertical_bar:",
        Event::Retrying => ":hourglass:",
        _ => ":arrow_right_hook:",
    }
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
