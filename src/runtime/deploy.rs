//! One deployment's steps, from a parsed request to the rollout it started: DescribeServices ->
//! RegisterTaskDefinition (tagged with the message id) -> UpdateService, then the watch
//! ([`crate::runtime::watch`]).
//!
//! A redelivered message resumes from what an earlier delivery did (see [`crate::decide::marker`]).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::ecs::Ecs;
use crate::aws::error::AwsError;
use crate::aws::poller::ServicePoller;
use crate::decide::marker::{self, Plan};
use crate::decide::message::{DeploymentRequest, Target};
use crate::decide::names::short_arn;
use crate::decide::outcome::Outcome;
use crate::decide::rollout::Goal;
use crate::runtime::retry;
use crate::runtime::watch::{Settings, Watch};

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
    async fn retrying<T, F, Fut>(&self, deadline: Instant, call: F) -> Result<T, Outcome>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        retry::retrying(self.settings.poll_interval, deadline, call).await
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
        let goal = Goal {
            deployment_id: started.deployment_id,
            previous_task_definition: started.previous_task_definition.filter(|p| *p != arn),
            task_definition: arn,
            health_checked: request.task_definition.health_checked_containers(),
        };
        Watch::new(&self.ecs, &self.poller, service, seen_events, self.settings)
            .to_outcome(goal)
            .await
    }
}
