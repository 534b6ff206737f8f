//! Whether a rollout is done, still going, or failed: decided from one observation of the service and its
//! tasks, with no AWS calls, so every rule has a table test.
//!
//! A rollout succeeds only when ECS says the deployment is done *and* the service's running tasks are on
//! the target task definition and healthy where a container has a health check. Counting "one deployment,
//! running == desired" alone would call a circuit-breaker rollback a success, and counting one RUNNING task
//! would call a crash loop a success.

use std::collections::BTreeSet;

/// What one read of the service and its tasks showed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// The service, or `None` when ECS no longer has it.
    pub service: Option<ServiceState>,
    /// The service's tasks that ECS wants running (ListTasks, desired status RUNNING); `None` when they were
    /// not read because the service alone shows the rollout is not done (see [`needs_tasks`]).
    pub tasks: Option<Vec<TaskState>>,
}

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

/// The rollout being watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// The deployment id UpdateService started, when it said; otherwise the deployment is found by its task
    /// definition.
    pub deployment_id: Option<String>,
    /// The task definition ARN the service should end up on.
    pub task_definition: String,
    /// The task definition the service ran before, to tell a rollback from another update.
    pub previous_task_definition: Option<String>,
    /// Containers with a health check: tasks count only once these are HEALTHY.
    pub health_checked: BTreeSet<String>,
}

/// What an observation says about the rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Still going; the text says how far it got.
    InProgress(String),
    /// The service runs the goal's task definition.
    Done,
    /// It will not get there.
    Failed(Failure),
}

/// Why a rollout will not get there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The service is missing, DRAINING or INACTIVE: there is nothing to roll back.
    ServiceGone(String),
    /// ECS marked the deployment FAILED and did not roll it back.
    DeploymentFailed(String),
    /// ECS rolled the service back to the previous task definition (the circuit breaker did).
    RolledBackByEcs {
        /// What ECS said.
        reason: String,
        /// The deployment ECS started for the rollback, to watch it.
        deployment_id: String,
        /// The task definition ECS went back to.
        task_definition: String,
    },
    /// Another update replaced the deployment; rolling back would undo someone else's deployment.
    Superseded {
        /// The task definition the service was updated to.
        by_task_definition: String,
    },
}

impl Failure {
    /// The failure in words, for logs and reports.
    pub fn reason(&self) -> String {
        match self {
            Self::ServiceGone(reason) | Self::DeploymentFailed(reason) => reason.clone(),
            Self::RolledBackByEcs { reason, .. } => {
                format!("ECS rolled the service back: {reason}")
            }
            Self::Superseded { by_task_definition } => format!(
                "superseded: the service was updated to {} while this rollout ran",
                short_arn(by_task_definition)
            ),
        }
    }
}

/// Judges one observation against the goal.
pub fn judge(observation: &Observation, goal: &Goal) -> Verdict {
    let Some(service) = &observation.service else {
        return Verdict::Failed(Failure::ServiceGone("the service no longer exists".into()));
    };
    if service.status != "ACTIVE" {
        return Verdict::Failed(Failure::ServiceGone(format!(
            "the service is {}",
            service.status
        )));
    }
    let ours = service
        .deployments
        .iter()
        .find(|d| match &goal.deployment_id {
            Some(id) => &d.id == id,
            None => d.task_definition == goal.task_definition,
        });
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    let ours_is_primary = matches!((ours, primary), (Some(o), Some(p)) if o.id == p.id);
    if !ours_is_primary {
        let Some(primary) = primary else {
            return Verdict::InProgress("ECS lists no PRIMARY deployment yet".into());
        };
        let rolled_back = ours.is_some_and(|o| o.rollout_state.as_deref() == Some("FAILED"))
            || goal.previous_task_definition.as_deref() == Some(&primary.task_definition);
        return Verdict::Failed(if rolled_back {
            Failure::RolledBackByEcs {
                reason: ours
                    .and_then(|o| o.rollout_state_reason.clone())
                    .unwrap_or_else(|| {
                        format!(
                            "the service went back to {}",
                            short_arn(&primary.task_definition)
                        )
                    }),
                deployment_id: primary.id.clone(),
                task_definition: primary.task_definition.clone(),
            }
        } else {
            Failure::Superseded {
                by_task_definition: primary.task_definition.clone(),
            }
        });
    }
    let Some(ours) = ours else {
        return Verdict::InProgress("waiting for the deployment to appear".into());
    };
    if ours.rollout_state.as_deref() == Some("FAILED") {
        return Verdict::Failed(Failure::DeploymentFailed(
            ours.rollout_state_reason
                .clone()
                .unwrap_or_else(|| "ECS marked the deployment FAILED".into()),
        ));
    }

    let ecs_says_done = ecs_says_done(service, ours);
    let Some(tasks) = &observation.tasks else {
        return Verdict::InProgress(counted_progress(service, ours, goal));
    };

    let running: Vec<&TaskState> = tasks
        .iter()
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    let others = running
        .iter()
        .filter(|t| t.task_definition != goal.task_definition)
        .count();
    let healthy = running
        .iter()
        .filter(|t| {
            t.task_definition == goal.task_definition && is_healthy(t, &goal.health_checked)
        })
        .count();
    let desired = usize::try_from(service.desired_count).unwrap_or(0);
    let tasks_adopted = others == 0 && healthy >= desired;

    if ecs_says_done && tasks_adopted {
        return Verdict::Done;
    }
    let mut progress = format!(
        "{healthy} running{} on {}, {desired} desired",
        if goal.health_checked.is_empty() {
            ""
        } else {
            " and healthy"
        },
        short_arn(&goal.task_definition)
    );
    if others > 0 {
        progress.push_str(&format!(", {others} on other task definitions"));
    }
    progress.push_str(&format!(
        ", rollout {}",
        ours.rollout_state
            .as_deref()
            .unwrap_or("state not reported")
    ));
    if ours.failed_tasks > 0 {
        progress.push_str(&format!(", {} failed tasks", ours.failed_tasks));
    }
    Verdict::InProgress(progress)
}

