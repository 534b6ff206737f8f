//! The simulated ECS control plane: clusters, task definitions, services, deployments and tasks, and how each
//! is rendered in the shape the ECS API reference gives it.

use std::collections::{BTreeMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::behaviour::Behaviour;
use crate::configuration::DeploymentConfiguration;
use crate::lag::Lag;
use crate::service_deployment::{ServiceDeployment, ServiceRevision};

/// How many service events ECS keeps (newest first).
const MAX_EVENTS: usize = 100;
/// Container instances per cluster unless configured otherwise.
pub const DEFAULT_INSTANCES: u32 = 3;

/// Where and as whom the simulated ECS runs; only used to build ARNs.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The region in every ARN.
    pub region: String,
    /// The account id in every ARN.
    pub account_id: String,
}

impl Identity {
    /// The ARN of an ECS resource, e.g. `cluster/default`.
    pub fn arn(&self, resource: &str) -> String {
        format!("arn:aws:ecs:{}:{}:{resource}", self.region, self.account_id)
    }
}

/// The whole simulated control plane.
#[derive(Debug)]
pub struct State {
    /// Region and account for ARNs.
    pub identity: Identity,
    /// Simulated seconds since the simulator started; the rollout engine advances it once per tick.
    pub now: u64,
    /// Clusters by name.
    pub clusters: BTreeMap<String, Cluster>,
    /// Task definition revisions by family, revision 1 first.
    pub families: BTreeMap<String, Vec<TaskDefinition>>,
    /// Past states of the clusters that reads may see, when reads are eventually consistent.
    pub lag: Option<Lag>,
    /// CloudWatch alarms by name, `true` while in ALARM (`POST /_sim/alarms`).
    pub alarms: BTreeMap<String, bool>,
    /// What each Lambda function answers a lifecycle hook with, by ARN (`POST /_sim/lambda`):
    /// SUCCEEDED (the default), FAILED or IN_PROGRESS.
    pub lambdas: BTreeMap<String, String>,
    /// Container instances in every cluster, which a DAEMON service runs one task on each of.
    pub instances: u32,
    /// Whether an ECR endpoint resolves ECR images' tags (see [`crate::registry`]); otherwise their
    /// digests are stable digests of their names.
    pub registry: bool,
}

impl State {
    /// An empty control plane.
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            now: 0,
            clusters: BTreeMap::new(),
            families: BTreeMap::new(),
            lag: None,
            alarms: BTreeMap::new(),
            lambdas: BTreeMap::new(),
            instances: DEFAULT_INSTANCES,
            registry: false,
        }
    }
}

/// The revision named by a task definition ARN (or `family:revision`) among `families`.
pub fn find_task_definition<'a>(
    families: &'a BTreeMap<String, Vec<TaskDefinition>>,
    arn: &str,
) -> Option<&'a TaskDefinition> {
    let (family, index) = split_revision(arn.rsplit('/').next()?)?;
    families.get(family)?.get(index)
}

/// Splits `family:revision` into the family and the index of that revision in the family's list
/// (revision 1 is index 0); `None` without a colon or with a revision that is not a number from 1.
pub fn split_revision(name: &str) -> Option<(&str, usize)> {
    let (family, revision) = name.split_once(':')?;
    let index = revision.parse::<usize>().ok()?.checked_sub(1)?;
    Some((family, index))
}

/// An ECS cluster with the services and tasks in it.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The cluster's name.
    pub name: String,
    /// The cluster's ARN.
    pub arn: String,
    /// Resource tags, as `{"key", "value"}` objects.
    pub tags: Vec<Value>,
    /// Members of the CreateCluster request that DescribeClusters echoes (settings, configuration, ...).
    pub extra: Map<String, Value>,
    /// Services by name, including DRAINING and INACTIVE ones.
    pub services: BTreeMap<String, Service>,
    /// Tasks by id; stopped tasks stay for an hour of simulated time, as in ECS.
    pub tasks: BTreeMap<String, Task>,
}

