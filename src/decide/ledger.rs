//! The lasting record of each deployment, kept where ECS keeps things: a tag on the revision it deployed
//! (who sent it, when it was received and settled, how it ended), joined with ECS's own service
//! deployments into the service's history.

use crate::decide::marker::{COMMIT_URL_TAG, MESSAGE_ID_TAG, tag_value};
use crate::decide::names::short_arn;

/// ECS's limit on a tag value.
const MAX_RECORD: usize = 256;

/// The record of the deployment that registered the revision (`deploy`, `image`).
pub const RECORD_TAG: &str = "ecs-deployment:record";
/// Each later deployment of the revision (`rollback`, `redeploy`) keeps its record under this prefix and
/// its message id, so that one deployment's record never replaces another's.
pub const DEPLOYMENT_RECORD_PREFIX: &str = "ecs-deployment:record:";
/// The one record of a later deployment that older workers kept, read still.
pub const LAST_RECORD_TAG: &str = "ecs-deployment:last-record";
/// The most records of later deployments a revision keeps; the oldest give way.
pub const MAX_DEPLOYMENT_RECORDS: usize = 10;
/// ECS's limit on the tags of one resource.
pub const MAX_TAGS: usize = 50;
/// ECS's limit on a tag key.
const MAX_KEY: usize = 128;

/// The tag key of the record of a later deployment of a revision, by its message's id (only the
/// characters a tag key may hold are kept).
pub fn deployment_record_key(message_id: &str) -> String {
    let id: String = message_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_.:/=+-@".contains(*c))
        .take(MAX_KEY - DEPLOYMENT_RECORD_PREFIX.len())
        .collect();
    format!("{DEPLOYMENT_RECORD_PREFIX}{id}")
}

