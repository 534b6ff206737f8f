//! A service, its deployments and its tasks as ECS shows them, in plain types that the decisions read.

/// A service as DescribeServices shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceState {
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
    /// How many tasks the service should run.
    pub desired_count: i32,
    /// The service's deployments, PRIMARY first as ECS lists them.
    pub deployments: Vec<DeploymentState>,
}

/// One deployment of a service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentState {
    /// The deployment id (`ecs-svc/...`).
    pub id: String,
    /// PRIMARY, ACTIVE or INACTIVE.
    pub status: String,
    /// The task definition ARN the deployment runs.
    pub task_definition: String,
    /// IN_PROGRESS, COMPLETED or FAILED; absent for services that do not use the rolling update
    /// deployment controller.
    pub rollout_state: Option<String>,
    /// Why the rollout state is what it is, as ECS words it.
    pub rollout_state_reason: Option<String>,
    /// Tasks of this deployment that are RUNNING.
    pub running_count: i32,
    /// Tasks of this deployment that are PENDING.
    pub pending_count: i32,
    /// Tasks of this deployment that failed to start, as counted by the circuit breaker.
    pub failed_tasks: i32,
    /// When ECS created it (milliseconds since the epoch), when it says: which of two deployments is newer.
    pub created_at_ms: Option<i64>,
}

/// One task of the service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskState {
    /// The task ARN.
    pub arn: String,
    /// The task definition the task runs.
    pub task_definition: String,
    /// PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, ...
    pub last_status: String,
    /// Health of each container, by container name (HEALTHY, UNHEALTHY or UNKNOWN).
    pub container_health: Vec<(String, String)>,
}