impl Cluster {
    /// Renders the cluster as DescribeClusters returns it.
    pub fn render(&self, include_tags: bool) -> Value {
        let running = self
            .tasks
            .values()
            .filter(|t| t.last_status == TaskStatus::Running)
            .count();
        let pending = self.tasks.values().filter(|t| t.is_pending()).count();
        let active_services = self
            .services
            .values()
            .filter(|s| s.status == ServiceStatus::Active)
            .count();
        let mut out = json!({
            "clusterArn": self.arn,
            "clusterName": self.name,
            "status": "ACTIVE",
            "registeredContainerInstancesCount": 0,
            "runningTasksCount": running,
            "pendingTasksCount": pending,
            "activeServicesCount": active_services,
            "statistics": [],
            "settings": [],
            "capacityProviders": [],
            "defaultCapacityProviderStrategy": [],
        });
        merge(&mut out, &self.extra);
        if include_tags {
            out["tags"] = Value::Array(self.tags.clone());
        }
        out
    }
}

/// One revision of a task definition.
#[derive(Debug)]
pub struct TaskDefinition {
    /// `arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION`.
    pub arn: String,
    /// The family it belongs to.
    pub family: String,
    /// Its revision within the family, from 1.
    pub revision: u32,
    /// Every member that was registered, the defaults ECS fills in, and the read-only members ECS adds;
    /// `status` and `deregisteredAt` are kept up to date here.
    pub description: Map<String, Value>,
    /// Resource tags.
    pub tags: Vec<Value>,
    /// False once deregistered (status INACTIVE).
    pub active: bool,
    /// What its tasks do (docker label `ecs-sim.behaviour`).
    pub behaviour: Behaviour,
}

impl TaskDefinition {
    /// The container definitions' name, image and whether they have a health check.
    pub fn containers(&self) -> Vec<ContainerSpec> {
        self.description
            .get("containerDefinitions")
            .and_then(Value::as_array)
            .map(|defs| {
                defs.iter()
                    .map(|def| ContainerSpec {
                        name: str_of(def, "name").to_owned(),
                        image: str_of(def, "image").to_owned(),
                        health_check: def.get("healthCheck").is_some(),
                        consistent: str_of(def, "versionConsistency") != "disabled",
                        digest: None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What a task needs to know of one container definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// The container's name.
    pub name: String,
    /// The image it runs.
    pub image: String,
    /// Whether it has a health check (its task is HEALTHY only once the check passes).
    pub health_check: bool,
    /// Whether its tag is resolved once per service deployment (`versionConsistency` not `disabled`)
    /// rather than by each task.
    pub consistent: bool,
    /// The image digest it runs, once known (see [`crate::registry`]).
    pub digest: Option<String>,
}

/// ACTIVE, DRAINING (being deleted) or INACTIVE (deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    /// Running normally.
    Active,
    /// Deleted; its tasks are being stopped.
    Draining,
    /// Deleted and drained.
    Inactive,
}

impl ServiceStatus {
    /// The status as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Draining => "DRAINING",
            Self::Inactive => "INACTIVE",
        }
    }
}

/// An ECS service.
#[derive(Debug, Clone)]
pub struct Service {
    /// The service's name.
    pub name: String,
    /// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`.
    pub arn: String,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: ServiceStatus,
    /// How many tasks the service should run.
    pub desired_count: u32,
    /// How its deployments go.
    pub deployment_configuration: DeploymentConfiguration,
    /// Deployments, the PRIMARY (newest) first.
    pub deployments: Vec<Deployment>,
    /// The task definition of the last deployment that reached COMPLETED: where a rollback goes.
    pub last_completed: Option<String>,
    /// The service revision of that deployment.
    pub last_completed_revision: Option<String>,
    /// Its service revisions, oldest first.
    pub revisions: Vec<ServiceRevision>,
    /// Its service deployments, newest first.
    pub service_deployments: Vec<ServiceDeployment>,
    /// REPLICA, or DAEMON: one task on each container instance.
    pub daemon: bool,
    /// Service events, newest first, at most [`MAX_EVENTS`].
    pub events: VecDeque<Value>,
    /// Request members that DescribeServices echoes as they were given (networkConfiguration, ...).
    pub extra: Map<String, Value>,
    /// Resource tags.
    pub tags: Vec<Value>,
    /// The launch type given at creation, which tasks and deployments carry.
    pub launch_type: Option<String>,
    /// When it was created (epoch seconds).
    pub created_at: f64,
    /// Simulated second of the last "unable to place a task" event, so it is repeated only now and then.
    pub last_placement_event: Option<u64>,
    /// `deploymentController.type`: ECS (rolling updates, simulated), CODE_DEPLOY or EXTERNAL (task sets,
    /// not simulated: such a service runs nothing).
    pub controller: String,
    /// The task definition a CODE_DEPLOY or EXTERNAL service was created with.
    pub task_set_definition: Option<String>,
}

impl Service {
    /// Adds an event, newest first, keeping the newest [`MAX_EVENTS`].
    pub fn event(&mut self, message: String) {
        self.events.push_front(json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "createdAt": epoch_now(),
            "message": message,
        }));
        self.events.truncate(MAX_EVENTS);
    }

