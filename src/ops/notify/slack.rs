//! The Slack sink: one post per notification to an incoming webhook (`SLACK_WEBHOOK`, with the old script's
//! `SLACK_CHANNEL`, `SLACK_BOTNAME` and `SLACK_COLOR`), a headline and a colored attachment with the details.

use serde_json::{Value, json};

use crate::ops::config::values::check_http_url;
use crate::ops::notify::notice::{Event, Notice, Tone};
use crate::ops::notify::post::Poster;
use crate::ops::notify::sink::{AwsClients, NotificationSink};
use crate::ops::vars::{Problem, Vars};

/// `SLACK_BOTNAME` when unset: the name Slack shows the notifications under.
pub const DEFAULT_SLACK_BOTNAME: &str = "ecs-deployment";

/// A Slack incoming webhook, as the old script's variables name it.
#[derive(Clone, PartialEq, Eq)]
pub struct Slack {
    /// `SLACK_WEBHOOK`: the incoming webhook's URL. A secret: it is never logged.
    pub webhook: String,
    /// `SLACK_CHANNEL`: the channel to post in, when not the webhook's own.
    pub channel: Option<String>,
    /// `SLACK_BOTNAME`: the name the posts appear under.
    pub botname: String,
    /// `SLACK_COLOR`: the color of started and succeeded posts, as the old script used it (`#RRGGBB` or
    /// Slack's `good`, `warning`, `danger`); failures stay red.
    pub color: Option<String>,
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack")
            .field("webhook", &"(secret)")
            .field("channel", &self.channel)
            .field("botname", &self.botname)
            .field("color", &self.color)
            .finish()
    }
}

/// Posts to one webhook.
#[derive(Debug)]
pub struct SlackSink {
    /// The HTTPS client.
    poster: Poster,
    /// The webhook, channel, bot name and color.
    slack: Slack,
}

impl NotificationSink for SlackSink {
    const NAME: &'static str = "slack";
    const VARIABLES: &'static [&'static str] =
        &["SLACK_WEBHOOK", "SLACK_CHANNEL", "SLACK_BOTNAME", "SLACK_COLOR"];
    type Settings = Slack;

    fn settings(vars: &Vars) -> Result<Option<Slack>, Problem> {
        let (channel, botname, color) = (
            vars.get("SLACK_CHANNEL"),
            vars.get("SLACK_BOTNAME"),
            vars.get("SLACK_COLOR"),
        );
        let Some(webhook) = vars.get("SLACK_WEBHOOK") else {
            return Ok(None);
        };
        check_http_url(&webhook).map_err(|p| ("SLACK_WEBHOOK", p))?;
        if let Some(color) = &color
            && !slack_color(color)
        {
            return Err((
                "SLACK_COLOR",
                format!("expected #RRGGBB, good, warning or danger, got {color:?}"),
            ));
        }
        Ok(Some(Slack {
            webhook,
            channel,
            botname: botname.unwrap_or_else(|| DEFAULT_SLACK_BOTNAME.to_owned()),
            color,
        }))
    }

    fn start(slack: &Slack, _: &AwsClients) -> Result<Self, String> {
        Ok(Self {
            poster: Poster::new("Slack webhook")?,
            slack: slack.clone(),
        })
    }

    /// Posts the notice, trying again while Slack does not answer, answers 429 or fails.
    async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let payload = payload(notice, &self.slack).to_string();
        self.poster.post(&self.slack.webhook, &payload, &[]).await
    }
}

/// A color Slack takes for an attachment: `#RRGGBB` or one of its three names.
fn slack_color(color: &str) -> bool {
    matches!(color, "good" | "warning" | "danger")
        || color.strip_prefix('#').is_some_and(|hex| {
            (hex.len() == 6 || hex.len() == 3) && hex.chars().all(|c| c.is_ascii_hexdigit())
        })
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
