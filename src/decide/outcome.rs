//! How a deployment ended, what that means for its message (one pure function with a table test), and the
//! report of both that logs and notifications are made from.
//!
//! The policy: a message is deleted only once its outcome is known. Success, a failed rollout (rolled back
//! and reported) and a superseded one are all known outcomes. A message that can never succeed is rejected:
//! moved to the queue's dead-letter queue with the reason attached, or, with no dead-letter queue, deleted
//! after being logged whole. Trouble before anything changed leaves the message for SQS to redeliver.

use std::time::{Duration, SystemTime};

/// How one deployment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service runs the new task definition.
    Deployed,
    /// The task definition was registered; the message asked for no service update (`service` = `false`).
    Registered,
    /// A one-off task (`run`) ran to its end, every essential container exiting 0.
    Ran,
    /// The message can never succeed as it is: bad body or attributes, or ECS refused its task definition,
    /// service or cluster.
    Rejected {
        /// What is wrong, naming the member or attribute.
        reason: String,
    },
    /// The rollout failed (ECS marked it FAILED, rolled it back, or the service went away).
    Failed {
        /// What went wrong, quoting ECS.
        reason: String,
        /// What happened about rolling back.
        rollback: Rollback,
    },
    /// The rollout did not finish within `ECS_TIMEOUT`.
    TimedOut {
        /// How far it got, quoting ECS.
        reason: String,
        /// What happened about rolling back.
        rollback: Rollback,
    },
    /// Another update of the service replaced this one while it rolled out; nothing was rolled back.
    Superseded {
        /// Which task definition took over.
        reason: String,
    },
    /// SQS or ECS could not be reached or throttled before anything changed; try the message again later.
    RetryLater {
        /// The error.
        reason: String,
    },
}

/// What happened about rolling a failed rollout back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollback {
    /// The worker rolled the service back and the rollback completed.
    Completed,
    /// ECS rolled back by itself (deployment circuit breaker) and the rollback completed.
    CompletedByEcs,
    /// A rollback was started (by the worker or ECS) and did not complete.
    Failed(String),
    /// `ROLLBACK_ON_FAILURE` is off.
    Disabled,
    /// There is nothing to roll back to, or no service to roll back.
    NotPossible(String),
}

impl Rollback {
    /// The rollback as logs show it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Completed => "rolled_back",
            Self::CompletedByEcs => "rolled_back_by_ecs",
            Self::Failed(_) => "rollback_failed",
            Self::Disabled => "disabled",
            Self::NotPossible(_) => "not_possible",
        }
    }
}

impl Outcome {
    /// The outcome as logs and reports show it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Deployed => "deployed",
            Self::Registered => "registered",
            Self::Ran => "ran",
            Self::Rejected { .. } => "rejected",
            Self::Failed { .. } => "failed",
            Self::TimedOut { .. } => "timed_out",
            Self::Superseded { .. } => "superseded",
            Self::RetryLater { .. } => "retry_later",
        }
    }

    /// Why, in words; empty for success.
    pub fn reason(&self) -> String {
        match self {
            Self::Deployed | Self::Registered | Self::Ran => String::new(),
            Self::Rejected { reason }
            | Self::Superseded { reason }
            | Self::RetryLater { reason } => reason.clone(),
            Self::Failed { reason, rollback } | Self::TimedOut { reason, rollback } => {
                match rollback {
                    Rollback::Completed => {
                        format!("{reason}; rolled back to the previous task definition")
                    }
                    Rollback::CompletedByEcs => format!("{reason}; the rollback completed"),
                    Rollback::Failed(why) => format!("{reason}; the rollback failed too: {why}"),
                    Rollback::Disabled => {
                        format!("{reason}; not rolled back (ROLLBACK_ON_FAILURE=false)")
                    }
                    Rollback::NotPossible(why) => format!("{reason}; not rolled back: {why}"),
                }
            }
        }
    }

    /// Whether the message did what it asked: the service runs its task definition, it was registered,
    /// or its one-off task succeeded.
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Deployed | Self::Registered | Self::Ran)
    }

    /// The rollback, where there was a failure.
    pub fn rollback(&self) -> Option<&Rollback> {
        match self {
            Self::Failed { rollback, .. } | Self::TimedOut { rollback, .. } => Some(rollback),
            _ => None,
        }
    }
}

