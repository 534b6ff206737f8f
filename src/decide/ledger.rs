//! The lasting record of each deployment, kept where ECS keeps things: a tag on the revision it deployed
//! (who sent it, when it was received and settled, how it ended), joined with ECS's own service
//! deployments into the service's history.

use crate::decide::marker::{COMMIT_URL_TAG, MESSAGE_ID_TAG, tag_value};
use crate::decide::names::short_arn;

/// ECS's limit on a tag value.
const MAX_RECORD: usize = 256;

/// The record of the deployment that registered the revision (`deploy`, `image`).
pub const RECORD_TAG: &str = "ecs-deployment:record";
/// The record of the latest deployment of an existing revision (`rollback`, `redeploy`); earlier ones
/// show in ECS's service deployments without it.
pub const LAST_RECORD_TAG: &str = "ecs-deployment:last-record";

/// One deployment's record, as the worker writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// `deploy`, `image`, `rollback` or `redeploy`.
    pub action: String,
    /// The outcome's label (`deployed`, `failed`, ...).
    pub outcome: String,
    /// When the worker received the message, epoch milliseconds.
    pub received_ms: u64,
    /// When the message was settled, epoch milliseconds.
    pub finished_ms: u64,
    /// SQS's SenderId: the IAM principal that sent the message.
    pub sender: Option<String>,
    /// The message id (kept in the record only for deployments of an existing revision).
    pub message_id: Option<String>,
    /// The producer's `commit_url` (kept in the record only for deployments of an existing revision, and
    /// only when it fits in the tag).
    pub commit_url: Option<String>,
}

impl Record {
    /// The record as one tag value: `key=value` pairs separated by spaces, within ECS's 256 characters (a
    /// commit URL that would not fit is left out).
    pub fn to_tag_value(&self) -> String {
        let without = Record {
            commit_url: None,
            ..self.clone()
        }
        .packed();
        match &self.commit_url {
            Some(url) if without.len() + " commit=".len() + url.len() <= MAX_RECORD => {
                tag_value(&format!("{without} commit={url}"))
            }
            _ => without,
        }
    }

    fn packed(&self) -> String {
        let mut parts = vec![
            format!("action={}", self.action),
            format!("outcome={}", self.outcome),
            format!("received={}", self.received_ms),
            format!("finished={}", self.finished_ms),
        ];
        if let Some(message) = &self.message_id {
            parts.push(format!("message={message}"));
        }
        if let Some(sender) = &self.sender {
            parts.push(format!("sender={sender}"));
        }
        tag_value(&parts.join(" "))
    }

    /// Reads a record back from its tag value; `None` when it is not one.
    pub fn from_tag_value(value: &str) -> Option<Self> {
        let mut record = Self::default();
        for part in value.split(' ') {
            let (key, value) = part.split_once('=')?;
            match key {
                "action" => record.action = value.to_owned(),
                "outcome" => record.outcome = value.to_owned(),
                "received" => record.received_ms = value.parse().ok()?,
                "finished" => record.finished_ms = value.parse().ok()?,
                "message" => record.message_id = Some(value.to_owned()),
                "sender" => record.sender = Some(value.to_owned()),
                "commit" => record.commit_url = Some(value.to_owned()),
                _ => {}
            }
        }
        (!record.action.is_empty()).then_some(record)
    }
}

/// One of ECS's service deployments of the service, as history needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The task definition it deployed.
    pub task_definition: String,
    /// Its status (SUCCESSFUL, ROLLBACK_SUCCESSFUL, ...).
    pub status: String,
    /// When ECS created it, epoch milliseconds.
    pub created_ms: u64,
    /// When it finished, epoch milliseconds.
    pub finished_ms: Option<u64>,
}

/// One line of a service's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The revision deployed (`family:revision`).
    pub revision: String,
    /// The action, when the worker recorded it.
    pub action: Option<String>,
    /// When ECS started the deployment, epoch milliseconds.
    pub at_ms: u64,
    /// Who sent it, when recorded.
    pub sender: Option<String>,
    /// The message id, when recorded.
    pub message_id: Option<String>,
    /// The producer's link, when recorded.
    pub commit_url: Option<String>,
    /// The worker's outcome when recorded, else ECS's status.
    pub outcome: String,
    /// How long it took, in milliseconds, when known.
    pub duration_ms: Option<u64>,
}

