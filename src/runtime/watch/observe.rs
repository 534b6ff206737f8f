//! One reading of a watched rollout: the service at the poller's next tick, ECS's record of its service
//! deployment when it is the rollout's, and the running tasks once ECS says the deployment is done.

use crate::aws::ecs::{service_events, service_state};
use crate::aws::error::AwsError;
use crate::decide::history::History;
use crate::decide::rollout::{Goal, Observation, bound_record, looks_settled, needs_tasks};
use crate::decide::service::ServiceDeploymentState;
use crate::runtime::watch::Watch;

impl Watch<'_> {
    /// The service at the poller's next tick, with its running tasks once ECS says the rollout is done.
    pub(super) async fn observe(
        &mut self,
        goal: &Goal,
        history: &History,
    ) -> Result<Observation, AwsError> {
        let every_poll = goal
            .service_deployment
            .as_ref()
            .map(|r| r.arn.as_str())
            .filter(|_| self.record_every_poll);
        let observed = self
            .poller
            .next(self.ecs.cluster(), self.service, every_poll)
            .await?;
        let Some(described) = observed.service else {
            return Ok(Observation::default());
        };
        self.report_events(service_events(&described));
        let mut observation = Observation {
            service: Some(service_state(&described)),
            tasks: None,
            deployment: observed.deployment,
        };
        // A record's revision never changes: what it deploys, once read, needs no reading again.
        if let Some(record) = &observation.deployment
            && let Some(td) = &record.target_task_definition
        {
            self.revisions.insert(record.arn.clone(), td.clone());
        }
        self.record_every_poll = observation
            .service
            .as_ref()
            .is_some_and(|s| s.record_every_poll());
        if let Some(of) = &goal.service_deployment
            && every_poll.is_none()
            && looks_settled(&observation, goal, history)
        {
            // A rolling deployment's record is read once the service shows it settled; a record that
            // cannot be read leaves the service's deployments to judge, as the poller does.
            observation.deployment = match self.revisions.get(&of.arn) {
                Some(td) => self
                    .ecs
                    .describe_service_deployment(&of.arn)
                    .await
                    .ok()
                    .flatten()
                    .map(|record| ServiceDeploymentState {
                        target_task_definition: Some(td.clone()),
                        ..record
                    }),
                None => self
                    .ecs
                    .service_deployment_of_revision(&of.arn)
                    .await
                    .ok()
                    .flatten(),
            };
        }
        // With ECS's record, the record decides: the tasks are read only for detail, once it said so.
        if bound_record(&observation, goal).is_none() && needs_tasks(&observation, goal, history) {
            observation.tasks = Some(self.ecs.running_tasks(self.service).await?);
        }
        Ok(observation)
    }
}
