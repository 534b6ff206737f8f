//! One deployment, from a parsed request to its outcome: DescribeServices -> RegisterTaskDefinition ->
//! UpdateService -> watch, and on failure a rollback that is watched by the same rules.

use std::collections::BTreeSet;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::ecs::{Ecs, ServiceEvent};
use crate::error::AwsError;
use crate::message::{DeploymentRequest, Target};
use crate::outcome::{Outcome, Rollback};
use crate::rollout::{Failure, Goal, Verdict, judge, short_arn};

/// How many of ECS's own messages (events, stopped-task reasons) a failure reason quotes.
const QUOTED_EVIDENCE: usize = 3;
/// The longest wait between two reads of a rollout while ECS keeps failing.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(30);
/// Words that make a service event worth quoting in a failure reason.
/// (Stopped tasks are quoted by their own reasons, so ECS's routine "has stopped N running tasks" is not.)
const NOTABLE_EVENT_WORDS: [&str; 5] = ["unable", "fail", "roll", "error", "unhealthy"];

/// How deployments are watched and rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a rollout, and separately its rollback, may take.
    pub timeout: Duration,
    /// How often a rollout is read.
    pub poll_interval: Duration,
    /// Whether a failed or timed-out rollout is rolled back.
    pub rollback_on_failure: bool,
}

/// What a deployment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The task definition the service ran before.
    pub previous_task_definition: Option<String>,
    /// The task definition registered from the message.
    pub new_task_definition: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
}

/// Runs deployments in one cluster.
#[derive(Debug, Clone)]
pub struct Deployer {
    /// ECS, in the configured cluster.
    ecs: Ecs,
    /// Timeouts, poll interval and rollback policy.
    settings: Settings,
}

/// How a watch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WatchEnd {
    Done,
    Failed(Failure),
    TimedOut(String),
}

impl Deployer {
    /// A deployer for `ecs`'s cluster.
    pub fn new(ecs: Ecs, settings: Settings) -> Self {
        Self { ecs, settings }
    }

    /// Carries out one request and says how it ended; never panics, never returns early without an outcome.
    pub async fn deploy(&self, request: &DeploymentRequest) -> Record {
        let mut record = Record {
            previous_task_definition: None,
            new_task_definition: None,
            outcome: Outcome::Deployed,
        };
        let service = match &request.target {
            Target::RegisterOnly => {
                record.outcome = match self.ecs.register(&request.task_definition).await {
                    Ok(arn) => {
                        info!(task_definition = %arn, "registered the task definition; no service update asked for");
                        record.new_task_definition = Some(arn);
                        Outcome::Registered
                    }
                    Err(e) => before_change(e),
                };
                return record;
            }
            Target::Service(service) => service.as_str(),
        };

        let current = match self.ecs.describe_service(service).await {
            Ok(Some(current)) if current.state.status == "ACTIVE" => current,
            Ok(Some(current)) => {
                record.outcome = Outcome::Rejected {
                    reason: format!(
                        "service '{service}' in cluster '{}' is {}, not ACTIVE",
                        self.ecs.cluster(),
                        current.state.status
                    ),
                };
                return record;
            }
            Ok(None) => {
                record.outcome = Outcome::Rejected {
                    reason: format!(
                        "service '{service}' not found in cluster '{}'",
                        self.ecs.cluster()
                    ),
                };
                return record;
            }
            Err(e) => {
                record.outcome = before_change(e);
                return record;
            }
        };
        record.previous_task_definition = current.task_definition.clone();

        let arn = match self.ecs.register(&request.task_definition).await {
            Ok(arn) => arn,
            Err(e) => {
                record.outcome = before_change(e);
                return record;
            }
        };
        info!(task_definition = %arn, "registered the task definition");
        record.new_task_definition = Some(arn.clone());

        let deployment_id = match self.ecs.update_service(service, &arn).await {
            Ok(id) => id,
            Err(e) => {
                record.outcome = before_change(e);
                return record;
            }
        };
        info!(
            deployment = deployment_id.as_deref().unwrap_or("unknown"),
            from = current.task_definition.as_deref().map_or("none", short_arn),
            to = short_arn(&arn),
            "updated the service; watching the rollout"
        );

        let mut watch = Watch::new(&self.ecs, service, current.event_ids, self.settings);
        let goal = Goal {
            deployment_id,
            task_definition: arn.clone(),
            previous_task_definition: current.task_definition.clone(),
            health_checked: request.task_definition.health_checked_containers(),
        };
        let previous = current.task_definition.as_deref();
        record.outcome = match watch.run(&goal).await {
            WatchEnd::Done => {
                info!(task_definition = %arn, "the rollout completed");
                Outcome::Deployed
            }
            WatchEnd::Failed(Failure::Superseded { by_task_definition }) => Outcome::Superseded {
                reason: Failure::Superseded { by_task_definition }.reason(),
            },
            WatchEnd::Failed(failure @ Failure::ServiceGone(_)) => Outcome::Failed {
                reason: watch.quote(&failure.reason()),
                rollback: Rollback::NotPossible("there is no active service to roll back".into()),
            },
            WatchEnd::Failed(Failure::RolledBackByEcs {
                reason,
                deployment_id,
                task_definition,
            }) => {
                let reason = watch.quote(&format!("ECS rolled the service back: {reason}"));
                warn!(%reason, "the rollout failed; watching ECS's rollback");
                let goal = Goal {
                    deployment_id: Some(deployment_id),
                    task_definition,
                    previous_task_definition: Some(arn.clone()),
                    health_checked: BTreeSet::new(),
                };
                let rollback = match watch.run_rollback(&goal).await {
                    Rollback::Completed => Rollback::CompletedByEcs,
                    other => other,
                };
                Outcome::Failed { reason, rollback }
            }
            WatchEnd::Failed(failure @ Failure::DeploymentFailed(_)) => {
                let reason = watch.quote(&failure.reason());
                warn!(%reason, "the rollout failed");
                let rollback = self.roll_back(&mut watch, service, previous, &arn).await;
                Outcome::Failed { reason, rollback }
            }
            WatchEnd::TimedOut(progress) => {
                let reason = watch.quote(&format!(
                    "the rollout did not complete within ECS_TIMEOUT ({}); last seen: {progress}",
                    humantime::format_duration(self.settings.timeout)
                ));
                warn!(%reason, "the rollout timed out");
                let rollback = self.roll_back(&mut watch, service, previous, &arn).await;
                Outcome::TimedOut { reason, rollback }
            }
        };
        record
    }

