//! One-off tasks: started with RunTask in a service's own placement (network, launch type or capacity
//! providers, platform version), idempotently by a client token, and read back as they run and stop.

use aws_sdk_ecs::types::{ContainerOverride, Service, TaskOverride};

use crate::aws::ecs::Ecs;
use crate::aws::error::AwsError;
use crate::decide::one_off::{OneOff, TaskEnd};

/// How a service's tasks are placed, which a one-off task of the service copies.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// The service's network configuration (awsvpc subnets, security groups, public IP).
    network: Option<aws_sdk_ecs::types::NetworkConfiguration>,
    /// Its launch type, when it has one rather than a capacity provider strategy.
    launch_type: Option<aws_sdk_ecs::types::LaunchType>,
    /// Its capacity provider strategy.
    capacity: Vec<aws_sdk_ecs::types::CapacityProviderStrategyItem>,
    /// Its platform version (Fargate).
    platform_version: Option<String>,
}

impl Placement {
    /// The placement of a described service.
    pub fn of(service: &Service) -> Self {
        Self {
            network: service.network_configuration().cloned(),
            launch_type: service.launch_type().cloned(),
            capacity: service.capacity_provider_strategy().to_vec(),
            platform_version: service.platform_version().map(str::to_owned),
        }
    }
}

/// One one-off task to start.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    /// The revision it runs.
    pub task_definition: &'a str,
    /// The container and the command it runs.
    pub one_off: &'a OneOff,
    /// Its `startedBy`, which ListTasks finds it by.
    pub started_by: &'a str,
    /// The client token that makes a second start of the same task start nothing.
    pub client_token: &'a str,
}

impl Ecs {
    /// How `service`'s tasks are placed, or `None` when the cluster has no such service.
    pub async fn placement(&self, service: &str) -> Result<Option<Placement>, AwsError> {
        let found = self.describe_services(&[service.to_owned()]).await?;
        Ok(found.first().map(Placement::of))
    }

    /// Starts the one-off task `start` placed as `placement`; gives its ARN. A start with a client token
    /// used before in the cluster gives the task that one started.
    pub async fn run_one_off(
        &self,
        start: Start<'_>,
        placement: &Placement,
    ) -> Result<String, AwsError> {
        let overrides = TaskOverride::builder()
            .container_overrides(
                ContainerOverride::builder()
                    .name(&start.one_off.container)
                    .set_command(Some(start.one_off.command.clone()))
                    .build(),
            )
            .build();
        let out = self
            .call("RunTask", || {
                self.client
                    .run_task()
                    .cluster(&self.cluster)
                    .task_definition(start.task_definition)
                    .count(1)
                    .started_by(start.started_by)
                    .client_token(start.client_token)
                    .overrides(overrides.clone())
                    .set_network_configuration(placement.network.clone())
                    .set_launch_type(
                        placement
                            .launch_type
                            .clone()
                            .filter(|_| placement.capacity.is_empty()),
                    )
                    .set_capacity_provider_strategy(
                        (!placement.capacity.is_empty()).then(|| placement.capacity.clone()),
                    )
                    .set_platform_version(placement.platform_version.clone())
                    .send()
            })
            .await?;
        if let Some(failure) = out.failures().first() {
            // Placement failures (no capacity of the kind asked for) may pass: worth trying again.
            return Err(AwsError::unexpected(
                "RunTask",
                &format!(
                    "ECS could not place the task: {} {}",
                    failure.reason().unwrap_or_default(),
                    failure.detail().unwrap_or_default()
                ),
            ));
        }
        out.tasks()
            .first()
            .and_then(|t| t.task_arn())
            .map(str::to_owned)
            .ok_or_else(|| AwsError::unexpected("RunTask", "ECS answered without a task"))
    }

    /// The one-off task `task_arn` as it is now, or `None` when ECS no longer has it.
    pub async fn one_off_end(&self, task_arn: &str) -> Result<Option<TaskEnd>, AwsError> {
        let described = self.describe(&[task_arn.to_owned()]).await?;
        Ok(described.first().map(|t| TaskEnd {
            last_status: t.last_status().unwrap_or_default().to_owned(),
            stop_code: t.stop_code().map(|c| c.as_str().to_owned()),
            stopped_reason: t.stopped_reason().map(str::to_owned),
            containers: t
                .containers()
                .iter()
                .map(|c| {
                    (
                        c.name().unwrap_or_default().to_owned(),
                        c.exit_code(),
                        c.reason().map(str::to_owned),
                    )
                })
                .collect(),
        }))
    }

    /// Asks ECS to stop the task `task_arn`, saying `reason`.
    pub async fn stop_task(&self, task_arn: &str, reason: &str) -> Result<(), AwsError> {
        self.call("StopTask", || {
            self.client
                .stop_task()
                .cluster(&self.cluster)
                .task(task_arn)
                .reason(reason)
                .send()
        })
        .await?;
        Ok(())
    }
}
