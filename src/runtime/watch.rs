//! Watching one service's rollout to its end and rolling a failed one back by the same rules: a reading at
//! every tick of the shared poller, the tasks once ECS says the deployment is done, and ECS's events and
//! stopped tasks logged as they come and kept as evidence. `ECS_TIMEOUT` runs only while ECS works on the
//! tasks (see [`crate::decide::deadline::Clock`]), and no watch outlasts the message's hold.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::ecs::{Ecs, StoppedTask, service_state};
use crate::aws::poller::ServicePoller;
use crate::decide::deadline::Clock;
use crate::decide::ending::{Next, WatchEnd, after_watch, ecs_said};
use crate::decide::evidence::Evidence;
use crate::decide::history::History;
use crate::decide::outcome::{Outcome, Rollback};
use crate::decide::rollout::Failure;
use crate::decide::rollout::{Goal, Observation, Verdict, judge, remember};
use crate::runtime::retry::error_backoff;

mod capacity;
mod ended;
mod observe;
mod report;
mod rollback;
mod timekeeping;

pub use ended::Ended;

/// How long reading the stopped tasks may take past a deadline that just passed: enough to quote ECS.
pub(crate) const EVIDENCE_GRACE: Duration = Duration::from_secs(5);

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
    /// How many of a failed task's last log lines a report carries (`LOG_TAIL_LINES`).
    pub log_tail_lines: usize,
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
    /// The task definition of every deployment the reads listed, so ECS's rollback to an older one (as
    /// blue/green, linear and canary roll back) is recognized as the rollback.
    deployments: BTreeMap<String, String>,
    /// Whether ECS's record of the service deployment is read at every poll (strategies with stages,
    /// bakes or hooks only it shows; and the first poll, before the strategy is known) or only once the
    /// service's deployments look settled (rolling).
    record_every_poll: bool,
    /// Lifecycle hooks already reported as waiting.
    seen_waiting: BTreeSet<String>,
    /// The task definition each record read so far deploys (by the record's ARN), so that a record read
    /// again on its own needs no DescribeServiceRevisions.
    revisions: BTreeMap<String, String>,
    /// When the message's hold ends: no watch outlasts it (see [`crate::decide::deadline::DEFAULT_HOLD`]).
    hold_until: Instant,
    /// Until when the time ECS spent finding capacity was given back to the clock.
    credited_until: Option<std::time::SystemTime>,
    /// Told when ECS waits at a lifecycle hook, with words naming it and how to go on.
    on_waiting: &'a (dyn Fn(&str) + Send + Sync),
    /// ECS's words worth quoting in a failure.
    pub evidence: Evidence,
    /// The rollout's last task that failed, whose logs may say why.
    pub(super) last_failed: Option<StoppedTask>,
}

