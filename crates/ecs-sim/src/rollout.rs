//! The rollout engine: every tick is one simulated second in which tasks move through their lifecycle and
//! each service's scheduler starts and stops tasks the way ECS's rolling update does.
//!
//! Timings, in simulated seconds: PROVISIONING 1, PENDING 2 (or N with `slow:N`), a task settles (counts as
//! healthy, and its health check passes) 2 after RUNNING, `crash` exits 2 after RUNNING, `unhealthy` fails its check 3 after RUNNING, a stop takes 1 in
//! STOPPING and 1 in DEPROVISIONING; stopped tasks are forgotten after an hour.

use std::collections::BTreeMap;

use crate::behaviour::Behaviour;
use crate::lifecycle::ALARM_BAKE_SECS;
use crate::state::{
    Deployment, Health, Identity, RolloutState, Service, ServiceStatus, State, Task,
    TaskDefinition, TaskStatus, epoch_now, find_task_definition,
};

/// Simulated seconds a task spends in PROVISIONING.
const PROVISIONING_SECS: u64 = 1;
/// Simulated seconds a task spends in PENDING unless its behaviour is `slow:N`.
const PENDING_SECS: u64 = 2;
/// Simulated seconds after RUNNING at which a health check passes or a `crash` container exits.
const SETTLE_SECS: u64 = 2;
/// Simulated seconds after RUNNING at which an `unhealthy` task fails its health check.
const UNHEALTHY_SECS: u64 = 3;
/// Simulated seconds a task spends in STOPPING and then in DEPROVISIONING.
const STOP_STEP_SECS: u64 = 1;
/// Simulated seconds a stopped task stays visible to ListTasks and DescribeTasks.
const STOPPED_RETENTION_SECS: u64 = 3600;
/// Simulated seconds between repeated "unable to place a task" events.
const PLACEMENT_EVENT_EVERY_SECS: u64 = 30;

/// A task that stopped without being asked to: it counts against its deployment.
struct Failure {
    service: String,
    deployment_id: String,
    task_id: String,
    unhealthy: bool,
}

impl State {
    /// Advances the simulation by one simulated second.
    pub fn tick(&mut self) {
        if let Some(lag) = &mut self.lag {
            lag.record(self.now, &self.clusters);
        }
        self.now += 1;
        let now = self.now;
        let State {
            identity,
            clusters,
            families,
            alarms,
            lambdas,
            registry,
            ..
        } = self;
        for cluster in clusters.values_mut() {
            for failure in advance_tasks(cluster.tasks.values_mut(), now) {
                let Some(service) = cluster.services.get_mut(&failure.service) else {
                    continue;
                };
                if let Some(d) = service
                    .deployments
                    .iter_mut()
                    .find(|d| d.id == failure.deployment_id)
                {
                    d.failed_tasks += 1;
                }
                if failure.unhealthy {
                    let message = format!(
                        "(service {}) (task {}) failed container health checks.",
                        service.name, failure.task_id
                    );
                    service.event(message);
                }
            }
            let mut scheduler = Scheduler {
                identity,
                families,
                cluster: &cluster.name,
                tasks: &mut cluster.tasks,
                now,
                alarms,
                lambdas,
                registry: *registry,
            };
            for service in cluster.services.values_mut() {
                scheduler.schedule(service);
            }
            cluster.tasks.retain(|_, t| {
                t.stopped_since
                    .is_none_or(|since| now.saturating_sub(since) < STOPPED_RETENTION_SECS)
            });
        }
    }
}

