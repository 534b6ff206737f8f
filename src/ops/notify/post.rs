//! Posting a notification to a webhook (Slack, Teams, a generic one): bounded in time, tried again while
//! the receiver is unreachable, busy or failing, and never naming the URL, which is a secret.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

/// How long one request may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a request is tried when the receiver is unreachable or fails.
const POST_ATTEMPTS: usize = 3;

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

/// An HTTPS client for one kind of webhook.
#[derive(Debug, Clone)]
pub struct Poster {
    /// The client, with [`POST_TIMEOUT`] per request.
    http: reqwest::Client,
    /// The receiver's kind, as errors name it (`Slack webhook`).
    kind: &'static str,
}

/// A failed request.
#[derive(Debug)]
struct PostError {
    /// What went wrong, without the URL.
    message: String,
    /// Whether trying again may help (no answer, 429 or 5xx).
    transient: bool,
}

impl Poster {
    /// A poster for webhooks of `kind`; fails when no HTTPS client can be made (no CA certificates, say).
    pub fn new(kind: &'static str) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .user_agent(concat!("ecs-deployment/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                format!("cannot make an HTTPS client (are CA certificates installed?): {e}")
            })?;
        Ok(Self { http, kind })
    }

    /// Posts the JSON `body` with `headers` to `url`, trying again while the receiver does not answer,
    /// answers 429 or fails.
    pub async fn post(
        &self,
        url: &str,
        body: &str,
        headers: &[(&'static str, String)],
    ) -> Result<(), String> {
        (|| self.post_once(url, body, headers))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_secs(1))
                    .with_max_times(POST_ATTEMPTS - 1)
                    .with_jitter(),
            )
            .when(|e: &PostError| e.transient)
            .await
            .map_err(|e| e.message)
    }

    async fn post_once(
        &self,
        url: &str,
        body: &str,
        headers: &[(&'static str, String)],
    ) -> Result<(), PostError> {
        let mut request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| PostError {
            message: format!("{} unreachable: {}", self.kind, e.without_url()),
            transient: true,
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let answer = response.text().await.unwrap_or_default();
        Err(PostError {
            message: format!(
                "{} answered {status}: {}",
                self.kind,
                answer.chars().take(200).collect::<String>()
            ),
            transient: status.is_server_error() || status.as_u16() == 429,
        })
    }
}
