//! The Microsoft Teams sink (`TEAMS_WEBHOOK`): each notification posted to a Teams Workflows webhook as an
//! Adaptive Card with the same facts and colors as the Slack post.

use serde_json::{Value, json};

use crate::ops::config::Webhook;
use crate::ops::notify::markup::markdown_text;
use crate::ops::notify::notice::{Notice, Tone};
use crate::ops::notify::post::Poster;

/// Posts to one Workflows webhook.
#[derive(Debug)]
pub struct TeamsSink {
    /// The HTTPS client.
    poster: Poster,
    /// The webhook.
    webhook: Webhook,
}

impl TeamsSink {
    /// A sink for `webhook`; fails when no HTTPS client can be made.
    pub fn new(webhook: &Webhook) -> Result<Self, reqwest::Error> {
        Ok(Self {
            poster: Poster::new("Teams webhook")?,
            webhook: webhook.clone(),
        })
    }

    /// Posts the notice as a card.
    pub async fn deliver(&self, notice: &Notice) -> Result<(), String> {
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
