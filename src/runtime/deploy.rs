//! One deployment's steps, from a parsed request to the rollout it started: the guard, DescribeServices,
//! the guard again against what the service runs ([`crate::runtime::admission`]), RegisterTaskDefinition
//! (tagged with the message id) and UpdateService ([`crate::runtime::register`]), then the watch
//! ([`crate::runtime::watch`]).
//!
//! A redelivered message resumes from what an earlier delivery did (see [`crate::decide::marker`]).

use std::collections::BTreeSet;
use std::future::Future;

use tracing::info;

use crate::aws::ecr::Ecr;
use crate::aws::ecs::{Ecs, one_attempt_per_call};
use crate::aws::error::AwsError;
use crate::aws::limiter::ApiLimiter;
use crate::aws::logs::LogTail;
use crate::aws::poller::ServicePoller;
use crate::decide::history::History;
use crate::decide::marker::{self, Plan};
use crate::decide::message::{DeploymentRequest, Target};
use crate::decide::outcome::Outcome;
use crate::decide::rollout::RecordOf;
use crate::runtime::admission::{Guard, NotAdmitted};
use crate::runtime::preflight::Verifier;
use crate::runtime::register::{point_service, register};
use crate::runtime::retry::Retry;
use crate::runtime::watch::Settings;

mod before;
mod change;
mod digests;
mod follow;
mod one_off;
mod started;
mod summary;
mod tail;

pub use summary::Summary;

pub(crate) use change::rejected;
pub(crate) use started::Started;

/// Who hears a deployment's milestones while it runs.
pub type OnMilestone<'a> = &'a (dyn Fn(Milestone<'_>) + Send + Sync);

/// What a deployment reads besides ECS.
#[derive(Debug, Clone)]
pub struct Readers {
    /// What image tags point to now, for a redeploy's digest check.
    pub ecr: Ecr,
    /// The last lines of a failed task's logs.
    pub logs: LogTail,
    /// The pre-flight checks, unless `VERIFY` is off.
    pub verifier: Option<Verifier>,
}

/// What a deployment tells the outside while it runs.
#[derive(Debug, Clone, Copy)]
pub enum Milestone<'r> {
    /// The service points at the new revision; the rollout is being watched.
    Started(&'r Summary),
    /// ECS waits at a lifecycle hook of the rollout; the text names it and how to go on.
    Waiting(&'r Summary, &'r str),
}

/// The delivery a deployment comes from: what marks its revision and whether it may have run before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The SQS message id, written on the revision the deployment registers.
    pub message_id: String,
    /// Whether SQS delivered the message before (its receive count is above 1): the deployment then looks
    /// for the revision an earlier delivery registered and resumes from there.
    pub redelivered: bool,
    /// When SQS says the message was sent (SentTimestamp, epoch milliseconds; 0 when unknown): a rollback
    /// takes only a deployment newer than that for news.
    pub sent_at_ms: u64,
    /// When this delivery's hold ends (its receipt plus `SQS_MAX_HOLD`): no watch outlasts it, as SQS keeps
    /// a received message hidden at most 12 hours.
    pub hold_until: tokio::time::Instant,
}

/// What a rollout is watched with.
pub(crate) struct Watched<'a> {
    /// ECS in the service's cluster.
    pub(crate) ecs: &'a Ecs,
    /// The service.
    pub(crate) service: &'a str,
    /// Its events from before the rollout, not reported again.
    pub(crate) seen_events: BTreeSet<String>,
    /// The revision the service ran before, as read, and its health-checked containers.
    pub(crate) baseline: (Option<String>, BTreeSet<String>),
    /// The health-checked containers of the revision rolled out.
    pub(crate) health_checked: BTreeSet<String>,
    /// Whether only tasks the rollout's own deployment started count (a redeploy).
    pub(crate) fresh_tasks: bool,
    /// When the message's hold ends.
    pub(crate) hold_until: tokio::time::Instant,
}

/// Runs deployments, each in the cluster its message picks.
#[derive(Debug, Clone)]
pub struct Deployer {
    /// The ECS client, for a cluster at a time.
    client: aws_sdk_ecs::Client,
    /// `ECS_CLUSTER`: where a message that names no cluster goes.
    cluster: String,
    /// Service readings shared by every rollout being watched.
    poller: ServicePoller,
    /// Timeouts, poll interval and rollback policy.
    pub(crate) settings: Settings,
    /// What messages may do, and who the worker is.
    guard: Guard,
    /// What image tags point to now, for a redeploy's digest check.
    ecr: Ecr,
    /// The last lines of a failed task's logs.
    pub(crate) logs: LogTail,
    /// The pre-flight checks before registering, unless `VERIFY` is off.
    verifier: Option<Verifier>,
    /// The worker's share of the account's ECS API budget, shared by every call of every deployment.
    limiter: ApiLimiter,
}

