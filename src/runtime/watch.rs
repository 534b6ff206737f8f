//! Watching one service's rollout to its end and rolling a failed one back by the same rules: a reading at
//! every tick of the shared poller, the tasks once ECS says the deployment is done, and ECS's events and
//! stopped tasks logged as they come and kept as evidence.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::ecs::{Ecs, ServiceEvent, service_events, service_state};
use crate::aws::error::AwsError;
use crate::aws::poller::ServicePoller;
use crate::decide::ending::{
    Next, WatchEnd, after_watch, ecs_said, rollback_after, rollback_target,
};
use crate::decide::evidence::Evidence;
use crate::decide::history::History;
use crate::decide::names::short_arn;
use crate::decide::outcome::{Outcome, Rollback};
use crate::decide::rollout::{Goal, Observation, Verdict, judge, needs_tasks, remember};
use crate::runtime::retry::{error_backoff, retrying};

/// How long reading the stopped tasks may take past a deadline that just passed: enough to quote ECS.
const EVIDENCE_GRACE: Duration = Duration::from_secs(5);

/// How deployments are watched and rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a rollout, and separately its rollback, may take; also how long ECS may stay unreachable
    /// before a deployment gives its message back for a later try.
    pub timeout: Duration,
    /// How often a rollout is read.
    pub poll_interval: Duration,
    /// Whether a failed or timed-out rollout is rolled back.
    pub rollback_on_failure: bool,
}

/// Watching one service's rollouts: remembers which events and stopped tasks were already reported.
pub struct Watch<'a> {
    /// ECS in the deployment's cluster, for the service's tasks.
    ecs: &'a Ecs,
    /// The service readings every watched rollout shares.
    poller: &'a ServicePoller,
    /// Timeouts, poll interval and rollback policy.
    settings: Settings,
    /// The service being watched.
    service: &'a str,
    /// Service events already reported (the ones before the deployment included).
    seen_events: BTreeSet<String>,
    /// Stopped tasks already reported.
    seen_stopped: BTreeSet<String>,
    /// ECS's words worth quoting in a failure.
    pub evidence: Evidence,
}

impl<'a> Watch<'a> {
    /// A watch of `service`, whose events in `seen_events` were there before the deployment.
    pub fn new(
        ecs: &'a Ecs,
        poller: &'a ServicePoller,
        service: &'a str,
        seen_events: BTreeSet<String>,
        settings: Settings,
    ) -> Self {
        Self {
            ecs,
            poller,
            settings,
            service,
            seen_events,
            seen_stopped: BTreeSet::new(),
            evidence: Evidence::default(),
        }
    }

    /// Watches the rollout to `goal` to its end, knowing what `history` says of it, and rolls back a failed
    /// one; gives the outcome and, on failure, what ECS said.
    pub async fn to_outcome(mut self, goal: Goal, mut history: History) -> (Outcome, Vec<String>) {
        let arn = goal.task_definition.clone();
        let end = self.run(&goal, &mut history).await;
        // Whatever the rollback starts is newer than every deployment seen so far.
        let mut before_rollback = history.older;
        before_rollback.extend(history.seen.map(|(id, _)| id));
        let outcome = match after_watch(end, &self.evidence, self.settings.timeout) {
            Next::Finish(outcome) => {
                if outcome == Outcome::Deployed {
                    info!(task_definition = %arn, "the rollout completed");
                }
                outcome
            }
            Next::WatchEcsRollback {
                failed,
                deployment_id,
                task_definition,
            } => {
                warn!(reason = %failed.reason, "the rollout failed; watching ECS's rollback");
                let rollback_goal = goal.rollback(Some(deployment_id.clone()), task_definition);
                // ECS's rollback was listed already: the read that showed the failure listed it.
                let mut rollback_history = History::after(before_rollback);
                rollback_history.seen = Some((deployment_id, None));
                let rollback = self.run_rollback(&rollback_goal, rollback_history).await;
                failed.with(rollback)
            }
            Next::RollBack(failed) => {
                if failed.timed_out {
                    warn!(reason = %failed.reason, "the rollout timed out");
                } else {
                    warn!(reason = %failed.reason, "the rollout failed");
                }
                let rollback = self.roll_back(&goal, before_rollback).await;
                failed.with(rollback)
            }
        };
        let said = ecs_said(&outcome, &self.evidence);
        (outcome, said)
    }

    /// Points the service back at the revision before `failed`'s and watches that rollout by the same
    /// rules; `older` are the deployments seen before it.
    async fn roll_back(&mut self, failed: &Goal, older: BTreeSet<String>) -> Rollback {
        let previous = match rollback_target(
            self.settings.rollback_on_failure,
            failed.previous_task_definition.as_deref(),
        ) {
            Ok(previous) => previous,
            Err(rollback) => return rollback,
        };
        info!(to = short_arn(previous), "rolling the service back");
        let deadline = Instant::now() + self.settings.timeout;
        let (ecs, service) = (self.ecs, self.service);
        let after = match retrying(self.settings.poll_interval, deadline, || {
            ecs.update_service(service, previous)
        })
        .await
        {
            Ok(after) => after,
            Err(outcome) => return Rollback::Failed(outcome.reason()),
        };
        let history = match &after {
            Some(after) => History::of_update(after, previous, older),
            None => History::after(older),
        };
        let goal = failed.rollback(
            history.seen.as_ref().map(|(id, _)| id.clone()),
            previous.to_owned(),
        );
        self.run_rollback(&goal, history).await
    }

