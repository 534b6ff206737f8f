//! A service, its deployments and its tasks as ECS shows them, in plain types that the decisions read, and
//! whether the worker can deploy the service at all.

/// A service as DescribeServices shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceState {
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
    /// How many tasks the service should run.
    pub desired_count: i32,
    /// The service's deployments, PRIMARY first as ECS lists them.
    pub deployments: Vec<DeploymentState>,
    /// `deploymentController.type`: ECS (rolling updates and ECS's own blue/green, linear and canary),
    /// CODE_DEPLOY or EXTERNAL; absent means ECS.
    pub deployment_controller: Option<String>,
    /// `currentServiceDeployment`: the ARN of the service deployment ECS is on, when it says.
    pub current_service_deployment: Option<String>,
    /// What the service's deployment configuration says a deployment takes beyond its tasks starting.
    pub timing: Timing,
    /// What the service's deployment configuration says of how a deployment ends.
    pub rules: Rules,
}

/// What a deployment configuration says of how a deployment ends, beyond its timing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// `earlySuccessCriteria`, when enabled: `healthyPercent`, and whether the old revision's tasks are
    /// removed after the deployment is marked successful (DEFERRED) rather than before (BLOCKING).
    pub early_success: Option<(i32, bool)>,
    /// Whether ECS rolls a failed deployment back by itself: the circuit breaker's or the deployment
    /// alarms' `rollback`.
    pub ecs_rolls_back: bool,
    /// Whether deployment alarms watch deployments: a rolling one then bakes, which only ECS's record
    /// shows.
    pub alarms: bool,
}

/// The parts of a deployment configuration that make a deployment take longer than its tasks need to
/// start: the strategy's bakes and the lifecycle hooks' timeouts, in minutes as ECS takes them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    /// ROLLING (or absent), BLUE_GREEN, LINEAR or CANARY.
    pub strategy: Option<String>,
    /// `bakeTimeInMinutes`.
    pub bake_minutes: Option<i32>,
    /// LINEAR: (`stepPercent`, `stepBakeTimeInMinutes`).
    pub linear: Option<(f64, i32)>,
    /// CANARY: `canaryBakeTimeInMinutes`.
    pub canary_bake_minutes: Option<i32>,
    /// Each lifecycle hook's timeout in minutes (absent: ECS's default) and the stages it runs at.
    pub hooks: Vec<(Option<i32>, Vec<String>)>,
}

impl Timing {
    /// Whether the strategy has stages, bakes or hooks that only ECS's service deployment shows
    /// (BLUE_GREEN, LINEAR, CANARY), so its record is read at every poll; a rolling deployment's
    /// `deployments[]` entry shows its progress, and the record is read only once that looks settled.
    pub fn staged(&self) -> bool {
        matches!(
            self.strategy.as_deref(),
            Some("BLUE_GREEN" | "LINEAR" | "CANARY")
        ) || !self.hooks.is_empty()
    }
}

/// A service deployment as DescribeServiceDeployments shows it: ECS's own record and verdict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceDeploymentState {
    /// Its ARN.
    pub arn: String,
    /// PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_REQUESTED,
    /// ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL or ROLLBACK_FAILED.
    pub status: String,
    /// Why it has that status, as ECS words it.
    pub status_reason: Option<String>,
    /// The lifecycle stage it is at.
    pub lifecycle_stage: Option<String>,
    /// Why it was rolled back, when it was.
    pub rollback_reason: Option<String>,
    /// The circuit breaker: its status, the failures it counted and its threshold.
    pub circuit_breaker: Option<(String, i32, i32)>,
    /// The deployment alarms that went into ALARM.
    pub triggered_alarms: Vec<String>,
    /// The lifecycle hooks waiting for ContinueServiceDeployment (their ids).
    pub paused_hooks: Vec<String>,
    /// The lifecycle hooks ECS is still running (Lambda hooks IN_PROGRESS; their ids).
    pub running_hooks: Vec<String>,
    /// The service revision it deploys (`targetServiceRevision.arn`).
    pub target_revision: Option<String>,
    /// The task definition of that revision, once read (DescribeServiceRevisions): what binds the record
    /// to a rollout.
    pub target_task_definition: Option<String>,
}