/// Whether the rollout needs the service's tasks read to be judged: only once ECS says the goal's
/// deployment is done. Until then the service alone decides (in progress, failed, rolled back, superseded),
/// so a rollout costs one shared DescribeServices per poll and no task reads.
pub fn needs_tasks(service: &ServiceState, goal: &Goal) -> bool {
    if service.status != "ACTIVE" {
        return false;
    }
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    primary.is_some_and(|p| {
        goal.deployment_id
            .as_ref()
            .map_or(p.task_definition == goal.task_definition, |id| &p.id == id)
            && p.rollout_state.as_deref() != Some("FAILED")
            && ecs_says_done(service, p)
    })
}

/// ECS's own view: the deployment is COMPLETED, or (without rollout states) it is the only one and runs as
/// many tasks as desired.
fn ecs_says_done(service: &ServiceState, ours: &DeploymentState) -> bool {
    service.desired_count == 0
        || ours.rollout_state.as_deref() == Some("COMPLETED")
        || (ours.rollout_state.is_none()
            && service.deployments.len() == 1
            && ours.running_count == service.desired_count
            && ours.pending_count == 0)
}

/// Progress from ECS's counts, while the tasks themselves are not read.
fn counted_progress(service: &ServiceState, ours: &DeploymentState, goal: &Goal) -> String {
    let mut progress = format!(
        "{} of {} running on {} (ECS's count), rollout {}",
        ours.running_count,
        service.desired_count,
        short_arn(&goal.task_definition),
        ours.rollout_state
            .as_deref()
            .unwrap_or("state not reported")
    );
    if ours.failed_tasks > 0 {
        progress.push_str(&format!(", {} failed tasks", ours.failed_tasks));
    }
    progress
}

/// Whether every health-checked container of the task is HEALTHY (tasks without any count as healthy).
fn is_healthy(task: &TaskState, health_checked: &BTreeSet<String>) -> bool {
    task.container_health
        .iter()
        .filter(|(name, _)| health_checked.contains(name))
        .all(|(_, health)| health == "HEALTHY")
}