    /// Watches a rollback to its end and says what became of it.
    async fn run_rollback(&mut self, goal: &Goal, mut history: History) -> Rollback {
        let end = self.run(goal, &mut history).await;
        if end == WatchEnd::Done {
            info!(
                task_definition = short_arn(&goal.task_definition),
                "the rollback completed"
            );
        }
        rollback_after(end, self.settings.timeout)
    }

    /// Reads the rollout at every tick of the shared poller until it is done, failed, or the timeout
    /// passed; `history` keeps what the reads showed, so a read behind an earlier one is no news.
    async fn run(&mut self, goal: &Goal, history: &mut History) -> WatchEnd {
        let settings = self.settings;
        let deadline = Instant::now() + settings.timeout;
        let mut last_progress = String::from("no answer from ECS yet");
        let mut last_error: Option<String> = None;
        let mut failed_tasks = 0;
        // The deployment whose stopped tasks say why: the one UpdateService started, or as ECS lists it.
        let mut deployment_id = goal.deployment_id.clone();
        let mut backoff = error_backoff(settings.poll_interval);
        loop {
            let observed = tokio::time::timeout_at(deadline, self.observe(goal, history)).await;
            let pause = match observed {
                Err(_elapsed) => None,
                Ok(Ok(observation)) => {
                    if let Some(error) = last_error.take() {
                        info!(%error, "ECS answers again");
                    }
                    backoff = error_backoff(settings.poll_interval);
                    remember(history, &observation, goal);
                    let verdict = judge(&observation, goal, history);
                    let ours = observation
                        .service
                        .iter()
                        .flat_map(|s| &s.deployments)
                        .find(|d| d.task_definition == goal.task_definition);
                    let ours_failed = ours.map_or(0, |d| d.failed_tasks);
                    if let Some(ours) = ours {
                        deployment_id = Some(ours.id.clone());
                    }
                    if ours_failed > failed_tasks || matches!(verdict, Verdict::Failed(_)) {
                        failed_tasks = ours_failed;
                        self.report_stopped_tasks(deployment_id.as_deref(), goal, deadline)
                            .await;
                    }
                    match verdict {
                        Verdict::Done => return WatchEnd::Done,
                        Verdict::Failed(failure) => return WatchEnd::Failed(failure),
                        Verdict::InProgress(progress) => {
                            if progress != last_progress {
                                info!(%progress, "rollout in progress");
                                last_progress = progress;
                            }
                        }
                    }
                    None
                }
                Ok(Err(e)) => {
                    let error = e.to_string();
                    if last_error.as_deref() != Some(error.as_str()) {
                        warn!(%error, "cannot read the rollout; retrying with backoff");
                        last_error = Some(error);
                    }
                    backoff.next()
                }
            };
            let now = Instant::now();
            if now >= deadline {
                if let Some(error) = last_error {
                    last_progress = format!("{last_progress} (then: {error})");
                }
                if failed_tasks == 0 {
                    self.report_stopped_tasks(deployment_id.as_deref(), goal, now)
                        .await;
                }
                return WatchEnd::TimedOut(last_progress);
            }
            // Readings come at the poller's ticks; a failed one also waits out the backoff.
            if let Some(pause) = pause {
                tokio::time::sleep(pause.min(deadline - now)).await;
            }
        }
    }

    /// The service at the poller's next tick, with its running tasks once ECS says the rollout is done.
    async fn observe(&mut self, goal: &Goal, history: &History) -> Result<Observation, AwsError> {
        let Some(described) = self.poller.next(self.ecs.cluster(), self.service).await? else {
            return Ok(Observation::default());
        };
        self.report_events(service_events(&described));
        let state = service_state(&described);
        let tasks = if needs_tasks(&state, goal, history) {
            Some(self.ecs.running_tasks(self.service).await?)
        } else {
            None
        };
        Ok(Observation {
            service: Some(state),
            tasks,
        })
    }

    fn report_events(&mut self, events: Vec<ServiceEvent>) {
        // ECS lists the newest first; report oldest first.
        for event in events.into_iter().rev() {
            if self.seen_events.insert(event.id) {
                info!(event = %event.message, "service event");
                self.evidence.event(&event.message);
            }
        }
    }

    /// Logs and notes the stopped tasks of `deployment_id` (on the goal's task definition) not seen before;
    /// the read ends by `deadline` (or, when that has just passed, [`EVIDENCE_GRACE`] from now), whatever
    /// ECS does. Without a deployment id, ECS never listed the deployment: there is nothing to read.
    async fn report_stopped_tasks(
        &mut self,
        deployment_id: Option<&str>,
        goal: &Goal,
        deadline: Instant,
    ) {
        let Some(deployment_id) = deployment_id else {
            return;
        };
        let by = deadline.max(Instant::now() + EVIDENCE_GRACE);
        let read = self
            .ecs
            .stopped_tasks(deployment_id, &goal.task_definition, &self.seen_stopped);
        match tokio::time::timeout_at(by, read).await {
            Err(_elapsed) => {
                warn!("reading the stopped tasks took too long; going on without them")
            }
            Ok(Err(e)) => warn!(error = %e, "cannot read the stopped tasks"),
            Ok(Ok(stopped)) => {
                for task in stopped {
                    if self.seen_stopped.insert(task.arn.clone()) {
                        warn!(task = %task.arn, task_definition = short_arn(&task.task_definition), reason = %task.reason, "task stopped");
                        self.evidence.stopped(&task.reason);
                    }
                }
            }
        }
    }
}