impl ServiceState {
    /// Whether ECS's record of a deployment is read at every poll: when the strategy has stages, bakes or
    /// hooks only the record shows (see [`Timing::staged`]), or deployment alarms make a rolling
    /// deployment bake.
    pub fn record_every_poll(&self) -> bool {
        self.timing.staged() || self.rules.alarms
    }

    /// Why the worker cannot point the service at a new revision, if it cannot: it is not ACTIVE, or its
    /// deployments are made by AWS CodeDeploy or through task sets, which UpdateService refuses. Decided
    /// before anything is registered.
    pub fn not_deployable(&self, service: &str, cluster: &str) -> Option<String> {
        if self.status != "ACTIVE" {
            return Some(format!(
                "service '{service}' in cluster '{cluster}' is {}, not ACTIVE",
                self.status
            ));
        }
        let how = match self.deployment_controller.as_deref() {
            None | Some("ECS") => return None,
            Some("CODE_DEPLOY") => "its deployments are made through AWS CodeDeploy",
            Some("EXTERNAL") => "its deployments are made through task sets by another controller",
            Some(_) => "only services of the ECS deployment controller can be deployed here",
        };
        Some(format!(
            "service '{service}' in cluster '{cluster}' uses the {} deployment controller: {how}, and ECS refuses to point it at a task definition; nothing was registered. To register the revision only, send the message with service=false",
            self.deployment_controller.as_deref().unwrap_or_default()
        ))
    }
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
    /// When ECS created it (milliseconds since the epoch), when it says: which of two deployments is newer.
    pub created_at_ms: Option<i64>,
    /// When ECS last changed it (milliseconds since the epoch), when it says: a read that shows an older
    /// deployment PRIMARY again after the goal's began is no read from before the update.
    pub updated_at_ms: Option<i64>,
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
    /// The task's own `healthStatus`, as ECS derives it from its containers', when it says.
    pub health: Option<String>,
    /// `startedBy`: for a service's task, the deployment that started it.
    pub started_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_services_of_the_ecs_controller_can_be_deployed() {
        let state = |status: &str, controller: Option<&str>| ServiceState {
            status: status.into(),
            deployment_controller: controller.map(str::to_owned),
            ..ServiceState::default()
        };
        // (status, controller, what the reason must say, or None)
        let cases = [
            ("ACTIVE", None, None),
            ("ACTIVE", Some("ECS"), None),
            ("DRAINING", None, Some("is DRAINING, not ACTIVE")),
            (
                "ACTIVE",
                Some("CODE_DEPLOY"),
                Some("CODE_DEPLOY deployment controller"),
            ),
            (
                "ACTIVE",
                Some("EXTERNAL"),
                Some("EXTERNAL deployment controller"),
            ),
            (
                "ACTIVE",
                Some("NEW_ONE"),
                Some("NEW_ONE deployment controller"),
            ),
        ];
        for (status, controller, expected) in cases {
            let reason = state(status, controller).not_deployable("web", "prod");
            match (expected, &reason) {
                (None, None) => {}
                (Some(part), Some(reason)) => {
                    assert!(reason.contains(part), "{reason}");
                    assert!(
                        reason.contains("service 'web' in cluster 'prod'"),
                        "{reason}"
                    );
                }
                _ => panic!("{status} {controller:?}: {reason:?}"),
            }
        }
        let refused = state("ACTIVE", Some("CODE_DEPLOY"))
            .not_deployable("web", "prod")
            .unwrap_or_default();
        assert!(refused.contains("service=false"), "{refused}");
    }

    #[test]
    fn only_staged_strategies_and_hooks_need_the_record_at_every_poll() {
        let timing = |strategy: Option<&str>, hooks: usize| Timing {
            strategy: strategy.map(str::to_owned),
            hooks: vec![(None, vec!["POST_SCALE_UP".to_owned()]); hooks],
            ..Timing::default()
        };
        assert!(!timing(None, 0).staged());
        assert!(!timing(Some("ROLLING"), 0).staged());
        assert!(timing(Some("ROLLING"), 1).staged());
        for staged in ["BLUE_GREEN", "LINEAR", "CANARY"] {
            assert!(timing(Some(staged), 0).staged(), "{staged}");
        }
    }
}