impl Deployer {
    /// A deployer through `client`, `cluster` where messages name none; rollouts are read through one
    /// shared [`ServicePoller`], every message is judged by `guard`, `ecr` tells what tags point to, and
    /// every ECS call waits its turn in `limiter`.
    pub fn new(
        client: aws_sdk_ecs::Client,
        cluster: &str,
        settings: Settings,
        guard: Guard,
        Readers {
            ecr,
            logs,
            verifier,
        }: Readers,
        limiter: ApiLimiter,
    ) -> Self {
        // Every attempt of the worker's ECS calls takes its turn in the budget: no SDK retries.
        let client = one_attempt_per_call(&client);
        let poller = ServicePoller::spawn(client.clone(), settings.poll_interval, limiter.clone());
        Self {
            client,
            cluster: cluster.to_owned(),
            poller,
            settings,
            guard,
            ecr,
            logs,
            verifier,
            limiter,
        }
    }

    /// ECS in `cluster`, through the deployer's client, its retry settings and its API budget.
    pub fn ecs_in(&self, cluster: &str) -> Ecs {
        Ecs::limited(self.client.clone(), cluster, self.limiter.clone())
    }

    /// The cluster a message goes to: the one it names (`cluster`), or `ECS_CLUSTER`.
    pub fn cluster_of<'a>(&'a self, cluster: Option<&'a str>) -> &'a str {
        cluster.unwrap_or(&self.cluster)
    }

    /// Carries out a deployment request: register-only, or a service's deployment.
    pub(crate) async fn deploy_request(
        &self,
        request: &DeploymentRequest,
        delivery: &Delivery,
        summary: &mut Summary,
        on_event: OnMilestone<'_>,
    ) -> Result<Outcome, NotAdmitted> {
        let ecs = self.ecs_in(self.cluster_of(request.cluster.as_deref()));
        self.guard.target(request, ecs.cluster())?;
        match &request.target {
            Target::RegisterOnly => self.register_only(&ecs, request, delivery, summary).await,
            Target::Service(service) => {
                self.deploy_service(&ecs, request, delivery, service, summary, on_event)
                    .await
            }
        }
    }

    async fn register_only(
        &self,
        ecs: &Ecs,
        request: &DeploymentRequest,
        delivery: &Delivery,
        summary: &mut Summary,
    ) -> Result<Outcome, NotAdmitted> {
        let retry = self.retry();
        let family = request.task_definition.family();
        if delivery.redelivered
            && let Some(marked) = self
                .retrying(|| ecs.find_marked(family, &delivery.message_id))
                .await?
        {
            info!(task_definition = %marked.task_definition, "already registered on an earlier delivery");
            summary.new_task_definition = Some(marked.task_definition);
            return Ok(Outcome::Registered);
        }
        self.guard.registration(ecs, retry, request).await?;
        if let Some(verifier) = &self.verifier {
            verifier.admit(request).await?;
        }
        let tags =
            marker::registration_tags(&delivery.message_id, request.commit_url.as_deref(), None);
        let arn = register(ecs, retry, request, &tags, &delivery.message_id).await?;
        info!(task_definition = %arn, "registered the task definition; no service update asked for");
        summary.new_task_definition = Some(arn);
        Ok(Outcome::Registered)
    }