    /// The PRIMARY deployment.
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.first()
    }

    /// Renders the service as DescribeServices returns it; counts come from the cluster's tasks.
    pub fn render(&self, cluster: &Cluster, include_tags: bool) -> Value {
        let deployments: Vec<Value> = self
            .deployments
            .iter()
            .enumerate()
            .map(|(i, d)| d.render(i == 0, cluster))
            .collect();
        let (running, pending) = self
            .deployments
            .iter()
            .map(|d| d.counts(cluster))
            .fold((0, 0), |(r, p), (dr, dp)| (r + dr, p + dp));
        let mut out = json!({
            "serviceArn": self.arn,
            "serviceName": self.name,
            "clusterArn": cluster.arn,
            "loadBalancers": [],
            "serviceRegistries": [],
            "status": self.status.as_str(),
            "desiredCount": self.desired_count,
            "runningCount": running,
            "pendingCount": pending,
        });
        if let Some(launch_type) = &self.launch_type {
            out["launchType"] = json!(launch_type);
        }
        if let Some(current) = self.service_deployments.first() {
            out["currentServiceDeployment"] = json!(current.arn);
        }
        if let Some(task_definition) = self
            .primary()
            .map(|d| &d.task_definition)
            .or(self.task_set_definition.as_ref())
        {
            out["taskDefinition"] = json!(task_definition);
        }
        merge(
            &mut out,
            &json_map(json!({
                "deploymentConfiguration": self.deployment_configuration.render(),
                "deployments": deployments,
                "events": self.events,
                "createdAt": self.created_at,
                "placementConstraints": [],
                "placementStrategy": [],
                "schedulingStrategy": if self.daemon { "DAEMON" } else { "REPLICA" },
                "deploymentController": {"type": self.controller},
                "enableECSManagedTags": false,
                "propagateTags": "NONE",
                "enableExecuteCommand": false,
            })),
        );
        merge(&mut out, &self.extra);
        if include_tags {
            out["tags"] = Value::Array(self.tags.clone());
        }
        out
    }
}

/// IN_PROGRESS, COMPLETED or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutState {
    /// Tasks are being replaced.
    InProgress,
    /// All desired tasks run the deployment's task definition and no other deployment has tasks.
    Completed,
    /// The circuit breaker stopped the rollout.
    Failed,
}

impl RolloutState {
    /// The state as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }
}

/// One deployment of a service: a task definition being rolled out or drained.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// `ecs-svc/<19 digits>`; tasks carry it in `startedBy`.
    pub id: String,
    /// The task definition ARN it runs.
    pub task_definition: String,
    /// The service revision it runs.
    pub revision: String,
    /// Simulated second since which it has run steadily (all desired tasks healthy, alone), while it
    /// bakes under deployment alarms before COMPLETED.
    pub steady_since: Option<u64>,
    /// How many tasks it should run (the service's for the PRIMARY; shrinking for the others).
    pub desired_count: u32,
    /// Tasks of this deployment that failed (stopped without being asked to).
    pub failed_tasks: u32,
    /// Where the rollout stands.
    pub rollout_state: RolloutState,
    /// Why it stands there.
    pub rollout_state_reason: String,
    /// When it was created (epoch seconds).
    pub created_at: f64,
    /// When it last changed (epoch seconds).
    pub updated_at: f64,
    /// The service's launch type, if any.
    pub launch_type: Option<String>,
    /// The service's network configuration at the time, if any.
    pub network_configuration: Option<Value>,
}

impl Deployment {
    /// A new IN_PROGRESS deployment.
    pub fn new(
        task_definition: String,
        revision: String,
        desired_count: u32,
        service: &Service,
    ) -> Self {
        let id = format!(
            "ecs-svc/{:019}",
            uuid::Uuid::new_v4().as_u128() % 10_u128.pow(19)
        );
        let now = epoch_now();
        Self {
            rollout_state_reason: format!("ECS deployment {id} in progress."),
            id,
            task_definition,
            revision,
            steady_since: None,
            desired_count,
            failed_tasks: 0,
            rollout_state: RolloutState::InProgress,
            created_at: now,
            updated_at: now,
            launch_type: service.launch_type.clone(),
            network_configuration: service.extra.get("networkConfiguration").cloned(),
        }
    }

