//! ECS's service deployments: reading its own record and verdict of a deployment, and rolling one back
//! while it runs.

use aws_sdk_ecs::types::StopServiceDeploymentStopType;

use crate::aws::ecs::Ecs;
use crate::aws::ecs::shapes::service_deployment_state;
use crate::aws::error::AwsError;
use crate::decide::service::ServiceDeploymentState;

impl Ecs {
    /// The service deployments of `arns` (at most
    /// [`crate::aws::ecs::DESCRIBE_SERVICE_DEPLOYMENTS_BATCH`]) that ECS
    /// knows; ones it does not are left out.
    pub async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> Result<Vec<ServiceDeploymentState>, AwsError> {
        let out = self
            .call("DescribeServiceDeployments", || {
                self.client
                    .describe_service_deployments()
                    .set_service_deployment_arns(Some(arns.to_vec()))
                    .send()
            })
            .await?;
        Ok(out
            .service_deployments()
            .iter()
            .map(service_deployment_state)
            .collect())
    }

    /// The service deployment `arn`, or `None` when ECS does not know it.
    pub async fn describe_service_deployment(
        &self,
        arn: &str,
    ) -> Result<Option<ServiceDeploymentState>, AwsError> {
        Ok(self
            .describe_service_deployments(&[arn.to_owned()])
            .await?
            .into_iter()
            .find(|d| d.arn == arn))
    }

    /// The service deployment `arn` with the task definition of the revision it deploys (left unknown
    /// when the revision cannot be read), or `None` when ECS does not know it.
    pub async fn service_deployment_of_revision(
        &self,
        arn: &str,
    ) -> Result<Option<ServiceDeploymentState>, AwsError> {
        let Some(mut record) = self.describe_service_deployment(arn).await? else {
            return Ok(None);
        };
        if let Some(revision) = record.target_revision.clone() {
            record.target_task_definition = self
                .revision_task_definitions(&[revision])
                .await
                .ok()
                .and_then(|found| found.into_iter().next().map(|(_, td)| td));
        }
        Ok(Some(record))
    }

    /// The task definition of each service revision of `arns` (at most
    /// [`crate::aws::ecs::DESCRIBE_SERVICE_DEPLOYMENTS_BATCH`]) that ECS knows, as (revision, task
    /// definition): what binds a service deployment's record to a rollout.
    pub async fn revision_task_definitions(
        &self,
        arns: &[String],
    ) -> Result<Vec<(String, String)>, AwsError> {
        let out = self
            .call("DescribeServiceRevisions", || {
                self.client
                    .describe_service_revisions()
                    .set_service_revision_arns(Some(arns.to_vec()))
                    .send()
            })
            .await?;
        Ok(out
            .service_revisions()
            .iter()
            .filter_map(|r| {
                Some((
                    r.service_revision_arn()?.to_owned(),
                    r.task_definition()?.to_owned(),
                ))
            })
            .collect())
    }

    /// Asks ECS to roll back the service deployment `arn`, which is still in progress: ECS's own
    /// rollback, which works for every strategy.
    pub async fn roll_back_service_deployment(&self, arn: &str) -> Result<(), AwsError> {
        self.call("StopServiceDeployment", || {
            self.client
                .stop_service_deployment()
                .service_deployment_arn(arn)
                .stop_type(StopServiceDeploymentStopType::Rollback)
                .send()
        })
        .await?;
        Ok(())
    }
}