/// `family:revision` of a task definition ARN, or the text unchanged.
pub fn short_arn(arn: &str) -> &str {
    arn.rsplit_once("task-definition/")
        .map_or(arn, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:1";
    const NEW: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:2";
    const OTHER: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:3";

    fn goal(health_checked: &[&str]) -> Goal {
        Goal {
            deployment_id: Some("ecs-svc/new".into()),
            task_definition: NEW.into(),
            previous_task_definition: Some(OLD.into()),
            health_checked: health_checked.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn deployment(
        id: &str,
        status: &str,
        td: &str,
        rollout: Option<&str>,
        running: i32,
    ) -> DeploymentState {
        DeploymentState {
            id: format!("ecs-svc/{id}"),
            status: status.into(),
            task_definition: td.into(),
            rollout_state: rollout.map(str::to_owned),
            rollout_state_reason: rollout.map(|r| format!("rollout {r}")),
            running_count: running,
            pending_count: 0,
            failed_tasks: 0,
        }
    }

    fn task(td: &str, status: &str, health: &str) -> TaskState {
        TaskState {
            arn: "arn:aws:ecs:us-east-1:1:task/default/t".into(),
            task_definition: td.into(),
            last_status: status.into(),
            container_health: vec![
                ("web".into(), health.into()),
                ("log".into(), "UNKNOWN".into()),
            ],
        }
    }

    fn observe(
        desired: i32,
        deployments: Vec<DeploymentState>,
        tasks: Vec<TaskState>,
    ) -> Observation {
        Observation {
            service: Some(ServiceState {
                status: "ACTIVE".into(),
                desired_count: desired,
                deployments,
            }),
            tasks: Some(tasks),
        }
    }

    fn new_primary(rollout: Option<&str>, running: i32) -> DeploymentState {
        deployment("new", "PRIMARY", NEW, rollout, running)
    }

    fn old_active(running: i32) -> DeploymentState {
        deployment("old", "ACTIVE", OLD, Some("COMPLETED"), running)
    }

    #[derive(Debug, PartialEq)]
    enum Expect {
        InProgress,
        Done,
        Gone,
        Failed,
        RolledBack,
        Superseded,
    }

    #[test]
    fn verdicts() {
        use Expect::*;
        let healthy_new = || {
            vec![
                task(NEW, "RUNNING", "HEALTHY"),
                task(NEW, "RUNNING", "HEALTHY"),
            ]
        };
        let cases: Vec<(&str, Observation, Goal, Expect)> = vec![
            (
                "COMPLETED with all tasks on the new revision, healthy",
                observe(2, vec![new_primary(Some("COMPLETED"), 2)], healthy_new()),
                goal(&["web"]),
                Done,
            ),
            (
                "COMPLETED but an old task still running",
                observe(2, vec![new_primary(Some("COMPLETED"), 2)], {
                    let mut t = healthy_new();
                    t.push(task(OLD, "RUNNING", "HEALTHY"));
                    t
                }),
                goal(&["web"]),
                InProgress,
            ),
            (
                "COMPLETED but a health-checked container not yet healthy",
                observe(
                    2,
                    vec![new_primary(Some("COMPLETED"), 2)],
                    vec![
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(NEW, "RUNNING", "UNKNOWN"),
                    ],
                ),
                goal(&["web"]),
                InProgress,
            ),
            (
                "no health check: RUNNING is enough",
                observe(
                    2,
                    vec![new_primary(Some("COMPLETED"), 2)],
                    vec![
                        task(NEW, "RUNNING", "UNKNOWN"),
                        task(NEW, "RUNNING", "UNKNOWN"),
                    ],
                ),
                goal(&[]),
                Done,
            ),
            (
                "COMPLETED but fewer running tasks than desired",
                observe(
                    2,
                    vec![new_primary(Some("COMPLETED"), 1)],
                    vec![
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(NEW, "PENDING", "UNKNOWN"),
                    ],
                ),
                goal(&["web"]),
                InProgress,
            ),
            (
                "one new task RUNNING is not done (the old script's mistake)",
                observe(
                    2,
                    vec![new_primary(Some("IN_PROGRESS"), 1), old_active(2)],
                    vec![
                        task(NEW, "RUNNING", "HEALTHY"),
                        task(OLD, "RUNNING", "HEALTHY"),
                        task(OLD, "RUNNING", "HEALTHY"),
                    ],
                ),
                goal(&["web"]),
                InProgress,
            ),
            (
                "IN_PROGRESS with every task already new waits for ECS",
                observe(2, vec![new_primary(Some("IN_PROGRESS"), 2)], healthy_new()),
                goal(&["web"]),
                InProgress,
            ),
            (
                "desiredCount 0 is done once nothing else runs",
                observe(0, vec![new_primary(Some("IN_PROGRESS"), 0)], vec![]),
                goal(&["web"]),
                Done,
            ),
            (
                "no rolloutState: one deployment, ours, running == desired",
                observe(2, vec![new_primary(None, 2)], healthy_new()),
                goal(&["web"]),
                Done,
            ),
            (
                "no rolloutState: two deployments is not done",
                observe(2, vec![new_primary(None, 2), old_active(0)], healthy_new()),
                goal(&["web"]),
                InProgress,
            ),
            (
                "no rolloutState: pending tasks is not done",
                observe(
                    2,
                    vec![DeploymentState {
                        pending_count: 1,
                        ..new_primary(None, 2)
                    }],
                    healthy_new(),
                ),
                goal(&["web"]),
                InProgress,
            ),
            (
                "FAILED without rollback",
                observe(
                    2,
                    vec![new_primary(Some("FAILED"), 0), old_active(2)],
                    vec![],
                ),
                goal(&["web"]),
                Failed,
            ),
            (
                "circuit breaker rolled back: the old revision is PRIMARY again",
                observe(
                    2,
                    vec![
                        deployment("rollback", "PRIMARY", OLD, Some("IN_PROGRESS"), 2),
                        deployment("new", "ACTIVE", NEW, Some("FAILED"), 0),
                    ],
                    vec![],
                ),
                goal(&["web"]),
                RolledBack,
            ),
            (
                "one deployment, running == desired, but it is the rollback",
                observe(
                    2,
                    vec![deployment("rollback", "PRIMARY", OLD, None, 2)],
                    vec![
                        task(OLD, "RUNNING", "HEALTHY"),
                        task(OLD, "RUNNING", "HEALTHY"),
                    ],
                ),
                goal(&["web"]),
                RolledBack,
            ),
            (
                "another update took over",
                observe(
                    2,
                    vec![
                        deployment("other", "PRIMARY", OTHER, Some("IN_PROGRESS"), 0),
                        deployment("new", "ACTIVE", NEW, Some("IN_PROGRESS"), 1),
                    ],
                    vec![],
                ),
                goal(&["web"]),
                Superseded,
            ),
            (
                "service deleted",
                Observation {
                    service: None,
                    tasks: None,
                },
                goal(&["web"]),
                Gone,
            ),
            (
                "service draining",
                Observation {
                    service: Some(ServiceState {
                        status: "DRAINING".into(),
                        ..Default::default()
                    }),
                    tasks: None,
                },
                goal(&["web"]),
                Gone,
            ),
            (
                "found by task definition when the deployment id is unknown",
                observe(2, vec![new_primary(Some("COMPLETED"), 2)], healthy_new()),
                Goal {
                    deployment_id: None,
                    ..goal(&["web"])
                },
                Done,
            ),
        ];
        for (name, observation, goal, expected) in cases {
            let verdict = judge(&observation, &goal);
            let got = match &verdict {
                Verdict::InProgress(_) => InProgress,
                Verdict::Done => Done,
                Verdict::Failed(Failure::ServiceGone(_)) => Gone,
                Verdict::Failed(Failure::DeploymentFailed(_)) => Failed,
                Verdict::Failed(Failure::RolledBackByEcs { .. }) => RolledBack,
                Verdict::Failed(Failure::Superseded { .. }) => Superseded,
            };
            assert_eq!(got, expected, "{name}: {verdict:?}");
        }
    }

    #[test]
    fn progress_and_reasons_are_readable() {
        let obs = observe(
            3,
            vec![new_primary(Some("IN_PROGRESS"), 1), old_active(3)],
            vec![
                task(NEW, "RUNNING", "HEALTHY"),
                task(OLD, "RUNNING", "HEALTHY"),
            ],
        );
        assert_eq!(
            judge(&obs, &goal(&["web"])),
            Verdict::InProgress(
                "1 running and healthy on web:2, 3 desired, 1 on other task definitions, rollout IN_PROGRESS".into()
            )
        );
        let superseded = Failure::Superseded {
            by_task_definition: OTHER.into(),
        };
        assert!(
            superseded.reason().contains("web:3"),
            "{}",
            superseded.reason()
        );
        assert_eq!(short_arn("web:7"), "web:7");
    }

    #[test]
    fn tasks_are_read_only_once_ecs_says_the_deployment_is_done() {
        // (case, deployments, tasks needed)
        let cases = [
            (
                "in progress",
                vec![new_primary(Some("IN_PROGRESS"), 1), old_active(2)],
                false,
            ),
            ("completed", vec![new_primary(Some("COMPLETED"), 2)], true),
            (
                "failed",
                vec![deployment("new", "PRIMARY", NEW, Some("FAILED"), 0)],
                false,
            ),
            (
                "another deployment is primary",
                vec![deployment("other", "PRIMARY", OTHER, Some("COMPLETED"), 2)],
                false,
            ),
            (
                "no rollout state, settled",
                vec![new_primary(None, 2)],
                true,
            ),
        ];
        for (name, deployments, needed) in cases {
            let obs = observe(2, deployments, vec![]);
            let service = obs.service.as_ref().expect("a service");
            assert_eq!(needs_tasks(service, &goal(&["web"])), needed, "{name}");
        }
        let unread = Observation {
            tasks: None,
            ..observe(2, vec![new_primary(Some("COMPLETED"), 2)], vec![])
        };
        assert_eq!(
            judge(&unread, &goal(&["web"])),
            Verdict::InProgress("2 of 2 running on web:2 (ECS's count), rollout COMPLETED".into())
        );
    }
}
