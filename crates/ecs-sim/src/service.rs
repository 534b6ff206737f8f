//! An ECS service: its status, desired count, deployments, service revisions and deployments, and events,
//! rendered as DescribeServices gives it.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Map, Value, json};

use crate::configuration::DeploymentConfiguration;
use crate::deployment::Deployment;
use crate::identity::Identity;
use crate::json::{epoch_now, json_map, merge};
use crate::service_deployment::{ServiceDeployment, Status, new_id};
use crate::service_revision::ServiceRevision;
use crate::task::{ContainerSpec, Task};

/// How many service events ECS keeps (newest first).
const MAX_EVENTS: usize = 100;

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

    /// A new IN_PROGRESS deployment of `task_definition` in the service revision `revision`, for the
    /// service's desired count, launch type and network configuration.
    pub fn new_deployment(&self, task_definition: String, revision: String) -> Deployment {
        Deployment::new(
            task_definition,
            revision,
            self.desired_count,
            (
                self.launch_type.clone(),
                self.extra.get("networkConfiguration").cloned(),
            ),
        )
    }

    /// The PRIMARY deployment.
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.first()
    }

    /// Renders the service as DescribeServices returns it, in the cluster `cluster_arn`; counts come from
    /// the cluster's `tasks`.
    pub fn render(
        &self,
        cluster_arn: &str,
        tasks: &BTreeMap<String, Task>,
        include_tags: bool,
    ) -> Value {
        let deployments: Vec<Value> = self
            .deployments
            .iter()
            .enumerate()
            .map(|(i, d)| d.render(i == 0, tasks))
            .collect();
        let (running, pending) = self
            .deployments
            .iter()
            .map(|d| d.counts(tasks))
            .fold((0, 0), |(r, p), (dr, dp)| (r + dr, p + dp));
        let mut out = json!({
            "serviceArn": self.arn,
            "serviceName": self.name,
            "clusterArn": cluster_arn,
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

    /// Starts a deployment of `task_definition` (whose containers are `images`, with the digests known so
    /// far): a new service revision,
    /// a PRIMARY `deployments[]` entry and a PENDING service deployment. An unfinished service deployment
    /// it replaces is stopped.
    pub fn start_deployment(
        &mut self,
        task_definition: String,
        images: Vec<ContainerSpec>,
        identity: &Identity,
        cluster: &str,
        now: u64,
    ) {
        let revision = ServiceRevision {
            arn: identity.arn(&format!(
                "service-revision/{cluster}/{}/{}",
                self.name,
                new_id()
            )),
            service_arn: self.arn.clone(),
            task_definition: task_definition.clone(),
            launch_type: self.launch_type.clone(),
            images,
            created_at: epoch_now(),
        };
        let mut sources: Vec<String> = Vec::new();
        for d in &self.deployments {
            if !sources.contains(&d.revision) {
                sources.push(d.revision.clone());
            }
        }
        let deployment = self.new_deployment(task_definition, revision.arn.clone());
        let mut record = ServiceDeployment::new(
            identity.arn(&format!(
                "service-deployment/{cluster}/{}/{}",
                self.name,
                new_id()
            )),
            self.arn.clone(),
            revision.arn.clone(),
            sources,
            self.deployment_configuration.clone(),
            deployment.id.clone(),
            now,
        );
        record.source_deployment_id = self.deployments.first().map(|d| d.id.clone());
        // *Inferred*: a deployment a newer one replaces is stopped the way a failed one without rollback
        // is (STOP_REQUESTED, then STOPPED), unless its rollback is already under way.
        if let Some(previous) = self.service_deployments.first_mut()
            && matches!(previous.status, Status::Pending | Status::InProgress)
        {
            previous.set(
                Status::StopRequested,
                format!("Replaced by service deployment {}.", record.arn),
            );
        }
        self.revisions.push(revision);
        self.deployments.insert(0, deployment);
        self.service_deployments.insert(0, record);
    }
}
