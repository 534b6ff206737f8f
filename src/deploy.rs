//! One deployment, from a parsed request to its outcome: DescribeServices -> RegisterTaskDefinition (tagged
//! with the message id) -> UpdateService -> watch, and on failure a rollback that is watched by the same
//! rules. A redelivered message resumes from what an earlier delivery did (see [`crate::marker`]).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::ecs::{Ecs, ServiceEvent, service_events, service_state};
use crate::error::AwsError;
use crate::marker::{self, Plan};
use crate::message::{DeploymentRequest, Target};
use crate::outcome::{Outcome, Rollback};
use crate::poller::ServicePoller;
use crate::rollout::{Failure, Goal, Observation, Verdict, judge, needs_tasks, short_arn};

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
    /// How long a rollout, and separately its rollback, may take; also how long ECS may stay unreachable
    /// before a deployment gives its message back for a later try.
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
    /// On failure, ECS's own words: its latest notable service events and stopped tasks' reasons.
    pub ecs_said: Vec<String>,
}

/// The delivery a deployment comes from: what marks its revision and whether it may have run before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The SQS message id, written on the revision the deployment registers.
    pub message_id: String,
    /// Whether SQS delivered the message before (its receive count is above 1): the deployment then looks
    /// for the revision an earlier delivery registered and resumes from there.
    pub redelivered: bool,
}

/// Runs deployments in one cluster.
#[derive(Debug, Clone)]
pub struct Deployer {
    /// ECS, in the configured cluster.
    ecs: Ecs,
    /// Service readings shared by every rollout being watched.
    poller: ServicePoller,
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

/// The rollout a deployment watches, however it got there.
struct Started {
    /// The revision the service was pointed at.
    task_definition: String,
    /// What the service ran before.
    previous_task_definition: Option<String>,
    /// The deployment UpdateService started, when known.
    deployment_id: Option<String>,
}

impl Deployer {
    /// A deployer for `ecs`'s cluster; rollouts are read through one shared [`ServicePoller`].
    pub fn new(ecs: Ecs, settings: Settings) -> Self {
        let poller = ServicePoller::spawn(ecs.clone(), settings.poll_interval);
        Self {
            ecs,
            poller,
            settings,
        }
    }

    /// Carries out one request and says how it ended; never panics, never returns early without an outcome.
    /// `on_started` is called once the service points at the new revision, before the rollout is watched.
    pub async fn deploy(
        &self,
        request: &DeploymentRequest,
        delivery: &Delivery,
        on_started: &(dyn Fn(&Record) + Send + Sync),
    ) -> Record {
        let mut record = Record {
            previous_task_definition: None,
            new_task_definition: None,
            outcome: Outcome::Deployed,
            ecs_said: Vec::new(),
        };
        let result = match &request.target {
            Target::RegisterOnly => self.register_only(request, delivery, &mut record).await,
            Target::Service(service) => {
                self.deploy_service(request, delivery, service, &mut record, on_started)
                    .await
            }
        };
        record.outcome = match result {
            Ok(outcome) | Err(outcome) => outcome,
        };
        record
    }

    async fn register_only(
        &self,
        request: &DeploymentRequest,
        delivery: &Delivery,
        record: &mut Record,
    ) -> Result<Outcome, Outcome> {
        let deadline = Instant::now() + self.settings.timeout;
        let family = request.task_definition.family();
        if delivery.redelivered
            && let Some(marked) = self
                .retrying(deadline, || {
                    self.ecs.find_marked(family, &delivery.message_id)
                })
                .await?
        {
            info!(task_definition = %marked.task_definition, "already registered on an earlier delivery");
            record.new_task_definition = Some(marked.task_definition);
            return Ok(Outcome::Registered);
        }
        let tags =
            marker::registration_tags(&delivery.message_id, request.commit_url.as_deref(), None);
        let arn = self
            .register(request, &tags, &delivery.message_id, deadline)
            .await?;
        info!(task_definition = %arn, "registered the task definition; no service update asked for");
        record.new_task_definition = Some(arn);
        Ok(Outcome::Registered)
    }

