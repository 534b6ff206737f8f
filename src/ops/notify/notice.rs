//! One notification, as JSON: the body of SNS messages and replies, which `send --wait` reads back; and the
//! headline people read in Slack and SNS subjects.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::decide::names::short_arn;
use crate::decide::outcome::Report;

/// The message attribute a reply's original message id travels in.
pub const ORIGINAL_MESSAGE_ID_ATTRIBUTE: &str = "original_message_id";
/// The message attribute that says which event a reply or SNS message is.
pub const EVENT_ATTRIBUTE: &str = "event";

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The service was pointed at the new task definition; the rollout is being watched.
    Started,
    /// ECS waits at a lifecycle hook for someone to continue the deployment or roll it back.
    Waiting,
    /// The deployment has its outcome and its message was settled.
    Finished,
    /// ECS or SQS failed before anything changed; the message is left for a later try.
    Retrying,
}

impl Event {
    /// As the JSON and message attributes spell it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Waiting => "waiting",
            Self::Finished => "finished",
            Self::Retrying => "retrying",
        }
    }
}

/// How a notification reads at a glance, which each sink shows in its own colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Under way.
    Info,
    /// Succeeded.
    Good,
    /// Needs someone's attention, without having failed: waiting at a hook, retrying, superseded.
    Warning,
    /// Failed or rejected.
    Bad,
}

/// One notification: the JSON body of SNS messages and replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// What happened.
    pub event: Event,
    /// The SQS message id of the deployment request: replies are correlated by it.
    pub message_id: String,
    /// The `service` attribute (`false` for register-only).
    pub service: String,
    /// The cluster (`ECS_CLUSTER`).
    pub cluster: String,
    /// The task definition the service ran before.
    pub previous_task_definition: Option<String>,
    /// The task definition registered from the message.
    pub new_task_definition: Option<String>,
    /// The `commit_url` attribute.
    pub commit_url: Option<String>,
    /// How the deployment ended (`finished` and `retrying` only).
    pub outcome: Option<String>,
    /// Whether the service now runs the task definition (or it was registered, for register-only).
    pub success: Option<bool>,
    /// What happened about rolling back a failed rollout.
    pub rollback: Option<String>,
    /// Why it failed or was not deployed; empty for success.
    pub reason: Option<String>,
    /// ECS's own words on a failure: notable service events and stopped tasks' reasons, newest last.
    #[serde(default)]
    pub ecs_said: Vec<String>,
    /// A failed task's last log lines, `[container] line`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
    /// From receipt to settlement (`finished` and `retrying` only).
    pub duration_ms: Option<u64>,
    /// When the worker received the message (RFC 3339).
    pub received_at: String,
    /// When this notification was made (RFC 3339).
    pub at: String,
    /// The queue the producer asked the outcome to be sent to; not part of the JSON.
    #[serde(skip)]
    pub reply_to: Option<String>,
}

impl Notice {
    /// The service was pointed at the new revision.
    pub fn started(
        report: &Report,
        previous: Option<&str>,
        new: Option<&str>,
        reply_to: Option<&str>,
    ) -> Self {
        Self {
            event: Event::Started,
            message_id: report.message_id.clone(),
            service: report.service.clone(),
            cluster: report.cluster.clone(),
            previous_task_definition: previous.map(str::to_owned),
            new_task_definition: new.map(str::to_owned),
            commit_url: report.commit_url.clone(),
            outcome: None,
            success: None,
            rollback: None,
            reason: None,
            ecs_said: Vec::new(),
            logs: Vec::new(),
            duration_ms: None,
            received_at: rfc3339(report.received_at),
            at: rfc3339(SystemTime::now()),
            reply_to: reply_to.map(str::to_owned),
        }
    }

    /// ECS waits at a lifecycle hook of the rollout; `why` names it and how to go on.
    pub fn waiting(
        report: &Report,
        previous: Option<&str>,
        new: Option<&str>,
        why: &str,
        reply_to: Option<&str>,
    ) -> Self {
        Self {
            event: Event::Waiting,
            reason: Some(why.to_owned()),
            ..Self::started(report, previous, new, reply_to)
        }
    }

