//! How the end of a rollout's watch becomes the deployment's outcome: deployed, superseded, or failed and
//! then rolled back (by the worker, or by ECS itself) or not.

use std::time::Duration;

use crate::decide::evidence::Evidence;
use crate::decide::outcome::{Outcome, Rollback};
use crate::decide::rollout::Failure;

/// How a watch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEnd {
    /// ECS says the deployment is done and the running tasks run the goal.
    Done,
    /// It will not get there.
    Failed(Failure),
    /// `ECS_TIMEOUT` passed first; how far it got.
    TimedOut(String),
    /// The message's hold ended first (SQS cannot keep it hidden much longer); how far it got.
    Released(String),
}

/// What follows the end of a rollout's watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The deployment has its outcome.
    Finish(Outcome),
    /// The rollout failed or timed out: the worker rolls the service back to what it ran before, then the
    /// deployment ends as [`Failed::with`] that rollback says.
    RollBack(Failed),
    /// ECS rolls the service back by itself: its rollback deployment is watched, then the deployment ends as
    /// [`Failed::with`] that rollback says.
    WatchEcsRollback {
        /// The failure, waiting for its rollback.
        failed: Failed,
        /// The deployment that takes the service back, when a read listed it.
        deployment_id: Option<String>,
        /// The task definition ECS goes back to.
        task_definition: String,
    },
}

/// A rollout that failed or timed out, before what became of its rollback is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// What went wrong, quoting ECS.
    pub reason: String,
    /// Whether `ECS_TIMEOUT` passed, rather than the rollout failing.
    pub timed_out: bool,
    /// Whether ECS rolls back by itself, so a completed rollback is ECS's.
    by_ecs: bool,
}

impl Failed {
    /// The deployment's outcome, once its rollback ended as `rollback`.
    pub fn with(self, rollback: Rollback) -> Outcome {
        let rollback = match rollback {
            Rollback::Completed if self.by_ecs => Rollback::CompletedByEcs,
            other => other,
        };
        if self.timed_out {
            Outcome::TimedOut {
                reason: self.reason,
                rollback,
            }
        } else {
            Outcome::Failed {
                reason: self.reason,
                rollback,
            }
        }
    }
}

/// Decides what follows a rollout's watch that ended as `end`; failure reasons quote `evidence`, and a
/// timeout names `timeout` (`ECS_TIMEOUT`).
///
/// A superseded rollout is not rolled back: that would undo someone else's deployment. A service that is
/// gone has nothing to roll back. A rollback ECS started is watched, not started again. A rollout still
/// going when the message's hold ends is given back to SQS, for the next delivery to watch.
pub fn after_watch(end: WatchEnd, evidence: &Evidence, timeout: Duration) -> Next {
    let failed = |reason: String, timed_out: bool, by_ecs: bool| Failed {
        reason: evidence.quote(&reason),
        timed_out,
        by_ecs,
    };
    match end {
        WatchEnd::Done => Next::Finish(Outcome::Deployed),
        WatchEnd::Failed(failure @ Failure::Superseded { .. }) => {
            Next::Finish(Outcome::Superseded {
                reason: failure.reason(),
            })
        }
        WatchEnd::Failed(failure @ Failure::ServiceGone(_)) => Next::Finish(Outcome::Failed {
            reason: evidence.quote(&failure.reason()),
            rollback: Rollback::NotPossible("there is no active service to roll back".into()),
        }),
        WatchEnd::Failed(Failure::RolledBackByEcs {
            reason,
            deployment_id,
            task_definition,
        }) => Next::WatchEcsRollback {
            failed: failed(
                format!("ECS rolled the service back: {reason}"),
                false,
                true,
            ),
            deployment_id,
            task_definition,
        },
        WatchEnd::Failed(Failure::EcsRollbackFailed(reason)) => Next::Finish(Outcome::Failed {
            reason: evidence.quote(&format!("ECS rolled the service back: {reason}")),
            rollback: Rollback::Failed(format!(
                "ECS's own rollback failed ({reason}); the service's state is unknown and needs a look"
            )),
        }),
        WatchEnd::Failed(failure @ Failure::DeploymentFailed(_)) => {
            Next::RollBack(failed(failure.reason(), false, false))
        }
        WatchEnd::Released(progress) => Next::Finish(Outcome::RetryLater {
            reason: released(&progress),
        }),
        WatchEnd::TimedOut(progress) => Next::RollBack(failed(
            format!(
                "the rollout did not complete within ECS_TIMEOUT ({}); last seen: {progress}",
                humantime::format_duration(timeout)
            ),
            true,
            false,
        )),
    }
}

