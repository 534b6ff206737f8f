//! A service's task: its lifecycle status, health and containers, rendered as DescribeTasks gives it.

use serde_json::{Value, json};

use crate::behaviour::Behaviour;
use crate::json::epoch_now;
use crate::logs::AwsLogs;

/// One container of a task: what its definition says, and how it is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// The container's name.
    pub name: String,
    /// The image it runs.
    pub image: String,
    /// Whether it has a health check.
    pub health_check: bool,
    /// Whether it is essential (`essential`, true when absent): its exit stops the task.
    pub essential: bool,
    /// What it does once started (its own `ecs-sim.behaviour` label).
    pub behaviour: Behaviour,
    /// Whether its tag is resolved once per service deployment (`versionConsistency` not `disabled`)
    /// rather than by each task.
    pub consistent: bool,
    /// The image digest it runs, once known (see [`crate::registry`]).
    pub digest: Option<String>,
    /// Its health: UNKNOWN without a health check or until the check has an answer.
    pub health: Health,
    /// Its exit code, once it exited.
    pub exit_code: Option<i32>,
    /// Its command (the definition's, or RunTask's override), as its first log line says it.
    pub command: Vec<String>,
    /// Where its output goes, when it uses the awslogs driver.
    pub logs: Option<AwsLogs>,
}

impl ContainerSpec {
    /// A container of `name` running `image`, essential, healthy, without a health check; as yet
    /// unresolved and not started.
    pub fn new(name: &str, image: &str) -> Self {
        Self {
            name: name.to_owned(),
            image: image.to_owned(),
            health_check: false,
            essential: true,
            behaviour: Behaviour::Healthy,
            consistent: true,
            digest: None,
            health: Health::Unknown,
            exit_code: None,
            command: Vec::new(),
            logs: None,
        }
    }
}

/// The containers whose health decides the task's, as ECS's API reference says: "It's determined by the
/// health of the essential containers in the task" (`Task.healthStatus`), and "the container health
/// check status of nonessential containers only affects the health status of a task if no essential
/// containers have health checks defined" (`HealthCheck`). *Inferred:* an essential container without a
/// health check has no check to pass and does not count.
pub fn health_deciders(containers: &[ContainerSpec]) -> Vec<&ContainerSpec> {
    let checked = |essential: bool| {
        containers
            .iter()
            .filter(|c| c.health_check && c.essential == essential)
            .collect::<Vec<_>>()
    };
    let essential = checked(true);
    if essential.is_empty() {
        checked(false)
    } else {
        essential
    }
}

/// The task's health from its containers' (`Task.healthStatus`): UNHEALTHY when a deciding container is,
/// HEALTHY when all of them are, UNKNOWN otherwise (none has a health check, or one is still unknown).
pub fn task_health(containers: &[ContainerSpec]) -> Health {
    let deciders = health_deciders(containers);
    if deciders.iter().any(|c| c.health == Health::Unhealthy) {
        Health::Unhealthy
    } else if !deciders.is_empty() && deciders.iter().all(|c| c.health == Health::Healthy) {
        Health::Healthy
    } else {
        Health::Unknown
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
    /// The deployment that started it, or RunTask's `startedBy` (empty when none was given): `startedBy`.
    pub deployment_id: String,
    /// The service revision of that deployment, whose image digests it runs.
    pub revision: String,
    /// Why its image could not be pulled, if so: it stops instead of starting.
    pub pull_error: Option<String>,
    /// The service that owns it; empty for a task RunTask started.
    pub service: String,
    /// Its task group: `service:NAME` for a service's, `family:FAMILY` or RunTask's `group` otherwise.
    pub group: String,
    /// RunTask's `overrides`, as given (`{}` for a service's task).
    pub overrides: Value,
    /// Its tags, as given to RunTask.
    pub tags: Vec<Value>,
    /// lastStatus.
    pub last_status: TaskStatus,
    /// False once it has been asked to stop (desiredStatus STOPPED).
    pub desired_running: bool,
    /// healthStatus, from its containers' (see [`task_health`]).
    pub health: Health,
    /// Running long enough to count as healthy when no health check decides its health: ECS's service
    /// scheduler "will wait for 40 seconds after a task reaches a RUNNING state".
    pub settled: bool,
    /// How it is placed and started (`unplaceable`, `slow:N`): its containers' labels together.
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
    /// The launch type of its service, if any.
    pub launch_type: Option<String>,
    /// Task-level cpu and memory of its task definition, if any.
    pub cpu: Option<String>,
    /// Task-level memory.
    pub memory: Option<String>,
    /// What its containers wrote since the last tick, (container, line), for their log streams.
    pub output: Vec<(String, String)>,
}

impl Task {
    /// Whether a service started it (rather than RunTask).
    pub fn is_service_task(&self) -> bool {
        !self.service.is_empty()
    }

    /// PROVISIONING or PENDING while still wanted: what ECS counts as pending.
    pub fn is_pending(&self) -> bool {
        self.desired_running
            && matches!(
                self.last_status,
                TaskStatus::Provisioning | TaskStatus::Pending
            )
    }

    /// Whether it counts as healthy for minimumHealthyPercent and completion: running and wanted, and
    /// HEALTHY when a container's health check decides its health, or else up long enough (`settled`).
    pub fn is_healthy(&self) -> bool {
        let healthy = if health_deciders(&self.containers).is_empty() {
            self.settled
        } else {
            self.health == Health::Healthy
        };
        self.desired_running && self.last_status == TaskStatus::Running && healthy
    }

    /// Asks the task to stop: its containers still running exit with `exit_code` (none for a task whose
    /// containers never started).
    pub fn stop(&mut self, reason: String, code: &'static str, exit_code: Option<i32>) {
        if !self.desired_running {
            return;
        }
        self.desired_running = false;
        self.stopping_at = Some(epoch_now());
        self.stopped_reason = Some(reason);
        self.stop_code = Some(code);
        for container in self.containers.iter_mut().filter(|c| c.exit_code.is_none()) {
            container.exit_code = exit_code;
        }
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
                let status = if c.exit_code.is_some() && self.last_status == TaskStatus::Running {
                    "STOPPED"
                } else {
                    container_status
                };
                let mut out = json!({
                    "containerArn": format!("{}/{}", self.arn.replace(":task/", ":container/"), c.name),
                    "taskArn": self.arn,
                    "name": c.name,
                    "image": c.image,
                    "lastStatus": status,
                    "healthStatus": c.health.as_str(),
                });
                if let Some(digest) = &c.digest {
                    out["imageDigest"] = json!(digest);
                }
                if status == "STOPPED"
                    && let Some(code) = c.exit_code
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
            "group": self.group,
            "createdAt": self.created_at,
            "containers": containers,
            "overrides": self.overrides,
            "version": 1,
            "attachments": [],
            "tags": self.tags,
        });
        if !self.deployment_id.is_empty() {
            out["startedBy"] = json!(self.deployment_id);
        }
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