    /// Moves the rollout to `state` for `reason`.
    pub fn set_rollout(&mut self, state: RolloutState, reason: String) {
        self.rollout_state = state;
        self.rollout_state_reason = reason;
        self.updated_at = epoch_now();
    }

    /// (running, pending) tasks of this deployment.
    pub fn counts(&self, cluster: &Cluster) -> (u32, u32) {
        cluster
            .tasks
            .values()
            .filter(|t| t.deployment_id == self.id)
            .fold((0, 0), |(r, p), t| {
                (
                    r + u32::from(t.last_status == TaskStatus::Running),
                    p + u32::from(t.is_pending()),
                )
            })
    }

    fn render(&self, primary: bool, cluster: &Cluster) -> Value {
        let (running, pending) = self.counts(cluster);
        let mut out = json!({
            "id": self.id,
            "status": if primary { "PRIMARY" } else { "ACTIVE" },
            "taskDefinition": self.task_definition,
            "desiredCount": self.desired_count,
            "pendingCount": pending,
            "runningCount": running,
            "failedTasks": self.failed_tasks,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "rolloutState": self.rollout_state.as_str(),
            "rolloutStateReason": self.rollout_state_reason,
        });
        if let Some(launch_type) = &self.launch_type {
            out["launchType"] = json!(launch_type);
        }
        if let Some(network) = &self.network_configuration {
            out["networkConfiguration"] = network.clone();
        }
        out
    }
}

/// A task's lastStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskStatus {
    /// Resources are being provisioned.
    Provisioning,
    /// Images are being pulled and containers created.
    Pending,
    /// Containers are running.
    Running,
    /// Containers are being stopped.
    Stopping,
    /// Resources are being released.
    Deprovisioning,
    /// Gone.
    Stopped,
}

impl TaskStatus {
    /// The status as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "PROVISIONING",
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Stopping => "STOPPING",
            Self::Deprovisioning => "DEPROVISIONING",
            Self::Stopped => "STOPPED",
        }
    }
}

/// A task's healthStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// No health check, or none has passed yet.
    Unknown,
    /// Every container health check passes.
    Healthy,
    /// A container health check fails.
    Unhealthy,
}

impl Health {
    /// The status as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "UNKNOWN",
            Self::Healthy => "HEALTHY",
            Self::Unhealthy => "UNHEALTHY",
        }
    }
}

/// One task started by a service.
#[derive(Debug, Clone)]
pub struct Task {
    /// 32 hex digits, the last part of its ARN.
    pub id: String,
    /// `arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID`.
    pub arn: String,
    /// The task definition it runs.
    pub task_definition: String,
    /// The family of that task definition (ListTasks filters by it).
    pub family: String,
    /// The deployment that started it (`startedBy`).
    pub deployment_id: String,
    /// The service revision of that deployment, whose image digests it runs.
    pub revision: String,
    /// Why its image could not be pulled, if so: it stops instead of starting.
    pub pull_error: Option<String>,
    /// The service that owns it.
    pub service: String,
    /// lastStatus.
    pub last_status: TaskStatus,
    /// False once it has been asked to stop (desiredStatus STOPPED).
    pub desired_running: bool,
    /// healthStatus.
    pub health: Health,
    /// Stayed up past the settle time (and passed its health check, if it has one): only then does it
    /// count as healthy, so a task that crashes soon after RUNNING never replaces an old one.
    pub settled: bool,
    /// What it does once started.
    pub behaviour: Behaviour,
    /// Simulated second at which it entered its lastStatus.
    pub status_since: u64,
    /// Simulated second at which it stopped, to forget it an hour later.
    pub stopped_since: Option<u64>,
    /// Its containers.
    pub containers: Vec<ContainerSpec>,
    /// Epoch seconds of createdAt, startedAt, stoppingAt, stoppedAt.
    pub created_at: f64,
    /// When it reached RUNNING.
    pub started_at: Option<f64>,
    /// When it was asked to stop.
    pub stopping_at: Option<f64>,
    /// When it reached STOPPED.
    pub stopped_at: Option<f64>,
    /// Why it stopped, as ECS words it.
    pub stopped_reason: Option<String>,
    /// ECS's stopCode.
    pub stop_code: Option<&'static str>,
    /// Exit code of its essential container once stopped.
    pub exit_code: Option<i32>,
    /// The launch type of its service, if any.
    pub launch_type: Option<String>,
    /// Task-level cpu and memory of its task definition, if any.
    pub cpu: Option<String>,
    /// Task-level memory.
    pub memory: Option<String>,
}