/// The worker's rollback target: the task definition the service ran before, unless rolling back is off
/// (`ROLLBACK_ON_FAILURE=false`) or there is none, in which case the rollback that says so.
pub fn rollback_target(enabled: bool, previous: Option<&str>) -> Result<&str, Rollback> {
    if !enabled {
        return Err(Rollback::Disabled);
    }
    previous.ok_or_else(|| {
        Rollback::NotPossible("the service ran no other task definition before".into())
    })
}

/// What became of a rollback whose watch ended as `end`.
pub fn rollback_after(end: WatchEnd, timeout: Duration) -> Rollback {
    match end {
        WatchEnd::Done => Rollback::Completed,
        WatchEnd::Failed(failure) => Rollback::Failed(failure.reason()),
        WatchEnd::TimedOut(progress) => Rollback::Failed(format!(
            "did not complete within ECS_TIMEOUT ({}); last seen: {progress}",
            humantime::format_duration(timeout)
        )),
        WatchEnd::Released(progress) => Rollback::Failed(format!(
            "still going when the message's hold ended (SQS_MAX_HOLD); last seen: {progress}"
        )),
    }
}

/// Why a rollout still going is given back: SQS holds a received message at most 12 hours.
fn released(progress: &str) -> String {
    format!(
        "released: the rollout is still going and SQS cannot hold the message much longer \
         (SQS_MAX_HOLD); the next delivery goes on watching it, and nothing was rolled back; last seen: {progress}"
    )
}

