//! What the logs say of a message body instead of the body itself, which may hold secrets.

use sha2::{Digest, Sha256};

/// The longest family name ECS takes, and so the longest a summary shows.
const MAX_NAME: usize = 255;

/// What the logs say of a body instead of the body itself, which may hold secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySummary {
    /// The task definition's family, when the body names one.
    pub family: Option<String>,
    /// The body's length in bytes.
    pub bytes: usize,
    /// The body's SHA-256, hex, to match it with what the producer sent.
    pub sha256: String,
}

impl BodySummary {
    /// Summarizes `body`, whatever it holds.
    pub fn of(body: &str) -> Self {
        let value: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let family = value.as_ref().and_then(|v| {
            v.get("family")
                .or_else(|| v.get("taskDefinition").and_then(|t| t.get("family")))
                .and_then(serde_json::Value::as_str)
                .map(|f| f.chars().take(MAX_NAME).collect())
        });
        Self {
            family,
            bytes: body.len(),
            sha256: format!("{:x}", Sha256::digest(body.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_summarized_without_its_content() {
        let summary = BodySummary::of(
            r#"{"family": "web", "containerDefinitions": [{"environment": [{"name": "TOKEN", "value": "s3cr3t"}]}]}"#,
        );
        assert_eq!(summary.family.as_deref(), Some("web"));
        assert_eq!(summary.sha256.len(), 64);
        assert!(!format!("{summary:?}").contains("s3cr3t"));
        let wrapped = BodySummary::of(r#"{"taskDefinition": {"family": "api"}}"#);
        assert_eq!(wrapped.family.as_deref(), Some("api"));
        let junk = BodySummary::of("not json");
        assert_eq!((junk.family, junk.bytes), (None, 8));
    }
}
