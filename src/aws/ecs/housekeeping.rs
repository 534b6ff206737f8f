//! What housekeeping reads and does in ECS: a family's ACTIVE revisions, the revisions the cluster's
//! services run, and deregistration; every listing read for a bounded number of pages.

use std::collections::BTreeSet;

use aws_sdk_ecs::types::{SortOrder, TaskDefinitionStatus};

use crate::aws::ecs::{DESCRIBE_SERVICES_BATCH, Ecs};
use crate::aws::error::AwsError;

/// The most services of a cluster read to find the revisions they run: 20 pages of 100.
pub const MAX_SERVICES: usize = 2000;

impl Ecs {
    /// Up to `max` (at most 100) of the family's ACTIVE revisions, newest first.
    pub async fn active_revisions(&self, family: &str, max: i32) -> Result<Vec<String>, AwsError> {
        let out = self
            .call("ListTaskDefinitions", || {
                self.client
                    .list_task_definitions()
                    .family_prefix(family)
                    .status(TaskDefinitionStatus::Active)
                    .sort(SortOrder::Desc)
                    .max_results(max.clamp(1, 100))
                    .send()
            })
            .await?;
        Ok(out.task_definition_arns().to_vec())
    }

    /// The revisions every service of the cluster runs in any of its deployments, and the PRIMARY one of
    /// each; `None` when the cluster has more than `MAX_SERVICES` services.
    pub async fn revisions_in_use(
        &self,
    ) -> Result<Option<(BTreeSet<String>, Vec<String>)>, AwsError> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call("ListServices", || {
                    self.client
                        .list_services()
                        .cluster(&self.cluster)
                        .max_results(100)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            names.extend(page.service_arns().iter().cloned());
            if names.len() > MAX_SERVICES {
                return Ok(None);
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        let mut in_use = BTreeSet::new();
        let mut primaries = Vec::new();
        for batch in names.chunks(DESCRIBE_SERVICES_BATCH) {
            for service in self.describe_services(batch).await? {
                for deployment in service.deployments() {
                    if let Some(td) = deployment.task_definition() {
                        in_use.insert(td.to_owned());
                        if deployment.status() == Some("PRIMARY") {
                            primaries.push(td.to_owned());
                        }
                    }
                }
                in_use.extend(service.task_definition().map(str::to_owned));
            }
        }
        Ok(Some((in_use, primaries)))
    }

    /// Deregisters a revision: it becomes INACTIVE, which running tasks and services keep running.
    pub async fn deregister(&self, task_definition: &str) -> Result<(), AwsError> {
        self.call("DeregisterTaskDefinition", || {
            self.client
                .deregister_task_definition()
                .task_definition(task_definition)
                .send()
        })
        .await?;
        Ok(())
    }
}
