//! An ECS cluster with the services and tasks in it, rendered as DescribeClusters gives it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::json::merge;
use crate::service::{Service, ServiceStatus};
use crate::task::{Task, TaskStatus};

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
    /// RunTask's client tokens used in the cluster, and the ids of the tasks each started.
    pub client_tokens: BTreeMap<String, Vec<String>>,
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
