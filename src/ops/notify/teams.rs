//! The Microsoft Teams sink (`TEAMS_WEBHOOK`): each notification posted to a Teams Workflows webhook as an
//! Adaptive Card with the same facts and colors as the Slack post.

use serde_json::{Value, json};

use crate::ops::config::values::check_http_url;
use crate::ops::notify::markup::markdown_text;
use crate::ops::notify::notice::{Notice, Tone};
use crate::ops::notify::post::{Poster, Webhook};
use crate::ops::notify::sink::{AwsClients, NotificationSink};
use crate::ops::vars::{Problem, Vars};

/// Posts to one Workflows webhook.
#[derive(Debug)]
pub struct TeamsSink {
    /// The HTTPS client.
    poster: Poster,
    /// The webhook.
    webhook: Webhook,
}

impl NotificationSink for TeamsSink {
    const NAME: &'static str = "teams";
    const VARIABLES: &'static [&'static str] = &["TEAMS_WEBHOOK"];
    type Settings = Webhook;

    fn settings(vars: &Vars) -> Result<Option<Webhook>, Problem> {
        let Some(url) = vars.get("TEAMS_WEBHOOK") else {
            return Ok(None);
        };
        check_http_url(&url).map_err(|p| ("TEAMS_WEBHOOK", p))?;
        Ok(Some(Webhook { url, secret: None }))
    }

    fn start(webhook: &Webhook, _: &AwsClients) -> Result<Self, String> {
        Ok(Self {
            poster: Poster::new("Teams webhook")?,
            webhook: webhook.clone(),
        })
    }

    /// Posts the notice as a card.
    async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let card = card(notice).to_string();
        self.poster.post(&self.webhook.url, &card, &[]).await
    }
}

/// The message a Workflows webhook takes: one Adaptive Card, a colored headline over the facts, and a
/// button to the commit when there is one.
pub fn card(notice: &Notice) -> Value {
    // Adaptive Cards name their colors; these are Slack's blue, green, amber and red.
    let color = match notice.tone() {
        Tone::Info => "Accent",
        Tone::Good => "Good",
        Tone::Warning => "Warning",
        Tone::Bad => "Attention",
    };
    let facts: Vec<Value> = notice
        .facts()
        .into_iter()
        .map(|(title, value, _)| json!({"title": title, "value": markdown_text(&value)}))
        .collect();
    let mut content = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": [
            {
                "type": "TextBlock",
                "text": markdown_text(&notice.headline()),
                "weight": "Bolder",
                "size": "Medium",
                "color": color,
                "wrap": true
            },
            {"type": "FactSet", "facts": facts},
            {
                "type": "TextBlock",
                "text": format!("message {}", notice.message_id),
                "isSubtle": true,
                "size": "Small",
                "wrap": true
            }
        ]
    });
    if let Some(url) = &notice.commit_url {
        content["actions"] = json!([{"type": "Action.OpenUrl", "title": "Commit", "url": url}]);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": content
        }]
    })
}