/// Moves every task one simulated second along its lifecycle; returns the tasks that failed.
fn advance_tasks<'a>(tasks: impl Iterator<Item = &'a mut Task>, now: u64) -> Vec<Failure> {
    let mut failures = Vec::new();
    for task in tasks {
        let age = now.saturating_sub(task.status_since);
        let enter = |task: &mut Task, status: TaskStatus| {
            task.last_status = status;
            task.status_since = now;
        };
        match task.last_status {
            TaskStatus::Provisioning | TaskStatus::Pending if !task.desired_running => {
                enter(task, TaskStatus::Stopped);
                task.stopped_at = Some(epoch_now());
                task.stopped_since = Some(now);
            }
            TaskStatus::Provisioning if task.pull_error.is_some() => {
                let reason = task.pull_error.clone().unwrap_or_default();
                task.stop(reason, "TaskFailedToStart", 0);
                task.exit_code = None;
                enter(task, TaskStatus::Stopped);
                task.stopped_at = Some(epoch_now());
                task.stopped_since = Some(now);
                failures.push(failure_of(task, false));
            }
            // A task starts once it knows every image digest it pulls (see crate::registry).
            TaskStatus::Provisioning
                if age >= PROVISIONING_SECS
                    && task.containers.iter().all(|c| c.digest.is_some()) =>
            {
                enter(task, TaskStatus::Pending)
            }
            TaskStatus::Pending if age >= pending_secs(task.behaviour) => {
                enter(task, TaskStatus::Running);
                task.started_at = Some(epoch_now());
            }
            TaskStatus::Running if !task.desired_running => enter(task, TaskStatus::Stopping),
            TaskStatus::Running => match task.behaviour {
                Behaviour::Crash if age >= SETTLE_SECS => {
                    task.stop(
                        "Essential container in task exited".to_owned(),
                        "EssentialContainerExited",
                        1,
                    );
                    failures.push(failure_of(task, false));
                }
                Behaviour::Unhealthy if age >= UNHEALTHY_SECS => {
                    task.health = Health::Unhealthy;
                    task.stop(
                        "Task failed container health checks".to_owned(),
                        "ServiceSchedulerInitiated",
                        143,
                    );
                    failures.push(failure_of(task, true));
                }
                Behaviour::Healthy | Behaviour::Slow(_) if age >= SETTLE_SECS && !task.settled => {
                    task.settled = true;
                    if task.containers.iter().any(|c| c.health_check) {
                        task.health = Health::Healthy;
                    }
                }
                _ => {}
            },
            TaskStatus::Stopping if age >= STOP_STEP_SECS => {
                enter(task, TaskStatus::Deprovisioning)
            }
            TaskStatus::Deprovisioning if age >= STOP_STEP_SECS => {
                enter(task, TaskStatus::Stopped);
                task.stopped_at = Some(epoch_now());
                task.stopped_since = Some(now);
            }
            _ => {}
        }
    }
    failures
}

fn failure_of(task: &Task, unhealthy: bool) -> Failure {
    Failure {
        service: task.service.clone(),
        deployment_id: task.deployment_id.clone(),
        task_id: task.id.clone(),
        unhealthy,
    }
}

fn pending_secs(behaviour: Behaviour) -> u64 {
    match behaviour {
        Behaviour::Slow(seconds) => seconds,
        _ => PENDING_SECS,
    }
}