impl<'a> Watch<'a> {
    /// A watch of `service`, whose events in `seen_events` were there before the deployment, ending by
    /// `hold_until` at the latest; `on_waiting` hears of every lifecycle hook ECS waits at.
    pub fn new(
        ecs: &'a Ecs,
        poller: &'a ServicePoller,
        (service, seen_events): (&'a str, BTreeSet<String>),
        (settings, hold_until): (Settings, Instant),
        on_waiting: &'a (dyn Fn(&str) + Send + Sync),
    ) -> Self {
        Self {
            ecs,
            poller,
            settings,
            service,
            seen_events,
            seen_stopped: BTreeSet::new(),
            deployments: BTreeMap::new(),
            record_every_poll: true,
            seen_waiting: BTreeSet::new(),
            revisions: BTreeMap::new(),
            hold_until,
            credited_until: None,
            on_waiting,
            evidence: Evidence::default(),
            last_failed: None,
        }
    }

    /// Watches the rollout to `goal` to its end, knowing what `history` says of it, and rolls back a failed
    /// one; gives the outcome and, on failure, what ECS said and the last task that failed.
    pub async fn to_outcome(mut self, goal: Goal, mut history: History) -> Ended {
        let arn = goal.task_definition.clone();
        let end = self.run(&goal, &mut history).await;
        let mut next = after_watch(end, &self.evidence, self.settings.timeout);
        if let Next::RollBack(failed) = next {
            if failed.timed_out {
                warn!(reason = %failed.reason, "the rollout timed out");
            } else {
                warn!(reason = %failed.reason, "the rollout failed");
            }
            // Before any rollback, the service is read again: ECS may have called the deployment
            // SUCCESSFUL or rolled it back meanwhile, or someone else may have deployed the service.
            next = match self.recheck(&goal, &mut history).await {
                Err(error) => Next::Finish(failed.clone().with(Rollback::Failed(format!(
                    "not rolled back: the service could not be read again before acting on it ({error}); nothing was changed"
                )))),
                Ok(Verdict::Done) => {
                    warn!("ECS says the deployment succeeded after all: nothing is rolled back");
                    Next::Finish(Outcome::Deployed)
                }
                Ok(Verdict::Failed(failure))
                    if !matches!(failure, Failure::DeploymentFailed(_)) =>
                {
                    after_watch(
                        WatchEnd::Failed(failure),
                        &self.evidence,
                        self.settings.timeout,
                    )
                }
                _ => Next::RollBack(failed),
            };
        }
        // Whatever the rollback starts is newer than every deployment seen so far.
        let mut before_rollback = history.older;
        before_rollback.extend(history.seen.map(|(id, _)| id));
        let outcome = match next {
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
                // The deployment that takes over may be an older one (blue/green, linear and canary roll
                // back so): it is the rollback's, not a read behind.
                let mut rollback_history = History::after(before_rollback);
                match &deployment_id {
                    Some(id) => {
                        rollback_history.older.remove(id);
                        rollback_history.seen = Some((id.clone(), None));
                    }
                    None => rollback_history
                        .older
                        .retain(|id| self.deployments.get(id) != Some(&task_definition)),
                }
                let rollback_goal = goal.ecs_rollback(deployment_id, task_definition);
                let rollback = self.run_rollback(&rollback_goal, rollback_history).await;
                failed.with(rollback)
            }
            Next::RollBack(failed) => {
                let rollback = self.roll_back(&goal, before_rollback).await;
                failed.with(rollback)
            }
        };
        let ecs_said = ecs_said(&outcome, &self.evidence);
        let last_failed = self.last_failed.filter(|_| !outcome.succeeded());
        Ended {
            outcome,
            ecs_said,
            last_failed,
        }
    }

    /// The rollout judged by a fresh read of the service and ECS's record (no tasks), before the worker
    /// acts on it; tried again with backoff for up to `ECS_TIMEOUT` (within the hold), then the error:
    /// the worker never acts on a service it could not read.
    async fn recheck(&mut self, goal: &Goal, history: &mut History) -> Result<Verdict, String> {
        let until = (Instant::now() + self.settings.timeout).min(self.hold_until);
        let mut backoff = error_backoff(self.settings.poll_interval);
        let every_poll = goal.service_deployment.as_ref().map(|r| r.arn.as_str());
        let observed = loop {
            let read = self
                .poller
                .next(self.ecs.cluster(), self.service, every_poll);
            let error = match tokio::time::timeout_at(until, read).await {
                Ok(Ok(observed)) => break observed,
                Ok(Err(e)) => e.to_string(),
                Err(_) => "no answer in time".to_owned(),
            };
            let pause = backoff.next().unwrap_or(self.settings.poll_interval);
            if Instant::now() + pause >= until {
                return Err(error);
            }
            warn!(%error, "cannot read the service again before acting on it; retrying");
            tokio::time::sleep(pause).await;
        };
        let observation = Observation {
            service: observed.service.as_ref().map(service_state),
            tasks: None,
            deployment: observed.deployment,
        };
        remember(history, &observation, goal);
        Ok(judge(&observation, goal, history))
    }