impl Task {
    /// PROVISIONING or PENDING while still wanted: what ECS counts as pending.
    pub fn is_pending(&self) -> bool {
        self.desired_running
            && matches!(
                self.last_status,
                TaskStatus::Provisioning | TaskStatus::Pending
            )
    }

    /// Whether it counts as healthy for minimumHealthyPercent and completion: running, wanted, settled.
    pub fn is_healthy(&self) -> bool {
        self.desired_running
            && self.last_status == TaskStatus::Running
            && self.settled
            && self.health != Health::Unhealthy
    }

    /// Asks the task to stop.
    pub fn stop(&mut self, reason: String, code: &'static str, exit_code: i32) {
        if !self.desired_running {
            return;
        }
        self.desired_running = false;
        self.stopping_at = Some(epoch_now());
        self.stopped_reason = Some(reason);
        self.stop_code = Some(code);
        self.exit_code = Some(exit_code);
    }

    /// Renders the task as DescribeTasks returns it.
    pub fn render(&self, cluster_arn: &str) -> Value {
        let container_status = match self.last_status {
            TaskStatus::Provisioning | TaskStatus::Pending => "PENDING",
            TaskStatus::Running => "RUNNING",
            _ => "STOPPED",
        };
        let containers: Vec<Value> = self
            .containers
            .iter()
            .map(|c| {
                let mut out = json!({
                    "containerArn": format!("{}/{}", self.arn.replace(":task/", ":container/"), c.name),
                    "taskArn": self.arn,
                    "name": c.name,
                    "image": c.image,
                    "lastStatus": container_status,
                    "healthStatus": if c.health_check { self.health.as_str() } else { "UNKNOWN" },
                });
                if let Some(digest) = &c.digest {
                    out["imageDigest"] = json!(digest);
                }
                if self.last_status == TaskStatus::Stopped
                    && let Some(code) = self.exit_code
                {
                    out["exitCode"] = json!(code);
                }
                out
            })
            .collect();
        let mut out = json!({
            "taskArn": self.arn,
            "clusterArn": cluster_arn,
            "taskDefinitionArn": self.task_definition,
            "lastStatus": self.last_status.as_str(),
            "desiredStatus": if self.desired_running { "RUNNING" } else { "STOPPED" },
            "healthStatus": self.health.as_str(),
            "startedBy": self.deployment_id,
            "group": format!("service:{}", self.service),
            "createdAt": self.created_at,
            "containers": containers,
            "version": 1,
            "attachments": [],
            "tags": [],
        });
        for (name, value) in [
            ("startedAt", self.started_at),
            ("stoppingAt", self.stopping_at),
            ("stoppedAt", self.stopped_at),
        ] {
            if let Some(v) = value {
                out[name] = json!(v);
            }
        }
        if let Some(reason) = &self.stopped_reason {
            out["stoppedReason"] = json!(reason);
        }
        if let Some(code) = self.stop_code {
            out["stopCode"] = json!(code);
        }
        for (name, value) in [
            ("launchType", &self.launch_type),
            ("cpu", &self.cpu),
            ("memory", &self.memory),
        ] {
            if let Some(v) = value {
                out[name] = json!(v);
            }
        }
        out
    }
}

/// Seconds since the epoch with fractions: the JSON protocol's timestamp.
pub fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(0.0)
}

/// A string member, or "" when absent.
pub fn str_of<'a>(value: &'a Value, member: &str) -> &'a str {
    value.get(member).and_then(Value::as_str).unwrap_or("")
}

/// A non-negative integer member that fits u32.
pub fn u32_of(value: &Value, member: &str) -> Option<u32> {
    value
        .get(member)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// Adds every member of `extra` to the object `out`, replacing members of the same name.
pub fn merge(out: &mut Value, extra: &Map<String, Value>) {
    if let Some(object) = out.as_object_mut() {
        for (k, v) in extra {
            object.insert(k.clone(), v.clone());
        }
    }
}

/// The members of a JSON object (empty for anything else).
pub fn json_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