/// `percent` % of `count`, rounded down (or up), without overflow.
fn percent_of(count: u32, percent: u32, round_up: bool) -> u32 {
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
    fn schedule(&mut self, service: &mut Service) {
        match service.status {
            ServiceStatus::Inactive => return,
            ServiceStatus::Draining => {
                self.drain(service);
                return;
            }
            ServiceStatus::Active => {}
        }
        let rolling = self.lifecycle(service);
        if rolling {
            self.launch(service);
            self.stop_replaced(service);
        }
        self.retire_drained_deployments(service);
        if rolling {
            self.complete(service);
        }
    }

    /// A deleted service: stop everything, then become INACTIVE.
    fn drain(&mut self, service: &mut Service) {
        for task in self
            .tasks
            .values_mut()
            .filter(|t| t.service == service.name)
        {
            task.stop(
                format!("Service {} is being deleted", service.name),
                "ServiceSchedulerInitiated",
                0,
            );
        }
        if self
            .tasks
            .values()
            .all(|t| t.service != service.name || t.last_status == TaskStatus::Stopped)
        {
            service.status = ServiceStatus::Inactive;
            for d in &mut service.deployments {
                d.desired_count = 0;
            }
        }
    }

    /// Starts PRIMARY tasks up to the desired count, within maximumPercent.
    fn launch(&mut self, service: &mut Service) {
        let Some(primary) = service.deployments.first() else {
            return;
        };
        if primary.rollout_state == RolloutState::Failed {
            return;
        }
        let desired = service.desired_count;
        let max_total = percent_of(
            desired,
            service.deployment_configuration.maximum_percent,
            false,
        );
        let live = self.live(&service.name, None);
        let primary_live = self.live(&service.name, Some(&primary.id));
        let to_launch = desired
            .saturating_sub(primary_live)
            .min(max_total.saturating_sub(live));
        let primary = primary.clone();
        self.start_tasks(service, &primary, to_launch);
    }

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
            last_status: TaskStatus::Provisioning,
            desired_running: true,
            health: Health::Unknown,
            settled: false,
            behaviour: definition.behaviour,
            status_since: self.now,
            stopped_since: None,
            containers: self.containers_of(service, deployment, definition),
            created_at: epoch_now(),
            started_at: None,
            stopping_at: None,
            stopped_at: None,
            stopped_reason: None,
            stop_code: None,
            exit_code: None,
            launch_type: service.launch_type.clone(),
            cpu: optional("cpu"),
            memory: optional("memory"),
        }
    }

    /// Stops tasks of older deployments as far as minimumHealthyPercent allows, and PRIMARY tasks above the
    /// desired count.
    fn stop_replaced(&mut self, service: &mut Service) {
        let Some(primary) = service.deployments.first() else {
            return;
        };
        let reason = format!("Scaling activity initiated by (deployment {})", primary.id);
        let desired = service.desired_count;
        let min_healthy = percent_of(
            desired,
            service.deployment_configuration.minimum_healthy_percent,
            true,
        );
        let mut healthy = self
            .tasks
            .values()
            .filter(|t| t.service == service.name && t.is_healthy())
            .count() as u32;
        let mut primary_excess = self
            .live(&service.name, Some(&primary.id))
            .saturating_sub(desired);
        // Tasks that are not healthy go first: stopping them costs no healthy capacity.
        let mut candidates: Vec<&mut Task> = self
            .tasks
            .values_mut()
            .filter(|t| t.service == service.name && t.desired_running)
            .collect();
        candidates.sort_by_key(|t| (t.is_healthy(), t.last_status == TaskStatus::Running));
        let mut stopped = Vec::new();
        for task in candidates {
            let is_primary = task.deployment_id == primary.id;
            if is_primary {
                if primary_excess == 0 {
                    continue;
                }
                primary_excess -= 1;
            } else if task.is_healthy() {
                if healthy <= min_healthy {
                    continue;
                }
                healthy -= 1;
            }
            task.stop(reason.clone(), "ServiceSchedulerInitiated", 0);
            stopped.push(format!("(task {})", task.id));
        }
        if !stopped.is_empty() {
            let message = format!(
                "(service {}) has stopped {} running tasks: {}.",
                service.name,
                stopped.len(),
                stopped.join(" ")
            );
            service.event(message);
        }
    }

    /// Older deployments shrink as their tasks stop and disappear once none is left.
    fn retire_drained_deployments(&mut self, service: &mut Service) {
        let tasks = &*self.tasks;
        let mut first = true;
        service.deployments.retain_mut(|d| {
            if std::mem::take(&mut first) {
                return true;
            }
            d.desired_count = tasks
                .values()
                .filter(|t| t.deployment_id == d.id && t.desired_running)
                .count() as u32;
            tasks
                .values()
                .any(|t| t.deployment_id == d.id && t.last_status != TaskStatus::Stopped)
        });
    }

    /// The PRIMARY completes once it alone runs the desired count of healthy tasks.
    fn complete(&mut self, service: &mut Service) {
        if service.deployments.len() != 1 {
            return;
        }
        let desired = service.desired_count;
        let name = service.name.clone();
        let tasks = &*self.tasks;
        let Some(primary) = service.deployments.first_mut() else {
            return;
        };
        if primary.rollout_state != RolloutState::InProgress {
            return;
        }
        let mine = || {
            tasks
                .values()
                .filter(|t| t.deployment_id == primary.id && t.desired_running)
        };
        let healthy = mine().filter(|t| t.is_healthy()).count() as u32;
        if healthy != desired || mine().count() as u32 != desired {
            primary.steady_since = None;
            return;
        }
        // Under deployment alarms, ECS keeps watching them for a while once the service is steady.
        if service
            .deployment_configuration
            .alarms
            .as_ref()
            .is_some_and(|a| a.enable)
        {
            let since = *primary.steady_since.get_or_insert(self.now);
            if self.now.saturating_sub(since) < ALARM_BAKE_SECS {
                return;
            }
        }
        primary.steady_since = None;
        let id = primary.id.clone();
        primary.set_rollout(
            RolloutState::Completed,
            format!("ECS deployment {id} completed."),
        );
        service.last_completed = Some(primary.task_definition.clone());
        service.last_completed_revision = Some(primary.revision.clone());
        service.event(format!(
            "(service {name}) (deployment {id}) deployment completed."
        ));
        service.event(format!("(service {name}) has reached a steady state."));
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
