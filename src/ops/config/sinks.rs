//! The notification sinks' variables: Slack (with the old script's `SLACK_COLOR`), SNS and its format,
//! Microsoft Teams, and a generic signed webhook.

use crate::ops::config::values::{check_http_url, check_topic_arn, non_empty};
use crate::ops::config::variables::DEFAULT_SLACK_BOTNAME;

/// The sinks' variables as text.
pub(super) struct RawSinks {
    pub(super) slack_webhook: Option<String>,
    pub(super) slack_channel: Option<String>,
    pub(super) slack_botname: Option<String>,
    pub(super) slack_color: Option<String>,
    pub(super) sns_topic: Option<String>,
    pub(super) sns_format: Option<String>,
    pub(super) teams_webhook: Option<String>,
    pub(super) webhook_url: Option<String>,
    pub(super) webhook_secret: Option<String>,
}

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sinks {
    /// `SLACK_*`.
    pub slack: Option<Slack>,
    /// `SNS_TOPIC`.
    pub sns_topic: Option<String>,
    /// `SNS_FORMAT`.
    pub sns_format: SnsFormat,
    /// `TEAMS_WEBHOOK`.
    pub teams: Option<Webhook>,
    /// `WEBHOOK_URL`, `WEBHOOK_SECRET`.
    pub webhook: Option<Webhook>,
}

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

/// What an SNS notification looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnsFormat {
    /// The notice as JSON, with `event`, `service`, `cluster` and `outcome` attributes.
    #[default]
    Json,
    /// The old script's subject, Markdown message and card attributes (`color`, `messagetype`,
    /// `summary`, `order`, `items`, `buttons`) for started, succeeded and failed deployments.
    Legacy,
}

/// A webhook notifications are posted to.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its URL. A secret (it carries the credentials): never logged.
    pub url: String,
    /// The key bodies are signed with (HMAC-SHA256), when set. A secret.
    pub secret: Option<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &"(secret)")
            .field("signed", &self.secret.is_some())
            .finish()
    }
}

/// A bad variable: its name and what is wrong with it.
type Problem = (&'static str, String);

/// Reads the sinks' variables; a bad one is named.
pub(super) fn read(raw: RawSinks) -> Result<Sinks, Problem> {
    let slack = match non_empty(raw.slack_webhook) {
        None => None,
        Some(webhook) => {
            check_http_url(&webhook).map_err(|p| problem("SLACK_WEBHOOK", p))?;
            let color = non_empty(raw.slack_color);
            if let Some(color) = &color
                && !slack_color(color)
            {
                return Err(problem(
                    "SLACK_COLOR",
                    format!("expected #RRGGBB, good, warning or danger, got {color:?}"),
                ));
            }
            Some(Slack {
                webhook,
                channel: non_empty(raw.slack_channel),
                botname: non_empty(raw.slack_botname)
                    .unwrap_or_else(|| DEFAULT_SLACK_BOTNAME.to_owned()),
                color,
            })
        }
    };
    let sns_topic = match non_empty(raw.sns_topic) {
        None => None,
        Some(topic) => {
            check_topic_arn(&topic).map_err(|p| problem("SNS_TOPIC", p))?;
            Some(topic)
        }
    };
    let sns_format = match non_empty(raw.sns_format).map(|f| f.to_ascii_lowercase()) {
        None => SnsFormat::Json,
        Some(f) if f == "json" => SnsFormat::Json,
        Some(f) if f == "legacy" => SnsFormat::Legacy,
        Some(f) => {
            return Err(problem(
                "SNS_FORMAT",
                format!("expected json or legacy, got {f:?}"),
            ));
        }
    };
    let teams = match non_empty(raw.teams_webhook) {
        None => None,
        Some(url) => {
            check_http_url(&url).map_err(|p| problem("TEAMS_WEBHOOK", p))?;
            Some(Webhook { url, secret: None })
        }
    };
    let secret = non_empty(raw.webhook_secret);
    let webhook = match non_empty(raw.webhook_url) {
        None if secret.is_some() => {
            return Err(problem(
                "WEBHOOK_SECRET",
                "is set without WEBHOOK_URL: set both, or neither",
            ));
        }
        None => None,
        Some(url) => {
            check_http_url(&url).map_err(|p| problem("WEBHOOK_URL", p))?;
            Some(Webhook { url, secret })
        }
    };
    Ok(Sinks {
        slack,
        sns_topic,
        sns_format,
        teams,
        webhook,
    })
}

fn problem(variable: &'static str, what: impl Into<String>) -> Problem {
    (variable, what.into())
}

/// A color Slack takes for an attachment: `#RRGGBB` or one of its three names.
fn slack_color(color: &str) -> bool {
    matches!(color, "good" | "warning" | "danger")
        || color.strip_prefix('#').is_some_and(|hex| {
            (hex.len() == 6 || hex.len() == 3) && hex.chars().all(|c| c.is_ascii_hexdigit())
        })
}
