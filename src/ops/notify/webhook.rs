//! The generic webhook sink (`WEBHOOK_URL`): each notification's JSON notice posted as it is, signed with
//! HMAC-SHA256 under `WEBHOOK_SECRET` when one is set, so receivers can tell it came from the worker.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ops::config::values::check_http_url;
use crate::ops::notify::notice::Notice;
use crate::ops::notify::post::{Poster, Webhook};
use crate::ops::notify::sink::{AwsClients, NotificationSink};
use crate::ops::vars::{Problem, Vars};

/// The header the signature travels in: `sha256=` and the hex HMAC-SHA256 of the body.
pub const SIGNATURE_HEADER: &str = "x-ecs-deployment-signature";
/// The header that says which event the body is, so receivers can route without parsing it.
pub const EVENT_HEADER: &str = "x-ecs-deployment-event";

/// Posts to one webhook.
#[derive(Debug)]
pub struct WebhookSink {
    /// The HTTPS client.
    poster: Poster,
    /// The URL and the signing key.
    webhook: Webhook,
}

impl NotificationSink for WebhookSink {
    const NAME: &'static str = "webhook";
    const VARIABLES: &'static [&'static str] = &["WEBHOOK_URL", "WEBHOOK_SECRET"];
    type Settings = Webhook;

    fn settings(vars: &Vars) -> Result<Option<Webhook>, Problem> {
        let secret = vars.get("WEBHOOK_SECRET");
        match vars.get("WEBHOOK_URL") {
            None if secret.is_some() => Err((
                "WEBHOOK_SECRET",
                "is set without WEBHOOK_URL: set both, or neither".to_owned(),
            )),
            None => Ok(None),
            Some(url) => {
                check_http_url(&url).map_err(|p| ("WEBHOOK_URL", p))?;
                Ok(Some(Webhook { url, secret }))
            }
        }
    }

    fn start(webhook: &Webhook, _: &AwsClients) -> Result<Self, String> {
        Ok(Self {
            poster: Poster::new("webhook")?,
            webhook: webhook.clone(),
        })
    }

    /// Posts the notice as JSON, signed when a secret is set.
    async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let body = notice.to_json();
        let mut headers = vec![(EVENT_HEADER, notice.event.label().to_owned())];
        if let Some(secret) = &self.webhook.secret {
            headers.push((SIGNATURE_HEADER, signature(secret, &body)));
        }
        self.poster.post(&self.webhook.url, &body, &headers).await
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`, as receivers recompute it.
pub fn signature(secret: &str, body: &str) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
