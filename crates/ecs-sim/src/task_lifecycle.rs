//! How a task moves through its lifecycle, one simulated second at a time: PROVISIONING, PENDING,
//! RUNNING, then STOPPING, DEPROVISIONING and STOPPED; and which tasks stopped without being asked to.
//!
//! Each container acts on its own label: a health check passes 2 simulated seconds after RUNNING, `crash`
//! exits 2 after RUNNING (`crash:N` N after) (an essential container's exit stops the task, another's does not), `unhealthy`
//! fails its check 3 after RUNNING; the task's health follows ECS's rule (see
//! [`crate::task::task_health`]), and an UNHEALTHY service task is stopped and replaced.
//!
//! Timings, in simulated seconds: PROVISIONING 1, PENDING 2 (or N with `slow:N`), a stop takes 1 in
//! STOPPING and 1 in DEPROVISIONING; a task whose health no health check decides counts as healthy 40
//! after RUNNING.

use crate::behaviour::Behaviour;
use crate::json::epoch_now;
use crate::task::{Health, Task, TaskStatus, task_health};

/// Simulated seconds a task spends in PROVISIONING.
const PROVISIONING_SECS: u64 = 1;
/// Simulated seconds a task spends in PENDING unless its behaviour is `slow:N`.
const PENDING_SECS: u64 = 2;
/// Simulated seconds after RUNNING at which a health check passes.
const SETTLE_SECS: u64 = 2;
/// Simulated seconds after RUNNING at which an `unhealthy` container fails its health check.
const UNHEALTHY_SECS: u64 = 3;
/// Simulated seconds after RUNNING before a task whose health no health check decides counts as healthy:
/// "If a task has no essential containers with a health check defined, the service scheduler will wait
/// for 40 seconds after a task reaches a RUNNING state before the task is counted towards the minimum
/// healthy percent total" (`DeploymentConfiguration.minimumHealthyPercent`).
const UNCHECKED_GRACE_SECS: u64 = 40;
/// The exit code of a container stopped by ECS (SIGTERM); *inferred*, ECS documents no code.
pub const STOPPED_EXIT_CODE: i32 = 143;
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
                task.stop(reason, "TaskFailedToStart", None);
                enter(task, TaskStatus::Stopped);
                task.stopped_at = Some(epoch_now());
                task.stopped_since = Some(now);
                if task.is_service_task() {
                    failures.push(failure_of(task, false));
                }
            }
            // A task starts once it knows every image digest it pulls (see crate::registry).
            TaskStatus::Provisioning
                if age >= provisioning_secs(task.behaviour)
                    && task.containers.iter().all(|c| c.digest.is_some()) =>
            {
                enter(task, TaskStatus::Pending)
            }
            TaskStatus::Pending if age >= pending_secs(task.behaviour) => {
                enter(task, TaskStatus::Running);
                task.started_at = Some(epoch_now());
                let started: Vec<(String, String)> = task
                    .containers
                    .iter()
                    .map(|c| {
                        let line = if c.command.is_empty() {
                            format!("ecs-sim: {} started", c.name)
                        } else {
                            format!("ecs-sim: {} started: {}", c.name, c.command.join(" "))
                        };
                        (c.name.clone(), line)
                    })
                    .collect();
                task.output.extend(started);
            }
            TaskStatus::Running if !task.desired_running => enter(task, TaskStatus::Stopping),
            TaskStatus::Running => {
                if let Some(failure) = run_containers(task, age) {
                    failures.push(failure);
                }
            }
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

/// One second of a running task's containers, each by its own label; the failure, when an essential
/// container exited or the task's health turned UNHEALTHY and ECS stops it.
fn run_containers(task: &mut Task, age: u64) -> Option<Failure> {
    let mut essential_exited = false;
    let mut exited = Vec::new();
    for container in task.containers.iter_mut().filter(|c| c.exit_code.is_none()) {
        match container.behaviour {
            Behaviour::Crash(after) if age >= after => {
                container.exit_code = Some(1);
                essential_exited |= container.essential;
                exited.push((container.name.clone(), 1));
            }
            Behaviour::Exit(code, after) if age >= after => {
                container.exit_code = Some(code);
                essential_exited |= container.essential;
                exited.push((container.name.clone(), code));
            }
            Behaviour::Unhealthy if age >= UNHEALTHY_SECS => container.health = Health::Unhealthy,
            Behaviour::Unhealthy => {}
            // Until a `crash:N` container exits, its health check passes like any other.
            _ if age >= SETTLE_SECS && container.health_check => container.health = Health::Healthy,
            _ => {}
        }
    }
    for (name, code) in exited {
        let line = format!("ecs-sim: {name} exited with code {code}");
        task.output.push((name, line));
    }
    task.health = task_health(&task.containers);
    task.settled |= age >= UNCHECKED_GRACE_SECS;
    if essential_exited {
        // "If the essential parameter of a container is marked as true, and that container fails or stops
        // for any reason, all other containers that are part of the task are stopped."
        task.stop(
            "Essential container in task exited".to_owned(),
            "EssentialContainerExited",
            Some(STOPPED_EXIT_CODE),
        );
        return task.is_service_task().then(|| failure_of(task, false));
    }
    if task.health == Health::Unhealthy && task.is_service_task() {
        // "For tasks that are part of a service, if the task reports as unhealthy then the task will be
        // stopped and the service scheduler will replace it." (HealthCheck)
        task.stop(
            "Task failed container health checks".to_owned(),
            "ServiceSchedulerInitiated",
            Some(STOPPED_EXIT_CODE),
        );
        return Some(failure_of(task, true));
    }
    None
}

fn failure_of(task: &Task, unhealthy: bool) -> Failure {
    Failure {
        service: task.service.clone(),
        deployment_id: task.deployment_id.clone(),
        task_id: task.id.clone(),
        unhealthy,
    }
}

/// How long a task waits in PROVISIONING: "Amazon ECS needs to find compute capacity for placing the
/// task" (the developer guide's task workflow); `provisioning:N` for capacity being scaled out.
fn provisioning_secs(behaviour: Behaviour) -> u64 {
    match behaviour {
        Behaviour::Provisioning(seconds) => seconds,
        _ => PROVISIONING_SECS,
    }
}

fn pending_secs(behaviour: Behaviour) -> u64 {
    match behaviour {
        Behaviour::Slow(seconds) => seconds,
        _ => PENDING_SECS,
    }
}
