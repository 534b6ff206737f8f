//! Messages about a service that are resolved against what it runs: the guard's attribute rules before any
//! call to ECS, then the service and its revision, and a revision judged against the one it replaces.

use std::collections::BTreeSet;

use crate::aws::ecs::{CurrentService, Ecs};
use crate::decide::guard::Attributes;
use crate::decide::message::{DeploymentRequest, ServiceChange, Target};
use crate::decide::outcome::Outcome;
use crate::decide::task_definition::TaskDefinition;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::Deployer;

/// A service a message changes, as it is now.
pub(crate) struct Current {
    /// ECS in the service's cluster.
    pub(crate) ecs: Ecs,
    /// The service.
    pub(crate) service: CurrentService,
    /// The revision it runs.
    pub(crate) revision: String,
}

/// A rejection with `reason`.
pub(crate) fn rejected(reason: String) -> NotAdmitted {
    NotAdmitted::from(Outcome::Rejected { reason })
}

impl Deployer {
    /// The service `change` is about, once the guard's attribute rules allow the message (before any call
    /// to ECS); a service that is missing, cannot be deployed or runs nothing rejects the message.
    pub(crate) async fn service_of(&self, change: &ServiceChange) -> Result<Current, NotAdmitted> {
        let cluster = self.cluster_of(change.cluster.as_deref());
        let target = Target::Service(change.service.clone());
        self.guard.attributes(
            &Attributes {
                target: &target,
                commit_url: change.commit_url.as_deref(),
                reply_to: change.reply_to.as_deref(),
                family: None,
            },
            cluster,
        )?;
        let ecs = self.ecs_in(cluster);
        let service = self
            .retrying(|| ecs.describe_service(&change.service))
            .await?;
        let Some(service) = service else {
            return Err(rejected(format!(
                "service '{}' not found in cluster '{cluster}'",
                change.service
            )));
        };
        if let Some(reason) = service.state.not_deployable(&change.service, cluster) {
            return Err(rejected(reason));
        }
        let Some(revision) = service.task_definition.clone() else {
            return Err(rejected(format!(
                "service '{}' runs no task definition",
                change.service
            )));
        };
        Ok(Current {
            ecs,
            service,
            revision,
        })
    }

    /// The revision described by `revision_json` as the deployment of `change`, judged by the guard
    /// against the one the service runs (`current_json`, already read); gives the request and the current
    /// revision's health-checked containers.
    pub(crate) fn judged(
        &self,
        ecs: &Ecs,
        change: &ServiceChange,
        revision_json: &str,
        current_json: &str,
    ) -> Result<(DeploymentRequest, BTreeSet<String>), NotAdmitted> {
        let request = change.deploying(TaskDefinition::from_body(revision_json).map_err(rejected)?);
        let health_checked = self.guard.against(ecs, &request, Some(current_json))?;
        Ok((request, health_checked))
    }
}