/// What happens to a message once its deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Delete it: the outcome is known and reported.
    Delete,
    /// Send it to the queue's dead-letter queue with the reason attached, then delete it.
    DeadLetter,
    /// No dead-letter queue: log it whole at error level with the reason, then delete it.
    LogAndDelete,
    /// Leave it: SQS makes it visible again after its visibility timeout, and it is tried again.
    LeaveForRedelivery,
}

/// Decides what happens to a message after `outcome`; `has_dead_letter_queue` says whether the queue has a
/// redrive policy.
pub fn disposition(outcome: &Outcome, has_dead_letter_queue: bool) -> Disposition {
    match outcome {
        Outcome::Deployed
        | Outcome::Registered
        | Outcome::Ran
        | Outcome::Failed { .. }
        | Outcome::TimedOut { .. }
        | Outcome::Superseded { .. } => Disposition::Delete,
        Outcome::Rejected { .. } if has_dead_letter_queue => Disposition::DeadLetter,
        Outcome::Rejected { .. } => Disposition::LogAndDelete,
        Outcome::RetryLater { .. } => Disposition::LeaveForRedelivery,
    }
}

/// What became of one message: the content of its final log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The SQS message id.
    pub message_id: String,
    /// The `service` attribute as sent (`false` for register-only; empty when missing).
    pub service: String,
    /// The cluster (`ECS_CLUSTER`).
    pub cluster: String,
    /// The task definition the service ran before.
    pub previous_task_definition: Option<String>,
    /// The task definition registered from the message.
    pub new_task_definition: Option<String>,
    /// The `commit_url` attribute.
    pub commit_url: Option<String>,
    /// How the deployment ended.
    pub outcome: Outcome,
    /// On failure, ECS's own words: notable service events and stopped tasks' reasons, newest last.
    pub ecs_said: Vec<String>,
    /// On a failed task's account, the last lines its essential containers logged, oldest first.
    pub logs: Vec<String>,
    /// What was done with the message.
    pub disposition: Disposition,
    /// Whether that was done; `false` means SQS will deliver the message again.
    pub settled: bool,
    /// When this worker received the message.
    pub received_at: SystemTime,
    /// From receipt to settlement.
    pub duration: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_happens_to_each_message() {
        let rejected = Outcome::Rejected {
            reason: "message attribute 'service' is missing".into(),
        };
        let failed = Outcome::Failed {
            reason: "circuit breaker".into(),
            rollback: Rollback::CompletedByEcs,
        };
        let timed_out = Outcome::TimedOut {
            reason: "1/3 running".into(),
            rollback: Rollback::Completed,
        };
        let superseded = Outcome::Superseded {
            reason: "web:9".into(),
        };
        let retry = Outcome::RetryLater {
            reason: "ThrottlingException".into(),
        };
        let table = [
            (&Outcome::Deployed, false, Disposition::Delete),
            (&Outcome::Deployed, true, Disposition::Delete),
            (&Outcome::Registered, true, Disposition::Delete),
            (&Outcome::Ran, true, Disposition::Delete),
            (&rejected, true, Disposition::DeadLetter),
            (&rejected, false, Disposition::LogAndDelete),
            (&failed, true, Disposition::Delete),
            (&failed, false, Disposition::Delete),
            (&timed_out, true, Disposition::Delete),
            (&superseded, true, Disposition::Delete),
            (&retry, true, Disposition::LeaveForRedelivery),
            (&retry, false, Disposition::LeaveForRedelivery),
        ];
        for (outcome, dlq, expected) in table {
            assert_eq!(
                disposition(outcome, dlq),
                expected,
                "{outcome:?} with dlq={dlq}"
            );
        }
    }

    #[test]
    fn reasons_say_what_happened_about_the_rollback() {
        let cases = [
            (Rollback::Completed, "rolled back to the previous"),
            (Rollback::CompletedByEcs, "the rollback completed"),
            (
                Rollback::Failed("timed out".into()),
                "the rollback failed too: timed out",
            ),
            (Rollback::Disabled, "ROLLBACK_ON_FAILURE=false"),
            (
                Rollback::NotPossible("the service is gone".into()),
                "not rolled back: the service is gone",
            ),
        ];
        for (rollback, said) in cases {
            let outcome = Outcome::Failed {
                reason: "FAILED".into(),
                rollback,
            };
            assert!(outcome.reason().contains(said), "{}", outcome.reason());
        }
        assert_eq!(Outcome::Deployed.reason(), "");
        assert_eq!(
            Outcome::TimedOut {
                reason: String::new(),
                rollback: Rollback::Disabled
            }
            .label(),
            "timed_out"
        );
    }
}
