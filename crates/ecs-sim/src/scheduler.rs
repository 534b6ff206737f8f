//! One cluster's service scheduler for one simulated second: what every part of a rollout works with (the
//! task definitions, the cluster's tasks, the alarms and Lambda answers), and starting and counting tasks.

use std::collections::BTreeMap;

use crate::behaviour::Behaviour;
use crate::deployment::Deployment;
use crate::identity::Identity;
use crate::json::epoch_now;
use crate::registry::containers_for;
use crate::service::Service;
use crate::task::{Health, Task, TaskStatus};
use crate::task_definition::{TaskDefinition, find_task_definition};

/// Simulated seconds between repeated "unable to place a task" events.
const PLACEMENT_EVENT_EVERY_SECS: u64 = 30;

/// `percent` % of `count`, rounded down (or up), without overflow.
pub fn percent_of(count: u32, percent: u32, round_up: bool) -> u32 {
    let product = u64::from(count) * u64::from(percent);
    let result = if round_up {
        product.div_ceil(100)
    } else {
        product / 100
    };
    u32::try_from(result).unwrap_or(u32::MAX)
}

/// One cluster's service scheduler for one tick.
pub(crate) struct Scheduler<'a> {
    /// For task ARNs.
    pub(crate) identity: &'a Identity,
    /// The task definitions tasks are started from.
    pub(crate) families: &'a BTreeMap<String, Vec<TaskDefinition>>,
    /// The cluster's name.
    pub(crate) cluster: &'a str,
    /// The cluster's tasks.
    pub(crate) tasks: &'a mut BTreeMap<String, Task>,
    /// The simulated second.
    pub(crate) now: u64,
    /// CloudWatch alarms by name, `true` in ALARM.
    pub(crate) alarms: &'a BTreeMap<String, bool>,
    /// What each Lambda function answers a hook with.
    pub(crate) lambdas: &'a BTreeMap<String, String>,
    /// Whether an ECR endpoint resolves ECR images' tags.
    pub(crate) registry: bool,
}

impl Scheduler<'_> {
    /// Starts `count` tasks of `deployment`, or reports now and then that none can be placed.
    pub(crate) fn start_tasks(
        &mut self,
        service: &mut Service,
        deployment: &Deployment,
        count: u32,
    ) {
        if count == 0 {
            return;
        }
        let Some(definition) = find_task_definition(self.families, &deployment.task_definition)
        else {
            return;
        };
        if definition.behaviour == Behaviour::Unplaceable {
            if service
                .last_placement_event
                .is_none_or(|at| self.now.saturating_sub(at) >= PLACEMENT_EVENT_EVERY_SECS)
            {
                service.last_placement_event = Some(self.now);
                let message = format!(
                    "(service {}) was unable to place a task because no container instance met all of \
                     its requirements. Reason: No Container Instances were found in your cluster.",
                    service.name
                );
                service.event(message);
            }
            return;
        }
        let mut started = Vec::new();
        for _ in 0..count {
            let task = self.new_task(service, deployment, definition);
            started.push(format!("(task {})", task.id));
            self.tasks.insert(task.id.clone(), task);
        }
        let message = format!(
            "(service {}) has started {} tasks: {}.",
            service.name,
            started.len(),
            started.join(" ")
        );
        service.event(message);
    }

    fn new_task(
        &self,
        service: &Service,
        deployment: &Deployment,
        definition: &TaskDefinition,
    ) -> Task {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let optional = |member: &str| {
            definition
                .description
                .get(member)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Task {
            arn: self.identity.arn(&format!("task/{}/{id}", self.cluster)),
            id,
            task_definition: definition.arn.clone(),
            family: definition.family.clone(),
            deployment_id: deployment.id.clone(),
            revision: deployment.revision.clone(),
            pull_error: None,
            service: service.name.clone(),
            group: format!("service:{}", service.name),
            overrides: serde_json::json!({}),
            tags: Vec::new(),
            last_status: TaskStatus::Provisioning,
            desired_running: true,
            health: Health::Unknown,
            settled: false,
            behaviour: definition.behaviour,
            status_since: self.now,
            stopped_since: None,
            containers: containers_for(service, deployment, definition, self.registry),
            created_at: epoch_now(),
            started_at: None,
            stopping_at: None,
            stopped_at: None,
            stopped_reason: None,
            stop_code: None,
            launch_type: service.launch_type.clone(),
            cpu: optional("cpu"),
            memory: optional("memory"),
            output: Vec::new(),
        }
    }

    /// Tasks of the service (of one deployment, if given) that are still wanted.
    pub(crate) fn live(&self, service: &str, deployment: Option<&str>) -> u32 {
        self.tasks
            .values()
            .filter(|t| {
                t.service == service
                    && t.desired_running
                    && deployment.is_none_or(|d| t.deployment_id == d)
            })
            .count() as u32
    }
}