    /// Points the service back at `previous` and watches that rollout by the same rules.
    async fn roll_back(
        &self,
        watch: &mut Watch<'_>,
        service: &str,
        previous: Option<&str>,
        failed: &str,
    ) -> Rollback {
        if !self.settings.rollback_on_failure {
            return Rollback::Disabled;
        }
        let Some(previous) = previous.filter(|p| *p != failed) else {
            return Rollback::NotPossible("the service ran no other task definition before".into());
        };
        info!(to = short_arn(previous), "rolling the service back");
        let deployment_id = match self.ecs.update_service(service, previous).await {
            Ok(id) => id,
            Err(e) => return Rollback::Failed(e.to_string()),
        };
        let goal = Goal {
            deployment_id,
            task_definition: previous.to_owned(),
            previous_task_definition: Some(failed.to_owned()),
            health_checked: BTreeSet::new(),
        };
        watch.run_rollback(&goal).await
    }
}

/// A failure before the service changed: rejected for good, or left to try again.
fn before_change(err: AwsError) -> Outcome {
    if err.rejects_request {
        Outcome::Rejected {
            reason: format!("ECS refused the request: {err}"),
        }
    } else {
        warn!(error = %err, "AWS call failed before anything changed; the message will be tried again");
        Outcome::RetryLater {
            reason: err.to_string(),
        }
    }
}

/// Watching one service's rollouts: remembers which events and stopped tasks were already reported.
struct Watch<'a> {
    /// ECS, in the deployment's cluster.
    ecs: &'a Ecs,
    /// The service being watched.
    service: &'a str,
    /// Service events already reported (the ones before the deployment included).
    seen_events: BTreeSet<String>,
    /// Stopped tasks already reported.
    seen_stopped: BTreeSet<String>,
    /// ECS's notable service events, newest last, quoted in failure reasons.
    events: Vec<String>,
    /// Distinct reasons of stopped tasks, newest last, quoted in failure reasons.
    stopped_reasons: Vec<String>,
    /// Timeout and poll interval.
    settings: Settings,
}

impl<'a> Watch<'a> {
    fn new(
        ecs: &'a Ecs,
        service: &'a str,
        seen_events: BTreeSet<String>,
        settings: Settings,
    ) -> Self {
        Self {
            ecs,
            service,
            seen_events,
            seen_stopped: BTreeSet::new(),
            events: Vec::new(),
            stopped_reasons: Vec::new(),
            settings,
        }
    }