/// Which record tags to remove from a revision tagged `existing` before `key` is added, so that it keeps
/// at most [`MAX_DEPLOYMENT_RECORDS`] records of later deployments and ECS's [`MAX_TAGS`]: the oldest
/// first (by when they finished; one that cannot be read is older than all). Rewriting a key it has
/// already (a redelivery) removes nothing. `None` when the revision's other tags leave no room for it.
pub fn records_to_remove(existing: &[(String, String)], key: &str) -> Option<Vec<String>> {
    if existing.iter().any(|(k, _)| k == key) {
        return Some(Vec::new());
    }
    let mut records: Vec<(u64, &str)> = existing
        .iter()
        .filter(|(k, _)| k.starts_with(DEPLOYMENT_RECORD_PREFIX) || k == LAST_RECORD_TAG)
        .map(|(k, v)| {
            let finished = Record::from_tag_value(v).map_or(0, |r| r.finished_ms);
            (finished, k.as_str())
        })
        .collect();
    records.sort_unstable();
    let others = existing.len() - records.len();
    let room = MAX_TAGS.saturating_sub(others).min(MAX_DEPLOYMENT_RECORDS);
    // One place is for the record being added.
    let keep = room.checked_sub(1)?;
    let surplus = records.len().saturating_sub(keep);
    Some(
        records
            .iter()
            .take(surplus)
            .map(|(_, k)| (*k).to_owned())
            .collect(),
    )
}

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
            // Of the later deployments' records, the newest made while this deployment was started.
            let reused = tags
                .iter()
                .filter(|(k, _)| k.starts_with(DEPLOYMENT_RECORD_PREFIX) || k == LAST_RECORD_TAG)
                .filter_map(|(_, v)| Record::from_tag_value(v))
                .filter(during)
                .max_by_key(|r| r.received_ms);
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

    const V1: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:1";
    const V2: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:2";

    /// A SUCCESSFUL service deployment of `td`, created at `created` and done 50 ms later.
    fn deployment(td: &str, created: u64) -> Deployment {
        Deployment {
            task_definition: td.into(),
            status: "SUCCESSFUL".into(),
            created_ms: created,
            finished_ms: Some(created + 50),
        }
    }

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
        // newest first: a rollback to web:1, the deploy of web:2, and web:1's first deployment by hand
        let deployments = [
            deployment(V1, 3_100),
            deployment(V2, 2_100),
            deployment(V1, 100),
        ];
        let tags = |td: &str| -> Vec<(String, String)> {
            if td == V2 {
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

    #[test]
    fn every_later_deployment_of_a_revision_keeps_its_own_record() {
        // newest first: a rollback to web:2, a rollback to web:1, a redeploy of web:2, web:2's image update
        let deployments = [
            deployment(V2, 4_100),
            deployment(V1, 3_100),
            deployment(V2, 2_100),
            deployment(V2, 1_100),
        ];
        let with = |action: &str, at: u64, message: &str| {
            let mut r = record(action, at, at + 400);
            r.message_id = Some(message.into());
            (deployment_record_key(message), r.to_tag_value())
        };
        let tags = |td: &str| -> Vec<(String, String)> {
            if td == V2 {
                vec![
                    (
                        RECORD_TAG.into(),
                        record("image", 1_000, 1_500).to_tag_value(),
                    ),
                    with("redeploy", 2_000, "m-redeploy"),
                    with("rollback", 4_000, "m-back-again"),
                ]
            } else {
                vec![with("rollback", 3_000, "m-back")]
            }
        };
        let history = entries(&deployments, tags);
        let shown: Vec<(&str, Option<&str>, Option<&str>)> = history
            .iter()
            .map(|e| {
                (
                    e.revision.as_str(),
                    e.action.as_deref(),
                    e.message_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("web:2", Some("rollback"), Some("m-back-again")),
                ("web:1", Some("rollback"), Some("m-back")),
                ("web:2", Some("redeploy"), Some("m-redeploy")),
                ("web:2", Some("image"), None),
            ]
        );
        // A record an older worker kept is read as well.
        let old = |_: &str| {
            vec![(
                LAST_RECORD_TAG.to_owned(),
                record("redeploy", 2_000, 2_400).to_tag_value(),
            )]
        };
        assert_eq!(
            entries(&deployments[2..3], old)[0].action.as_deref(),
            Some("redeploy")
        );
    }

    #[test]
    fn a_revision_keeps_a_bounded_number_of_records_within_ecs_s_tag_limit() {
        let records = |n: u64| -> Vec<(String, String)> {
            (0..n)
                .map(|i| {
                    (
                        deployment_record_key(&format!("m{i}")),
                        record("redeploy", i * 10, i * 10 + 5).to_tag_value(),
                    )
                })
                .collect()
        };
        let key = deployment_record_key("new");
        assert_eq!(records_to_remove(&records(3), &key), Some(vec![]));
        // Full: the oldest gives way.
        assert_eq!(
            records_to_remove(&records(10), &key),
            Some(vec![deployment_record_key("m0")])
        );
        // Rewritten on a redelivery: nothing gives way.
        assert_eq!(
            records_to_remove(&records(10), &deployment_record_key("m4")),
            Some(vec![])
        );
        // Within ECS's 50 tags: a producer's 44 and the worker's 4 leave room for two records.
        let mut tagged: Vec<(String, String)> = (0..48)
            .map(|i| (format!("team-{i}"), "x".to_owned()))
            .collect();
        tagged.extend(records(3));
        let removed = records_to_remove(&tagged, &key).expect("room");
        assert_eq!(
            removed,
            [deployment_record_key("m0"), deployment_record_key("m1")]
        );
        assert_eq!(tagged.len() - removed.len() + 1, MAX_TAGS);
        // No room at all: nothing is written.
        let full: Vec<(String, String)> = (0..50)
            .map(|i| (format!("team-{i}"), "x".to_owned()))
            .collect();
        assert_eq!(records_to_remove(&full, &key), None);
        // A key holds only what a tag key may.
        assert_eq!(deployment_record_key("a b\nc"), "ecs-deployment:record:abc");
    }
}