/// ECS's service deployments (newest first) joined with the records on their revisions' tags: a record
/// belongs to a deployment ECS created between the message's receipt and its settlement.
pub fn entries(
    deployments: &[Deployment],
    tags_of: impl Fn(&str) -> Vec<(String, String)>,
) -> Vec<Entry> {
    deployments
        .iter()
        .map(|d| {
            let tags = tags_of(&d.task_definition);
            let tag = |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            let during =
                |r: &Record| r.received_ms <= d.created_ms && d.created_ms <= r.finished_ms;
            let registered = tag(RECORD_TAG)
                .and_then(|v| Record::from_tag_value(&v))
                .filter(during)
                .map(|r| Record {
                    message_id: tag(MESSAGE_ID_TAG),
                    ..r
                });
            let reused = tag(LAST_RECORD_TAG)
                .and_then(|v| Record::from_tag_value(&v))
                .filter(during);
            let commit_url = match (&registered, &reused) {
                (Some(_), _) => tag(COMMIT_URL_TAG),
                (None, Some(record)) => record.commit_url.clone(),
                (None, None) => None,
            };
            match registered.or(reused) {
                Some(record) => Entry {
                    revision: short_arn(&d.task_definition).to_owned(),
                    action: Some(record.action),
                    at_ms: d.created_ms,
                    sender: record.sender,
                    message_id: record.message_id,
                    commit_url,
                    outcome: record.outcome,
                    duration_ms: Some(record.finished_ms.saturating_sub(record.received_ms)),
                },
                None => Entry {
                    revision: short_arn(&d.task_definition).to_owned(),
                    action: None,
                    at_ms: d.created_ms,
                    sender: None,
                    message_id: None,
                    commit_url: None,
                    outcome: d.status.to_lowercase(),
                    duration_ms: d.finished_ms.map(|f| f.saturating_sub(d.created_ms)),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str, received: u64, finished: u64) -> Record {
        Record {
            action: action.into(),
            outcome: "deployed".into(),
            received_ms: received,
            finished_ms: finished,
            sender: Some("AIDAEXAMPLE".into()),
            message_id: None,
            commit_url: None,
        }
    }

    #[test]
    fn a_record_survives_its_tag_value() {
        let mut r = record("rollback", 1_000, 5_000);
        r.message_id = Some("5fd1-aa".into());
        let value = r.to_tag_value();
        assert_eq!(
            value,
            "action=rollback outcome=deployed received=1000 finished=5000 message=5fd1-aa sender=AIDAEXAMPLE"
        );
        assert_eq!(Record::from_tag_value(&value), Some(r.clone()));
        assert_eq!(Record::from_tag_value("nonsense"), None);
        assert!(value.len() <= 256);
        // A commit URL travels when it fits, and is left out when it does not.
        let with_commit = Record {
            commit_url: Some("https://example.com/c/1".into()),
            ..r.clone()
        };
        assert_eq!(
            Record::from_tag_value(&with_commit.to_tag_value()),
            Some(with_commit)
        );
        let long = Record {
            commit_url: Some(format!("https://example.com/{}", "x".repeat(300))),
            ..r.clone()
        };
        assert_eq!(long.to_tag_value(), value);
    }

    #[test]
    fn each_deployment_gets_the_record_made_while_it_ran() {
        let v1 = "arn:aws:ecs:us-east-1:1:task-definition/web:1";
        let v2 = "arn:aws:ecs:us-east-1:1:task-definition/web:2";
        let deployment = |td: &str, created: u64| Deployment {
            task_definition: td.into(),
            status: "SUCCESSFUL".into(),
            created_ms: created,
            finished_ms: Some(created + 50),
        };
        // newest first: a rollback to web:1, the deploy of web:2, and web:1's first deployment by hand
        let deployments = [
            deployment(v1, 3_100),
            deployment(v2, 2_100),
            deployment(v1, 100),
        ];
        let tags = |td: &str| -> Vec<(String, String)> {
            if td == v2 {
                vec![
                    (
                        RECORD_TAG.into(),
                        record("deploy", 2_000, 2_500).to_tag_value(),
                    ),
                    (MESSAGE_ID_TAG.into(), "m2".into()),
                    (COMMIT_URL_TAG.into(), "https://x/c/2".into()),
                ]
            } else {
                let mut rollback = record("rollback", 3_000, 3_400);
                rollback.message_id = Some("m3".into());
                vec![(LAST_RECORD_TAG.into(), rollback.to_tag_value())]
            }
        };
        let history = entries(&deployments, tags);
        let actions: Vec<Option<&str>> = history.iter().map(|e| e.action.as_deref()).collect();
        assert_eq!(actions, [Some("rollback"), Some("deploy"), None]);
        assert_eq!(history[0].message_id.as_deref(), Some("m3"));
        assert_eq!(history[1].message_id.as_deref(), Some("m2"));
        assert_eq!(history[1].commit_url.as_deref(), Some("https://x/c/2"));
        assert_eq!(history[1].duration_ms, Some(500));
        assert_eq!(
            history[2].outcome, "successful",
            "ECS's status where nothing was recorded"
        );
        assert_eq!(history[2].sender, None);
        assert_eq!(history[0].revision, "web:1");
    }
}
