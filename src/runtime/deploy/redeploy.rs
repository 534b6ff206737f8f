//! A `redeploy` message carried out: a forced new deployment of the revision the service runs, so every
//! task is replaced and images are pulled again by tag, done once every running task is one it started
//! and runs what its tag points to in ECR.

use std::collections::BTreeSet;

use tracing::info;

use crate::decide::message::ServiceChange;
use crate::decide::names::short_arn;
use crate::decide::outcome::Outcome;
use crate::decide::revert::{Step, step, superseded_reason};
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::started::Started;
use crate::runtime::deploy::{Delivery, Deployer, Milestone, Record, Watched};
use crate::runtime::retry::retrying;

impl Deployer {
    /// Redeploys the service of `change`; a redelivery watches the deployment its earlier delivery
    /// started, and a message sent before someone else deployed the service is superseded.
    pub(super) async fn redeploy(
        &self,
        change: &ServiceChange,
        delivery: &Delivery,
        record: &mut Record,
        on_event: &(dyn Fn(Milestone<'_>) + Send + Sync),
    ) -> Result<Outcome, NotAdmitted> {
        let patience = self.settings.timeout;
        let current = self.service_of(change).await?;
        let (ecs, service) = (&current.ecs, change.service.as_str());
        let revision = current.revision.clone();
        record.previous_task_definition = Some(revision.clone());
        record.new_task_definition = Some(revision.clone());
        let json = self
            .retrying(|| ecs.task_definition_json(&revision))
            .await?;
        // What runs is judged as any message would be: the policy may have changed since it was deployed.
        let (_, health_checked) = self.judged(ecs, change, &json, &json)?;
        let started = match step(
            &current.service.state,
            None,
            delivery.sent_at_ms,
            delivery.redelivered,
        ) {
            Step::Superseded { now } => {
                return Ok(Outcome::Superseded {
                    reason: superseded_reason(&now).replace("rollback", "redeploy"),
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
                let after = retrying(self.settings.poll_interval, patience, || {
                    ecs.redeploy_service(service, &revision)
                })
                .await?;
                Started::by_update(
                    revision.clone(),
                    None,
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
        };
        let outcome = self
            .follow_started(watched, started, record, on_event)
            .await;
        if outcome != Outcome::Deployed {
            return Ok(outcome);
        }
        Ok(self
            .check_digests(ecs, service, &revision, deployment_id.as_deref())
            .await)
    }
}