    /// Reads the rollout at every tick of the shared poller until it is done, failed, the clock ran out
    /// or the message's hold ends; `history` keeps what the reads showed, so a read behind an earlier one
    /// is no news.
    async fn run(&mut self, goal: &Goal, history: &mut History) -> WatchEnd {
        let settings = self.settings;
        let start = Instant::now();
        let mut clock = Clock::new(settings.timeout);
        let mut last_progress = String::from("no answer from ECS yet");
        let mut last_error: Option<String> = None;
        let mut last_wait: Option<String> = None;
        let mut failed_tasks = 0;
        // The deployment whose stopped tasks say why: the one UpdateService started, or as ECS lists it.
        let mut deployment_id = goal.deployment_id.clone();
        let mut backoff = error_backoff(settings.poll_interval);
        loop {
            let deadline = self.deadline(&clock, start);
            let observed = tokio::time::timeout_at(deadline, self.observe(goal, history)).await;
            let pause = match observed {
                Err(_elapsed) => None,
                Ok(Ok(observation)) => {
                    if let Some(error) = last_error.take() {
                        info!(%error, "ECS answers again");
                    }
                    backoff = error_backoff(settings.poll_interval);
                    remember(history, &observation, goal);
                    self.keep_time(&mut clock, start, &observation, goal, &mut last_wait);
                    self.report_waiting(observation.deployment.as_ref());
                    for d in observation.service.iter().flat_map(|s| &s.deployments) {
                        self.deployments
                            .insert(d.id.clone(), d.task_definition.clone());
                    }
                    let mut verdict = judge(&observation, goal, history);
                    let ours = observation.service.as_ref().and_then(|s| {
                        history.ours(s, goal.deployment_id.as_deref(), &goal.task_definition)
                    });
                    if let Some(ours) = ours {
                        deployment_id = Some(ours.id.clone());
                    }
                    let ours_failed = ours.map_or(0, |d| d.failed_tasks);
                    if ours_failed > failed_tasks || matches!(verdict, Verdict::Failed(_)) {
                        failed_tasks = ours_failed;
                        let failing = self
                            .report_stopped_tasks(deployment_id.as_deref(), goal, deadline)
                            .await;
                        // ECS's tasks of the rollout failed, which a read may have missed: what takes
                        // over may be ECS's rollback to the same revision.
                        if failing && !history.failing {
                            history.failing = true;
                            verdict = judge(&observation, goal, history);
                        }
                    }
                    match verdict {
                        Verdict::Done => {
                            self.report_task_detail(observation, goal, history).await;
                            return WatchEnd::Done;
                        }
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
            if now >= self.hold_until {
                return WatchEnd::Released(last_progress);
            }
            if clock
                .left(start.elapsed())
                .is_some_and(|left| left.is_zero())
            {
                if self
                    .capacity_found_late(&mut clock, deployment_id.as_deref())
                    .await
                {
                    continue;
                }
                if let Some(error) = last_error {
                    last_progress = format!("{last_progress} (then: {error})");
                }
                let added = clock.limit().saturating_sub(settings.timeout);
                if !added.is_zero() {
                    last_progress = format!(
                        "{last_progress}; the deployment configuration's bakes and hook timeouts had added {} to ECS_TIMEOUT",
                        humantime::format_duration(added)
                    );
                }
                if failed_tasks == 0 {
                    self.report_stopped_tasks(deployment_id.as_deref(), goal, now)
                        .await;
                }
                return WatchEnd::TimedOut(last_progress);
            }
            // Readings come at the poller's ticks; a failed one also waits out the backoff.
            if let Some(pause) = pause {
                let until = self.deadline(&clock, start);
                tokio::time::sleep(pause.min(until.saturating_duration_since(now))).await;
            }
        }
    }
}
