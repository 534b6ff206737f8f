//! How a task moves through its lifecycle, one simulated second at a time: PROVISIONING, PENDING,
//! RUNNING, then STOPPING, DEPROVISIONING and STOPPED; and which tasks stopped without being asked to.
//!
//! Timings, in simulated seconds: PROVISIONING 1, PENDING 2 (or N with `slow:N`), a task settles (counts as
//! healthy, and its health check passes) 2 after RUNNING, `crash` exits 2 after RUNNING, `unhealthy` fails
//! its check 3 after RUNNING, a stop takes 1 in STOPPING and 1 in DEPROVISIONING.

use crate::behaviour::Behaviour;
use crate::json::epoch_now;
use crate::task::{Health, Task, TaskStatus};

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
pub const STOPPED_RETENTION_SECS: u64 = 3600;

/// A task that stopped without being asked to: it counts against its deployment.
pub struct Failure {
    /// The service whose task it was.
    pub service: String,
    /// The deployment that started it.
    pub deployment_id: String,
    /// Its id.
    pub task_id: String,
    /// Whether it failed its health check (rather than exiting).
    pub unhealthy: bool,
}

/// Moves every task one simulated second along its lifecycle; returns the tasks that failed.
pub fn advance_tasks<'a>(tasks: impl Iterator<Item = &'a mut Task>, now: u64) -> Vec<Failure> {
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