    /// A deployment ended (or, for `retry_later`, will be tried again).
    pub fn finished(report: &Report, reply_to: Option<&str>) -> Self {
        let reason = report.outcome.reason();
        Self {
            event: if report.outcome.label() == "retry_later" {
                Event::Retrying
            } else {
                Event::Finished
            },
            outcome: Some(report.outcome.label().to_owned()),
            success: Some(report.outcome.succeeded()),
            rollback: report.outcome.rollback().map(|r| r.label().to_owned()),
            reason: (!reason.is_empty()).then_some(reason),
            ecs_said: report.ecs_said.clone(),
            logs: report.logs.clone(),
            duration_ms: Some(u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX)),
            ..Self::started(
                report,
                report.previous_task_definition.as_deref(),
                report.new_task_definition.as_deref(),
                reply_to,
            )
        }
    }

    /// The notice as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A deduplication id for FIFO queues and topics: the same notice is sent once.
    pub fn deduplication_id(&self) -> String {
        format!("{:x}", Sha256::digest(self.to_json().as_bytes()))
    }

    /// How it reads at a glance.
    pub fn tone(&self) -> Tone {
        match (self.event, self.success) {
            (Event::Started, _) => Tone::Info,
            (Event::Waiting | Event::Retrying, _) => Tone::Warning,
            (Event::Finished, Some(true)) => Tone::Good,
            (Event::Finished, _) if self.outcome.as_deref() == Some("superseded") => Tone::Warning,
            (Event::Finished, _) => Tone::Bad,
        }
    }

    /// The details people read, as (title, value, short enough to sit beside another).
    pub fn facts(&self) -> Vec<(&'static str, String, bool)> {
        let mut facts = vec![
            ("Service", self.service.clone(), true),
            ("Cluster", self.cluster.clone(), true),
        ];
        if let Some(previous) = &self.previous_task_definition {
            facts.push(("From", short_arn(previous).to_owned(), true));
        }
        if let Some(new) = &self.new_task_definition {
            facts.push(("To", short_arn(new).to_owned(), true));
        }
        if let Some(outcome) = &self.outcome {
            facts.push(("Outcome", outcome.clone(), true));
        }
        if let Some(ms) = self.duration_ms {
            let took = humantime::format_duration(std::time::Duration::from_secs(ms / 1000));
            facts.push(("Duration", took.to_string(), true));
        }
        if let Some(rollback) = &self.rollback {
            facts.push(("Rollback", rollback.clone(), true));
        }
        if let Some(reason) = &self.reason {
            facts.push(("Reason", reason.clone(), false));
        }
        if !self.ecs_said.is_empty() {
            facts.push(("ECS said", self.ecs_said.join("\n"), false));
        }
        if !self.logs.is_empty() {
            facts.push(("Last log lines", self.logs.join("\n"), false));
        }
        if let Some(url) = &self.commit_url {
            facts.push(("Commit", url.clone(), false));
        }
        facts
    }

    /// One line for people: what happened to which service.
    pub fn headline(&self) -> String {
        let to = self.new_task_definition.as_deref().map(short_arn);
        let from = self.previous_task_definition.as_deref().map(short_arn);
        let change = match (from, to) {
            (Some(from), Some(to)) if from != to => format!(": {from} → {to}"),
            (_, Some(to)) => format!(": {to}"),
            _ => String::new(),
        };
        let target = if self.service == "false" {
            format!("a task definition in {}", self.cluster)
        } else {
            format!("{} in {}", self.service, self.cluster)
        };
        match (self.event, self.outcome.as_deref()) {
            (Event::Started, _) => format!("Deploying {target}{change}"),
            (Event::Waiting, _) => format!("Deployment of {target} waits for approval{change}"),
            (Event::Retrying, _) => format!("Deployment of {target} will be retried{change}"),
            (Event::Finished, Some("deployed")) => format!("Deployed {target}{change}"),
            (Event::Finished, Some("registered")) => format!("Registered {}", to.unwrap_or("")),
            (Event::Finished, Some(outcome)) => {
                format!(
                    "Deployment of {target} {}{change}",
                    outcome.replace('_', " ")
                )
            }
            (Event::Finished, None) => format!("Deployment of {target} finished{change}"),
        }
    }
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::decide::outcome::{Outcome, Rollback};
    use crate::ops::notify::fixtures::report;

    #[test]
    fn each_event_reads_as_one_headline() {
        let failed = Outcome::Failed {
            reason: "tasks crashed".into(),
            rollback: Rollback::CompletedByEcs,
        };
        let cases = [
            (
                Notice::started(
                    &report(Outcome::Deployed),
                    Some("arn:aws:ecs:us-east-1:1:task-definition/web:4"),
                    Some("arn:aws:ecs:us-east-1:1:task-definition/web:5"),
                    None,
                ),
                "Deploying web in prod: web:4 → web:5",
            ),
            (
                Notice::waiting(
                    &report(Outcome::Deployed),
                    Some("arn:aws:ecs:us-east-1:1:task-definition/web:4"),
                    Some("arn:aws:ecs:us-east-1:1:task-definition/web:5"),
                    "ECS waits at POST_TEST_TRAFFIC_SHIFT for lifecycle hook approve",
                    None,
                ),
                "Deployment of web in prod waits for approval: web:4 → web:5",
            ),
            (
                Notice::finished(&report(Outcome::Deployed), None),
                "Deployed web in prod: web:4 → web:5",
            ),
            (
                Notice::finished(&report(failed), None),
                "Deployment of web in prod failed: web:4 → web:5",
            ),
            (
                Notice::finished(
                    &report(Outcome::RetryLater {
                        reason: "ECS down".into(),
                    }),
                    None,
                ),
                "Deployment of web in prod will be retried: web:4 → web:5",
            ),
        ];
        for (notice, headline) in cases {
            assert_eq!(notice.headline(), headline);
        }
    }

    #[test]
    fn a_finished_notice_carries_what_a_machine_needs() {
        let notice = Notice::finished(
            &report(Outcome::TimedOut {
                reason: "2 of 3 running".into(),
                rollback: Rollback::Completed,
            }),
            Some("https://sqs/1/replies"),
        );
        let json: Value = serde_json::from_str(&notice.to_json()).expect("JSON");
        assert_eq!(json["event"], "finished");
        assert_eq!(json["message_id"], "m-1");
        assert_eq!(json["outcome"], "timed_out");
        assert_eq!(json["success"], false);
        assert_eq!(json["rollback"], "rolled_back");
        assert_eq!(json["duration_ms"], 75_000);
        assert_eq!(json["received_at"], "1970-01-01T00:00:00.000Z");
        assert!(
            json["reason"]
                .as_str()
                .is_some_and(|r| r.contains("2 of 3"))
        );
        assert_eq!(
            json["ecs_said"][0],
            "service web deployment failed: tasks failed to start"
        );
        assert!(
            json.get("reply_to").is_none(),
            "the reply queue is not echoed"
        );
        let back: Notice = serde_json::from_value(json).expect("reads back");
        assert_eq!(back.outcome.as_deref(), Some("timed_out"));
    }
}