    async fn deploy_service(
        &self,
        request: &DeploymentRequest,
        delivery: &Delivery,
        service: &str,
        record: &mut Record,
        on_started: &(dyn Fn(&Record) + Send + Sync),
    ) -> Result<Outcome, Outcome> {
        let deadline = Instant::now() + self.settings.timeout;
        let current = self
            .retrying(deadline, || self.ecs.describe_service(service))
            .await?;
        let current = match current {
            Some(current) if current.state.status == "ACTIVE" => current,
            Some(current) => {
                return Err(Outcome::Rejected {
                    reason: format!(
                        "service '{service}' in cluster '{}' is {}, not ACTIVE",
                        self.ecs.cluster(),
                        current.state.status
                    ),
                });
            }
            None => {
                return Err(Outcome::Rejected {
                    reason: format!(
                        "service '{service}' not found in cluster '{}'",
                        self.ecs.cluster()
                    ),
                });
            }
        };
        let family = request.task_definition.family();
        let marked = if delivery.redelivered {
            self.retrying(deadline, || {
                self.ecs.find_marked(family, &delivery.message_id)
            })
            .await?
        } else {
            None
        };
        let started = match marker::plan(marked.as_ref(), &current.state) {
            Plan::Register => {
                record.previous_task_definition = current.task_definition.clone();
                let tags = marker::registration_tags(
                    &delivery.message_id,
                    request.commit_url.as_deref(),
                    current.task_definition.as_deref(),
                );
                let arn = self
                    .register(request, &tags, &delivery.message_id, deadline)
                    .await?;
                info!(task_definition = %arn, "registered the task definition");
                record.new_task_definition = Some(arn.clone());
                let deployment_id = self.point_service(service, &arn, deadline).await?;
                Started {
                    task_definition: arn,
                    previous_task_definition: current.task_definition.clone(),
                    deployment_id,
                }
            }
            Plan::Update {
                task_definition,
                previous_task_definition,
            } => {
                info!(task_definition = %task_definition, "resuming: registered on an earlier delivery, the service was not updated yet");
                record.previous_task_definition = previous_task_definition.clone();
                record.new_task_definition = Some(task_definition.clone());
                let deployment_id = self
                    .point_service(service, &task_definition, deadline)
                    .await?;
                Started {
                    task_definition,
                    previous_task_definition,
                    deployment_id,
                }
            }
            Plan::Watch {
                task_definition,
                previous_task_definition,
                deployment_id,
            } => {
                info!(task_definition = %task_definition, deployment = deployment_id.as_deref().unwrap_or("unknown"), "resuming: the service was pointed at the revision on an earlier delivery; watching that rollout");
                record.previous_task_definition = previous_task_definition.clone();
                record.new_task_definition = Some(task_definition.clone());
                Started {
                    task_definition,
                    previous_task_definition,
                    deployment_id,
                }
            }
        };
        on_started(record);
        let (outcome, ecs_said) = self
            .watch_rollout(request, service, current.event_ids, started)
            .await;
        record.ecs_said = ecs_said;
        Ok(outcome)
    }

    /// Registers the request with the marker tags; retries throttled calls, and after any other failure
    /// looks for the marked revision before trying again, since the registration may have happened.
    async fn register(
        &self,
        request: &DeploymentRequest,
        tags: &[(String, String)],
        message_id: &str,
        deadline: Instant,
    ) -> Result<String, Outcome> {
        let task_definition = request
            .task_definition
            .with_marker_tags(tags)
            .map_err(|reason| Outcome::Rejected { reason })?;
        let family = task_definition.family();
        // After a failure other than throttling the registration may have happened: look before trying again.
        let look_first = AtomicBool::new(false);
        self.retrying(deadline, || async {
            if look_first.load(Ordering::Relaxed)
                && let Some(marked) = self.ecs.find_marked(family, message_id).await?
            {
                info!(task_definition = %marked.task_definition, "the failed-looking registration had happened; using it");
                return Ok(marked.task_definition);
            }
            self.ecs.register(&task_definition).await.inspect_err(|e| {
                look_first.store(!e.throttled, Ordering::Relaxed);
            })
        })
        .await
    }

    /// Points the service at the revision and records the deployment on it.
    async fn point_service(
        &self,
        service: &str,
        task_definition: &str,
        deadline: Instant,
    ) -> Result<Option<String>, Outcome> {
        let deployment_id = self
            .retrying(deadline, || {
                self.ecs.update_service(service, task_definition)
            })
            .await?;
        if let Some(id) = &deployment_id
            && let Err(e) = self
                .ecs
                .tag(
                    task_definition,
                    marker::DEPLOYMENT_TAG,
                    &marker::tag_value(id),
                )
                .await
        {
            warn!(error = %e, "cannot record the deployment on the revision; a redelivery finds it by the service's deployments");
        }
        info!(
            deployment = deployment_id.as_deref().unwrap_or("unknown"),
            to = short_arn(task_definition),
            "updated the service; watching the rollout"
        );
        Ok(deployment_id)
    }