    /// `reason` with ECS's latest notable events and stopped tasks' reasons quoted.
    fn quote(&self, reason: &str) -> String {
        let latest = |all: &[String]| all[all.len().saturating_sub(QUOTED_EVIDENCE)..].join(" | ");
        let mut quoted = reason.to_owned();
        if !self.events.is_empty() {
            quoted.push_str(&format!("; ECS said: {}", latest(&self.events)));
        }
        if !self.stopped_reasons.is_empty() {
            quoted.push_str(&format!(
                "; tasks stopped: {}",
                latest(&self.stopped_reasons)
            ));
        }
        quoted
    }

    /// Appends `text` to `list` unless it is there already.
    fn note(list: &mut Vec<String>, text: String) {
        if !list.contains(&text) {
            list.push(text);
        }
    }

    async fn run_rollback(&mut self, goal: &Goal) -> Rollback {
        match self.run(goal).await {
            WatchEnd::Done => {
                info!(
                    task_definition = short_arn(&goal.task_definition),
                    "the rollback completed"
                );
                Rollback::Completed
            }
            WatchEnd::Failed(failure) => Rollback::Failed(failure.reason()),
            WatchEnd::TimedOut(progress) => Rollback::Failed(format!(
                "did not complete within ECS_TIMEOUT ({}); last seen: {progress}",
                humantime::format_duration(self.settings.timeout)
            )),
        }
    }

    /// Reads the rollout every poll interval until it is done, failed, or the timeout passed.
    async fn run(&mut self, goal: &Goal) -> WatchEnd {
        let deadline = Instant::now() + self.settings.timeout;
        let mut last_progress = String::from("no answer from ECS yet");
        let mut last_error: Option<String> = None;
        let mut failed_tasks = 0;
        let mut backoff = error_backoff(self.settings.poll_interval);
        loop {
            let delay = match self.ecs.observe(self.service).await {
                Ok((observation, events)) => {
                    if let Some(error) = last_error.take() {
                        info!(%error, "ECS answers again");
                    }
                    backoff = error_backoff(self.settings.poll_interval);
                    self.report_events(events);
                    let verdict = judge(&observation, goal);
                    let ours_failed = observation
                        .service
                        .iter()
                        .flat_map(|s| &s.deployments)
                        .find(|d| d.task_definition == goal.task_definition)
                        .map_or(0, |d| d.failed_tasks);
                    if ours_failed > failed_tasks || matches!(verdict, Verdict::Failed(_)) {
                        failed_tasks = ours_failed;
                        self.report_stopped_tasks(&goal.task_definition).await;
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
                    self.settings.poll_interval
                }
                Err(e) => {
                    let error = e.to_string();
                    if last_error.as_deref() != Some(error.as_str()) {
                        warn!(%error, "cannot read the rollout; retrying");
                        last_error = Some(error);
                    }
                    backoff.next().unwrap_or(MAX_ERROR_BACKOFF)
                }
            };
            let now = Instant::now();
            if now >= deadline {
                if let Some(error) = last_error {
                    last_progress = format!("{last_progress} (then: {error})");
                }
                if failed_tasks == 0 {
                    self.report_stopped_tasks(&goal.task_definition).await;
                }
                return WatchEnd::TimedOut(last_progress);
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
        }
    }

    fn report_events(&mut self, events: Vec<ServiceEvent>) {
        // ECS lists the newest first; report oldest first.
        for event in events.into_iter().rev() {
            if self.seen_events.insert(event.id) {
                info!(event = %event.message, "service event");
                let lower = event.message.to_lowercase();
                if NOTABLE_EVENT_WORDS.iter().any(|w| lower.contains(w)) {
                    Self::note(&mut self.events, event.message);
                }
            }
        }
    }

    async fn report_stopped_tasks(&mut self, task_definition: &str) {
        match self.ecs.stopped_tasks(self.service, task_definition).await {
            Ok(stopped) => {
                for task in stopped {
                    if self.seen_stopped.insert(task.arn.clone()) {
                        warn!(task = %task.arn, task_definition = short_arn(&task.task_definition), reason = %task.reason, "task stopped");
                        Self::note(&mut self.stopped_reasons, task.reason);
                    }
                }
            }
            Err(e) => warn!(error = %e, "cannot read the stopped tasks"),
        }
    }
}

/// Waits between reads of a rollout while ECS keeps failing: exponential with jitter from the poll
/// interval, capped.
fn error_backoff(poll_interval: Duration) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(poll_interval)
        .with_max_delay(MAX_ERROR_BACKOFF.max(poll_interval))
        .with_jitter()
        .without_max_times()
        .build()
}
