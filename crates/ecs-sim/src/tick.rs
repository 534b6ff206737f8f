//! The simulated clock's tick: every simulated second, tasks move along their lifecycle, failures count
//! against their deployments, and each service's scheduler runs its service deployment and rolling update.

use crate::cluster::Cluster;
use crate::json::epoch_now;
use crate::logs::LogLine;
use crate::scheduler::Scheduler;
use crate::service::{Service, ServiceStatus};
use crate::state::State;
use crate::task::Task;
use crate::task_lifecycle::{STOPPED_RETENTION_SECS, advance_tasks};

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
            pending_logs,
            ..
        } = self;
        for cluster in clusters.values_mut() {
            let failures = advance_tasks(cluster.tasks.values_mut(), now);
            collect_output(cluster.tasks.values_mut(), pending_logs);
            for failure in failures {
                let Some(service) = cluster.services.get_mut(&failure.service) else {
                    continue;
                };
                let counts = !service.deployment_configuration.reset_on_healthy_task;
                if let Some(d) = service
                    .deployments
                    .iter_mut()
                    .find(|d| d.id == failure.deployment_id && (counts || !d.ran_healthy))
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
            note_healthy_runs(cluster);
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
                schedule(&mut scheduler, service);
            }
            cluster.tasks.retain(|_, t| {
                t.stopped_since
                    .is_none_or(|since| now.saturating_sub(since) < STOPPED_RETENTION_SECS)
            });
        }
    }
}

/// One service's second: a deleted one drains; otherwise its service deployment moves along, and the rolling
/// scheduler runs unless a staged deployment is in charge.
fn schedule(scheduler: &mut Scheduler<'_>, service: &mut Service) {
    match service.status {
        ServiceStatus::Inactive => return,
        ServiceStatus::Draining => {
            scheduler.drain(service);
            return;
        }
        ServiceStatus::Active => {}
    }
    let rolling = scheduler.lifecycle(service);
    if rolling {
        scheduler.launch(service);
        scheduler.stop_replaced(service);
    }
    scheduler.retire_drained_deployments(service);
    if rolling {
        scheduler.complete(service);
    }
}

/// Notes each deployment of the cluster that now has a healthy task: its failed-task count starts again
/// from zero and, unless the circuit breaker's `resetOnHealthyTask` is false, is no longer evaluated.
fn note_healthy_runs(cluster: &mut Cluster) {
    let tasks = &cluster.tasks;
    for service in cluster.services.values_mut() {
        let reset = service.deployment_configuration.reset_on_healthy_task;
        for d in service.deployments.iter_mut().filter(|d| !d.ran_healthy) {
            if tasks
                .values()
                .any(|t| t.deployment_id == d.id && t.is_healthy())
            {
                d.ran_healthy = true;
                if reset {
                    d.failed_tasks = 0;
                }
            }
        }
    }
}

/// Moves what the tasks' containers wrote into `pending`, as lines of the log streams of the containers that
/// use the awslogs driver (what the others write goes nowhere): `prefix/container/task-id`.
fn collect_output<'a>(tasks: impl Iterator<Item = &'a mut Task>, pending: &mut Vec<LogLine>) {
    // Epoch milliseconds, whole: a float's fraction of a millisecond is no part of a log event's time.
    let at = (epoch_now() * 1000.0) as i64;
    for task in tasks {
        for (container, message) in std::mem::take(&mut task.output) {
            let Some(logs) = task
                .containers
                .iter()
                .find(|c| c.name == container)
                .and_then(|c| c.logs.clone())
            else {
                continue;
            };
            pending.push(LogLine {
                stream: format!("{}/{container}/{}", logs.prefix, task.id),
                logs,
                message,
                timestamp_ms: at,
            });
        }
    }
}
