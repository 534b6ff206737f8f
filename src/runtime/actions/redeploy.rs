//! `redeploy`: a forced new deployment of the revision the service runs, so every task is replaced and
//! images are pulled again by tag (the body is ignored); done once every running task is one it started
//! and runs what its tag points to in ECR.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::info;

use crate::aws::ecs::Ecs;
use crate::aws::error::AwsError;
use crate::decide::history::History;
use crate::decide::message::{Asked, ServiceChange};
use crate::decide::names::short_arn;
use crate::decide::outcome::Outcome;
use crate::decide::revert::{Step, step, superseded_reason};
use crate::decide::service::ServiceState;
use crate::runtime::actions::message_action::MessageAction;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::{Delivery, Deployer, OnMilestone, Summary, Started, Watched};
use crate::runtime::retry::retrying;

/// A `redeploy` message: the service whose running revision is deployed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeploy(pub ServiceChange);

impl MessageAction for Redeploy {
    const NAME: &'static str = "redeploy";
    const REUSES_REVISION: bool = true;

    fn read(_body: &str, attributes: &BTreeMap<String, String>) -> Result<Self, String> {
        ServiceChange::read(Self::NAME, attributes).map(Self)
    }

    fn asked(&self) -> Asked<'_> {
        Asked::ServiceChange(&self.0)
    }

    /// Redeploys the service; a redelivery watches the deployment its earlier delivery started, and a
    /// message sent before someone else deployed the service is superseded.
    async fn run(
        &self,
        deployer: &Deployer,
        delivery: &Delivery,
        summary: &mut Summary,
        on_event: OnMilestone<'_>,
    ) -> Result<Outcome, NotAdmitted> {
        let change = &self.0;
        let current = deployer.service_of(change).await?;
        let (ecs, service) = (&current.ecs, change.service.as_str());
        let revision = current.revision.clone();
        summary.previous_task_definition = Some(revision.clone());
        summary.new_task_definition = Some(revision.clone());
        let json = deployer
            .retrying(|| ecs.task_definition_json(&revision))
            .await?;
        // What runs is judged as any message would be: the policy may have changed since it was deployed.
        let (_, health_checked) = deployer.judged(ecs, change, &json, &json)?;
        let started = match step(
            &current.service.state,
            None,
            delivery.sent_at_ms,
            delivery.redelivered,
        ) {
            Step::Superseded { now } => {
                return Ok(Outcome::Superseded {
                    reason: superseded_reason(Self::NAME, &now),
                });
            }
            Step::Watch {
                deployment_id,
                task_definition,
            } => {
                info!(task_definition = %task_definition, deployment = %deployment_id, "resuming: the service was pointed at the revision on an earlier delivery; watching that rollout");
                Started::resumed(
                    deployment_id,
                    task_definition,
                    current.service.state.current_service_deployment.clone(),
                )
            }
            Step::Update => {
                info!(
                    task_definition = short_arn(&revision),
                    "forcing a new deployment of the revision the service runs"
                );
                let after = force_once(deployer, ecs, service, &revision, &current.service.state)
                    .await?;
                Started::by_update(
                    revision.clone(),
                    Some(revision.clone()),
                    after.as_ref(),
                    &current.service.state,
                )
            }
        };
        let deployment_id = started.deployment_id.clone();
        let watched = Watched {
            ecs,
            service,
            seen_events: current.service.event_ids.clone(),
            baseline: (None, BTreeSet::new()),
            health_checked,
            fresh_tasks: true,
            hold_until: delivery.hold_until,
        };
        let outcome = deployer
            .follow_started(watched, started, summary, on_event)
            .await;
        if outcome != Outcome::Deployed {
            return Ok(outcome);
        }
        Ok(deployer
            .check_digests(ecs, service, &revision, deployment_id.as_deref())
            .await)
    }
}

/// Forces one new deployment of `revision` on `service`, which `before` shows as it was. A call whose
    /// answer was lost may have started it, and a forced deployment is not idempotent: before trying
    /// again, the service is read, and a deployment of the revision it did not list before is taken for
    /// the one asked for. (A throttled call, which ECS did not carry out, is simply tried again.)
async fn force_once(
        deployer: &Deployer,
        ecs: &Ecs,
        service: &str,
        revision: &str,
        before: &ServiceState,
    ) -> Result<Option<ServiceState>, Outcome> {
        let known = History::after(before.deployments.iter().map(|d| d.id.clone()));
        let known = &known;
        // Whether an attempt failed in a way that leaves open whether ECS carried it out.
        let unsure = &AtomicBool::new(false);
        retrying(deployer.settings.poll_interval, deployer.settings.timeout, || async move {
            if unsure.load(Ordering::Relaxed)
                && let Some(now) = ecs.describe_service(service).await?
                && known.ours(&now.state, None, revision).is_some()
            {
                info!("the forced deployment an earlier attempt asked for was started: not asking again");
                return Ok(Some(now.state));
            }
            ecs.redeploy_service(service, revision)
                .await
                .inspect_err(|e: &AwsError| {
                    if !e.throttled {
                        unsure.store(true, Ordering::Relaxed);
                    }
                })
        })
        .await
    }