    /// Calls ECS until it answers, backing off while it fails for a reason worth retrying, up to `deadline`.
    async fn retrying<T, F, Fut>(&self, deadline: Instant, mut call: F) -> Result<T, Outcome>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut backoff = error_backoff(self.settings.poll_interval);
        let mut last_error: Option<String> = None;
        loop {
            match call().await {
                Ok(value) => {
                    if let Some(error) = last_error {
                        info!(%error, "ECS answers again");
                    }
                    return Ok(value);
                }
                Err(e) if e.rejects_request => {
                    return Err(Outcome::Rejected {
                        reason: format!("ECS refused the request: {e}"),
                    });
                }
                Err(e) => {
                    let error = e.to_string();
                    if last_error.as_deref() != Some(error.as_str()) {
                        warn!(%error, "ECS call failed; retrying with backoff");
                        last_error = Some(error.clone());
                    }
                    let delay = backoff.next().unwrap_or(MAX_ERROR_BACKOFF);
                    if Instant::now() + delay >= deadline {
                        warn!(%error, "ECS kept failing; the message will be tried again later");
                        return Err(Outcome::RetryLater { reason: error });
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Watches the rollout to its end and rolls back a failed one; on failure also gives what ECS said.
    async fn watch_rollout(
        &self,
        request: &DeploymentRequest,
        service: &str,
        seen_events: BTreeSet<String>,
        started: Started,
    ) -> (Outcome, Vec<String>) {
        let arn = started.task_definition;
        let previous = started.previous_task_definition.filter(|p| *p != arn);
        let mut watch = Watch::new(self, service, seen_events);
        let goal = Goal {
            deployment_id: started.deployment_id,
            task_definition: arn.clone(),
            previous_task_definition: previous.clone(),
            health_checked: request.task_definition.health_checked_containers(),
        };
        let outcome = match watch.run(&goal).await {
            WatchEnd::Done => {
                info!(task_definition = %arn, "the rollout completed");
                return (Outcome::Deployed, Vec::new());
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
                let rollback = self
                    .roll_back(&mut watch, service, previous.as_deref(), &arn)
                    .await;
                Outcome::Failed { reason, rollback }
            }
            WatchEnd::TimedOut(progress) => {
                let reason = watch.quote(&format!(
                    "the rollout did not complete within ECS_TIMEOUT ({}); last seen: {progress}",
                    humantime::format_duration(self.settings.timeout)
                ));
                warn!(%reason, "the rollout timed out");
                let rollback = self
                    .roll_back(&mut watch, service, previous.as_deref(), &arn)
                    .await;
                Outcome::TimedOut { reason, rollback }
            }
        };
        (outcome, watch.evidence())
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
        let Some(previous) = previous else {
            return Rollback::NotPossible("the service ran no other task definition before".into());
        };
        info!(to = short_arn(previous), "rolling the service back");
        let deadline = Instant::now() + self.settings.timeout;
        let deployment_id = match self
            .retrying(deadline, || self.ecs.update_service(service, previous))
            .await
        {
            Ok(id) => id,
            Err(outcome) => return Rollback::Failed(outcome.reason()),
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

/// Watching one service's rollouts: remembers which events and stopped tasks were already reported.
struct Watch<'a> {
    /// ECS in the deployment's cluster, the shared service readings, and the settings.
    deployer: &'a Deployer,
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
}

impl<'a> Watch<'a> {
    fn new(deployer: &'a Deployer, service: &'a str, seen_events: BTreeSet<String>) -> Self {
        Self {
            deployer,
            service,
            seen_events,
            seen_stopped: BTreeSet::new(),
            events: Vec::new(),
            stopped_reasons: Vec::new(),
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

    /// ECS's latest notable events, then its latest stopped tasks' reasons.
    fn evidence(&self) -> Vec<String> {
        let latest = |all: &[String]| all[all.len().saturating_sub(QUOTED_EVIDENCE)..].to_vec();
        let mut said = latest(&self.events);
        said.extend(latest(&self.stopped_reasons));
        said
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
                humantime::format_duration(self.deployer.settings.timeout)
            )),
        }
    }

    /// Reads the rollout at every tick of the shared poller until it is done, failed, or the timeout
    /// passed.
    async fn run(&mut self, goal: &Goal) -> WatchEnd {
        let settings = self.deployer.settings;
        let deadline = Instant::now() + settings.timeout;
        let mut last_progress = String::from("no answer from ECS yet");
        let mut last_error: Option<String> = None;
        let mut failed_tasks = 0;
        let mut backoff = error_backoff(settings.poll_interval);
        loop {
            let observed = tokio::time::timeout_at(deadline, self.observe(goal)).await;
            let pause = match observed {
                Err(_elapsed) => None,
                Ok(Ok(observation)) => {
                    if let Some(error) = last_error.take() {
                        info!(%error, "ECS answers again");
                    }
                    backoff = error_backoff(settings.poll_interval);
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
                    self.report_stopped_tasks(&goal.task_definition).await;
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
    async fn observe(&mut self, goal: &Goal) -> Result<Observation, AwsError> {
        let Some(described) = self.deployer.poller.next(self.service).await? else {
            return Ok(Observation::default());
        };
        self.report_events(service_events(&described));
        let state = service_state(&described);
        let tasks = if needs_tasks(&state, goal) {
            Some(self.deployer.ecs.running_tasks(self.service).await?)
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
                let lower = event.message.to_lowercase();
                if NOTABLE_EVENT_WORDS.iter().any(|w| lower.contains(w)) {
                    Self::note(&mut self.events, event.message);
                }
            }
        }
    }

    async fn report_stopped_tasks(&mut self, task_definition: &str) {
        match self
            .deployer
            .ecs
            .stopped_tasks(self.service, task_definition)
            .await
        {
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