/// What the report quotes of ECS's words: nothing for a deployment that succeeded, the evidence otherwise.
pub fn ecs_said(outcome: &Outcome, evidence: &Evidence) -> Vec<String> {
    if outcome.succeeded() {
        Vec::new()
    } else {
        evidence.said()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:1";
    const OTHER: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:3";

    fn evidence() -> Evidence {
        let mut evidence = Evidence::default();
        evidence.event("(service web) deployment failed: tasks failed to start.");
        evidence.stopped("Essential container in task exited; app: exit 1");
        evidence
    }

    fn failed(reason: &str, timed_out: bool, by_ecs: bool) -> Failed {
        Failed {
            reason: evidence().quote(reason),
            timed_out,
            by_ecs,
        }
    }

    #[test]
    fn each_end_of_a_watch_leads_to_its_outcome_or_rollback() {
        let timeout = Duration::from_secs(300);
        let cases: Vec<(&str, WatchEnd, Next)> = vec![
            ("done", WatchEnd::Done, Next::Finish(Outcome::Deployed)),
            (
                "superseded: not rolled back, ECS not quoted",
                WatchEnd::Failed(Failure::Superseded {
                    by_deployment: Some("ecs-svc/2".into()),
                    by_task_definition: OTHER.into(),
                }),
                Next::Finish(Outcome::Superseded {
                    reason: "superseded: deployment ecs-svc/2 of web:3 took the service over while this rollout ran; it is not this worker's to judge or roll back"
                        .into(),
                }),
            ),
            (
                "the service is gone: nothing to roll back",
                WatchEnd::Failed(Failure::ServiceGone("the service is DRAINING".into())),
                Next::Finish(Outcome::Failed {
                    reason: evidence().quote("the service is DRAINING"),
                    rollback: Rollback::NotPossible(
                        "there is no active service to roll back".into(),
                    ),
                }),
            ),
            (
                "ECS marked the deployment FAILED: the worker rolls back",
                WatchEnd::Failed(Failure::DeploymentFailed("tasks failed to start".into())),
                Next::RollBack(failed("tasks failed to start", false, false)),
            ),
            (
                "the circuit breaker rolled back: its rollback is watched",
                WatchEnd::Failed(Failure::RolledBackByEcs {
                    reason: "circuit breaker".into(),
                    deployment_id: Some("ecs-svc/rollback".into()),
                    task_definition: OLD.into(),
                }),
                Next::WatchEcsRollback {
                    failed: failed("ECS rolled the service back: circuit breaker", false, true),
                    deployment_id: Some("ecs-svc/rollback".into()),
                    task_definition: OLD.into(),
                },
            ),
            (
                "released: given back, nothing rolled back",
                WatchEnd::Released("2 of 3 running".into()),
                Next::Finish(Outcome::RetryLater {
                    reason: released("2 of 3 running"),
                }),
            ),
            (
                "timed out: the worker rolls back",
                WatchEnd::TimedOut("1 of 2 running".into()),
                Next::RollBack(failed(
                    "the rollout did not complete within ECS_TIMEOUT (5m); last seen: 1 of 2 running",
                    true,
                    false,
                )),
            ),
        ];
        for (name, end, expected) in cases {
            assert_eq!(after_watch(end, &evidence(), timeout), expected, "{name}");
        }
    }

    #[test]
    fn a_rollback_completes_the_outcome() {
        let cases = [
            (
                failed("FAILED", false, false),
                Rollback::Completed,
                Outcome::Failed {
                    reason: evidence().quote("FAILED"),
                    rollback: Rollback::Completed,
                },
            ),
            (
                failed("circuit breaker", false, true),
                Rollback::Completed,
                Outcome::Failed {
                    reason: evidence().quote("circuit breaker"),
                    rollback: Rollback::CompletedByEcs,
                },
            ),
            (
                failed("circuit breaker", false, true),
                Rollback::Failed("stuck".into()),
                Outcome::Failed {
                    reason: evidence().quote("circuit breaker"),
                    rollback: Rollback::Failed("stuck".into()),
                },
            ),
            (
                failed("slow", true, false),
                Rollback::Disabled,
                Outcome::TimedOut {
                    reason: evidence().quote("slow"),
                    rollback: Rollback::Disabled,
                },
            ),
        ];
        for (failed, rollback, expected) in cases {
            assert_eq!(failed.with(rollback), expected);
        }
    }

    #[test]
    fn rollbacks_say_why_they_did_not_happen_or_complete() {
        let timeout = Duration::from_secs(60);
        assert_eq!(rollback_target(false, Some(OLD)), Err(Rollback::Disabled));
        assert!(matches!(
            rollback_target(true, None),
            Err(Rollback::NotPossible(_))
        ));
        assert_eq!(rollback_target(true, Some(OLD)), Ok(OLD));
        assert_eq!(rollback_after(WatchEnd::Done, timeout), Rollback::Completed);
        assert_eq!(
            rollback_after(WatchEnd::TimedOut("0 of 2 running".into()), timeout),
            Rollback::Failed(
                "did not complete within ECS_TIMEOUT (1m); last seen: 0 of 2 running".into()
            )
        );
        assert_eq!(
            rollback_after(
                WatchEnd::Failed(Failure::ServiceGone("the service no longer exists".into())),
                timeout
            ),
            Rollback::Failed("the service no longer exists".into())
        );
        assert!(ecs_said(&Outcome::Deployed, &evidence()).is_empty());
        assert_eq!(
            ecs_said(
                &Outcome::Superseded {
                    reason: String::new()
                },
                &evidence()
            )
            .len(),
            2
        );
    }
}
