//! `rollback`: an existing revision deployed again without registering anything: the one the `revision`
//! attribute names, or the one recorded as running before the service's current one. It is found and
//! judged by the guard against the one the service runs, the service pointed at it, and the rollout
//! watched.

use std::collections::{BTreeMap, BTreeSet};

use tracing::info;

use crate::decide::message::{Asked, ServiceChange, revision_attribute};
use crate::decide::names::short_arn;
use crate::decide::outcome::Outcome;
use crate::decide::revert::{Step, check, revision, step, superseded_reason, target};
use crate::decide::task_definition::TaskDefinition;
use crate::runtime::actions::message_action::MessageAction;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::{
    Delivery, Deployer, OnMilestone, Summary, Started, Watched, rejected,
};
use crate::runtime::retry::retrying;

/// A `rollback` message: the service it rolls back, and the revision it names, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// The service and the message's other attributes.
    pub change: ServiceChange,
    /// The `revision` attribute: the revision to go back to (`web:12` or an ARN); `None` for the one
    /// recorded as running before the service's current one.
    pub revision: Option<String>,
}

impl MessageAction for Rollback {
    const NAME: &'static str = "rollback";
    const REUSES_REVISION: bool = true;

    fn read(_body: &str, attributes: &BTreeMap<String, String>) -> Result<Self, String> {
        let revision = revision_attribute(attributes)?;
        Ok(Self {
            change: ServiceChange::read(Self::NAME, attributes)?,
            revision,
        })
    }

    fn asked(&self) -> Asked<'_> {
        Asked::ServiceChange(&self.change)
    }

    /// Rolls the service back to the named revision, or to the one recorded as running before the one it
    /// runs; a redelivery watches the rollout an earlier delivery started.
    async fn run(
        &self,
        deployer: &Deployer,
        delivery: &Delivery,
        summary: &mut Summary,
        on_event: OnMilestone<'_>,
    ) -> Result<Outcome, NotAdmitted> {
        let (change, named) = (&self.change, self.revision.as_deref());
        let patience = deployer.settings.timeout;
        let current = deployer.service_of(change).await?;
        let (ecs, service) = (&current.ecs, change.service.as_str());
        let before = current.revision.clone();
        let (started, health_checked, before_health_checked) = match step(
            &current.service.state,
            named,
            delivery.sent_at_ms,
            delivery.redelivered,
        ) {
            Step::Superseded { now } => {
                summary.new_task_definition = named.map(str::to_owned);
                return Ok(Outcome::Superseded {
                    reason: superseded_reason(Self::NAME, &now),
                });
            }
            Step::Watch {
                deployment_id,
                task_definition,
            } => {
                info!(task_definition = %task_definition, deployment = %deployment_id, "resuming: the service was pointed at the revision on an earlier delivery; watching that rollout");
                summary.new_task_definition = Some(task_definition.clone());
                let health_checked = deployer
                    .retrying(|| ecs.task_definition_json(&task_definition))
                    .await
                    .ok()
                    .and_then(|json| TaskDefinition::from_body(&json).ok())
                    .map(|td| td.health_checked_containers())
                    .unwrap_or_default();
                let started = Started::resumed(
                    deployment_id,
                    task_definition,
                    current.service.state.current_service_deployment.clone(),
                );
                (started, health_checked, BTreeSet::new())
            }
            Step::Update => {
                let json = deployer.retrying(|| ecs.task_definition_json(&before)).await?;
                let now = revision(&json).map_err(rejected)?;
                let wanted = target(service, &now, named).map_err(rejected)?.to_owned();
                let target_json = deployer.retrying(|| ecs.task_definition_json(&wanted)).await?;
                let back = revision(&target_json).map_err(rejected)?;
                check(service, &now, &back).map_err(rejected)?;
                summary.previous_task_definition = Some(before.clone());
                summary.new_task_definition = Some(back.arn.clone());
                // The revision gone back to is judged as any message would be, against what runs now.
                let (request, before_health_checked) =
                    deployer.judged(ecs, change, &target_json, &json)?;
                info!(
                    from = short_arn(&before),
                    to = short_arn(&back.arn),
                    "rolling the service back as asked"
                );
                let after = retrying(deployer.settings.poll_interval, patience, || {
                    ecs.update_service(service, &back.arn)
                })
                .await?;
                let started = Started::by_update(
                    back.arn,
                    Some(before.clone()),
                    after.as_ref(),
                    &current.service.state,
                );
                (
                    started,
                    request.task_definition.health_checked_containers(),
                    before_health_checked,
                )
            }
        };
        let watched = Watched {
            ecs,
            service,
            seen_events: current.service.event_ids.clone(),
            baseline: (Some(before), before_health_checked),
            health_checked,
            fresh_tasks: false,
            hold_until: delivery.hold_until,
        };
        Ok(deployer
            .follow_started(watched, started, summary, on_event)
            .await)
    }
}