    async fn deploy_service(
        &self,
        ecs: &Ecs,
        request: &DeploymentRequest,
        delivery: &Delivery,
        service: &str,
        summary: &mut Summary,
        on_event: OnMilestone<'_>,
    ) -> Result<Outcome, NotAdmitted> {
        let retry = self.retry();
        let current = self.retrying(|| ecs.describe_service(service)).await?;
        let current = match current {
            Some(current) => match current.state.not_deployable(service, ecs.cluster()) {
                None => current,
                Some(reason) => return Err(Outcome::Rejected { reason }.into()),
            },
            None => {
                return Err(Outcome::Rejected {
                    reason: format!(
                        "service '{service}' not found in cluster '{}'",
                        ecs.cluster()
                    ),
                }
                .into());
            }
        };
        let current_health_checked = self
            .guard
            .service(ecs, retry, request, current.task_definition.as_deref())
            .await?;
        let family = request.task_definition.family();
        let marked = if delivery.redelivered {
            self.retrying(|| ecs.find_marked(family, &delivery.message_id))
                .await?
        } else {
            None
        };
        let started = match marker::plan(marked.as_ref(), &current.state) {
            Plan::Register => {
                summary.previous_task_definition = current.task_definition.clone();
                if let Some(verifier) = &self.verifier {
                    verifier.admit(request).await?;
                }
                let tags = marker::registration_tags(
                    &delivery.message_id,
                    request.commit_url.as_deref(),
                    current.task_definition.as_deref(),
                );
                let arn = register(ecs, retry, request, &tags, &delivery.message_id).await?;
                info!(task_definition = %arn, "registered the task definition");
                summary.new_task_definition = Some(arn.clone());
                if let Err(outcome) = self
                    .run_before(ecs, service, &arn, request, (delivery, summary))
                    .await
                {
                    return Ok(outcome);
                }
                let after = point_service(ecs, retry, service, &arn).await?;
                let started = Started::by_update(
                    arn,
                    current.task_definition.clone(),
                    after.as_ref(),
                    &current.state,
                );
                summary.previous_task_definition = started.previous_task_definition.clone();
                started
            }
            Plan::Update {
                task_definition,
                previous_task_definition,
            } => {
                info!(task_definition = %task_definition, "resuming: registered on an earlier delivery, the service was not updated yet");
                summary.previous_task_definition = previous_task_definition.clone();
                summary.new_task_definition = Some(task_definition.clone());
                if let Err(outcome) = self
                    .run_before(ecs, service, &task_definition, request, (delivery, summary))
                    .await
                {
                    return Ok(outcome);
                }
                let after = point_service(ecs, retry, service, &task_definition).await?;
                let started = Started::by_update(
                    task_definition,
                    previous_task_definition,
                    after.as_ref(),
                    &current.state,
                );
                summary.previous_task_definition = started.previous_task_definition.clone();
                started
            }
            Plan::Superseded {
                task_definition,
                previous_task_definition,
                now,
            } => {
                summary.previous_task_definition = previous_task_definition.clone();
                summary.new_task_definition = Some(task_definition.clone());
                return Ok(Outcome::Superseded {
                    reason: marker::superseded_reason(
                        &task_definition,
                        previous_task_definition.as_deref(),
                        now.as_deref(),
                    ),
                });
            }
            Plan::Watch {
                task_definition,
                previous_task_definition,
                deployment_id,
            } => {
                info!(task_definition = %task_definition, deployment = deployment_id.as_deref().unwrap_or("unknown"), "resuming: the service was pointed at the revision on an earlier delivery; watching that rollout");
                summary.previous_task_definition = previous_task_definition.clone();
                summary.new_task_definition = Some(task_definition.clone());
                // ECS listed the deployment to an earlier delivery: not finding it now means it is over.
                // Which of the service's deployments are older is not known any more.
                let history = History {
                    seen: deployment_id.clone().map(|id| (id, None)),
                    ..History::default()
                };
                // While the rollout's deployment is the service's PRIMARY, the service deployment ECS
                // is on is this rollout's (the record is checked against the revision it deploys too);
                // otherwise the service's deployments alone judge it.
                let service_deployment = current
                    .state
                    .deployments
                    .iter()
                    .any(|d| {
                        d.status == "PRIMARY"
                            && match &deployment_id {
                                Some(id) => &d.id == id,
                                None => d.task_definition == task_definition,
                            }
                    })
                    .then(|| current.state.current_service_deployment.clone())
                    .flatten()
                    .map(|arn| RecordOf {
                        arn,
                        task_definition: task_definition.clone(),
                    });
                Started {
                    task_definition,
                    previous_task_definition,
                    deployment_id,
                    service_deployment,
                    history,
                }
            }
        };
        let (baseline, health_checked) = (
            (current.task_definition, current_health_checked),
            request.task_definition.health_checked_containers(),
        );
        let seen_events = current.event_ids;
        let watched = Watched {
            ecs,
            service,
            seen_events,
            baseline,
            health_checked,
            fresh_tasks: false,
            hold_until: delivery.hold_until,
        };
        Ok(self
            .follow_started(watched, started, summary, on_event)
            .await)
    }

    /// How the deployment's ECS calls are retried: from `ECS_POLL_INTERVAL`, for up to `ECS_TIMEOUT` of
    /// failures in a row.
    pub(crate) fn retry(&self) -> Retry {
        Retry {
            first_wait: self.settings.poll_interval,
            give_up_after: self.settings.timeout,
        }
    }

    /// Calls ECS until it answers, backing off while it fails for a reason worth retrying, for up to
    /// `ECS_TIMEOUT` of failures in a row.
    pub(crate) async fn retrying<T, F, Fut>(&self, call: F) -> Result<T, Outcome>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        self.retry().call(call).await
    }
}
