//! ECS's own record of a service's deployment: one per update, with its status, lifecycle stage, hooks,
//! circuit breaker, alarms and rollback, rendered as DescribeServiceDeployments and ListServiceDeployments
//! return it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::configuration::DeploymentConfiguration;
use crate::deployment::Deployment;
use crate::hook_run::HookRun;
use crate::json::epoch_now;
use crate::task::{Task, TaskStatus};

/// A service deployment's status, as the model lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created; the scheduler has not taken it up yet.
    Pending,
    /// Going.
    InProgress,
    /// Done: the target revision runs.
    Successful,
    /// Stopped without a rollback: a failure with rollback off, or a newer deployment replaced it.
    Stopped,
    /// A stop was asked for.
    StopRequested,
    /// A rollback was asked for (StopServiceDeployment, or ContinueServiceDeployment with ROLLBACK).
    RollbackRequested,
    /// Going back to the source revision.
    RollbackInProgress,
    /// Back on the source revision.
    RollbackSuccessful,
    /// The rollback failed too: what runs is not known.
    RollbackFailed,
}

impl Status {
    /// The status as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::InProgress => "IN_PROGRESS",
            Self::Successful => "SUCCESSFUL",
            Self::Stopped => "STOPPED",
            Self::StopRequested => "STOP_REQUESTED",
            Self::RollbackRequested => "ROLLBACK_REQUESTED",
            Self::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            Self::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
            Self::RollbackFailed => "ROLLBACK_FAILED",
        }
    }

    /// Whether nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Successful | Self::Stopped | Self::RollbackSuccessful | Self::RollbackFailed
        )
    }
}

/// The state of a failure detector (circuit breaker, alarms) for one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitor {
    /// Not in use.
    Disabled,
    /// Watching.
    Monitoring,
    /// It failed the deployment.
    Triggered,
    /// The deployment ended without it triggering.
    MonitoringComplete,
}

impl Monitor {
    /// The state as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "DISABLED",
            Self::Monitoring => "MONITORING",
            Self::Triggered => "TRIGGERED",
            Self::MonitoringComplete => "MONITORING_COMPLETE",
        }
    }
}

/// A rollback under way or done.
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackInfo {
    /// Why.
    pub reason: String,
    /// When it started (epoch seconds).
    pub started_at: f64,
    /// The revision it goes back to.
    pub revision: String,
}

/// One service deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDeployment {
    /// `arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID`.
    pub arn: String,
    /// The service's ARN.
    pub service_arn: String,
    /// When it was created, started, finished, stopped and last updated (epoch seconds).
    pub created_at: f64,
    /// When the scheduler took it up.
    pub started_at: Option<f64>,
    /// When it ended (successfully, or its rollback did).
    pub finished_at: Option<f64>,
    /// When it was stopped.
    pub stopped_at: Option<f64>,
    /// When it last changed.
    pub updated_at: f64,
    /// The revisions running when it started.
    pub sources: Vec<String>,
    /// The revision it deploys.
    pub target: String,
    /// Its status.
    pub status: Status,
    /// Why it has that status.
    pub status_reason: Option<String>,
    /// Its lifecycle stage.
    pub stage: Option<&'static str>,
    /// Simulated second it entered the stage.
    pub stage_since: u64,
    /// The traffic step reached (for LINEAR and CANARY), counted from 1.
    pub step: usize,
    /// The hooks running at the current stage.
    pub hooks: Vec<HookRun>,
    /// The service's deployment configuration when it started.
    pub configuration: DeploymentConfiguration,
    /// The rollback, once one started.
    pub rollback: Option<RollbackInfo>,
    /// The circuit breaker's state and failures counted.
    pub breaker: (Monitor, u32),
    /// The alarms' state and the ones that went off.
    pub alarms: (Monitor, Vec<String>),
    /// The `deployments[]` entry (`ecs-svc/...`) that runs the target revision.
    pub deployment_id: String,
    /// The `deployments[]` entry the rollback runs, once there is one.
    pub rollback_deployment_id: Option<String>,
    /// The `deployments[]` entry of the source revision, which a blue/green rollback returns to.
    pub source_deployment_id: Option<String>,
}

impl ServiceDeployment {
    /// A PENDING service deployment of `target` replacing `sources`, run by `deployment_id`.
    pub fn new(
        arn: String,
        service_arn: String,
        target: String,
        sources: Vec<String>,
        configuration: DeploymentConfiguration,
        deployment_id: String,
        now: u64,
    ) -> Self {
        let at = epoch_now();
        let breaker = if configuration.circuit_breaker {
            Monitor::Monitoring
        } else {
            Monitor::Disabled
        };
        let alarms = if configuration.alarms.as_ref().is_some_and(|a| a.enable) {
            Monitor::Monitoring
        } else {
            Monitor::Disabled
        };
        Self {
            arn,
            service_arn,
            created_at: at,
            started_at: None,
            finished_at: None,
            stopped_at: None,
            updated_at: at,
            sources,
            target,
            status: Status::Pending,
            status_reason: None,
            stage: None,
            stage_since: now,
            step: 0,
            hooks: Vec::new(),
            configuration,
            rollback: None,
            breaker: (breaker, 0),
            alarms: (alarms, Vec::new()),
            deployment_id,
            rollback_deployment_id: None,
            source_deployment_id: None,
        }
    }

    /// Moves it to `status` for `reason`.
    pub fn set(&mut self, status: Status, reason: impl Into<String>) {
        self.status = status;
        self.status_reason = Some(reason.into());
        self.updated_at = epoch_now();
        if status.is_final() {
            if status == Status::Stopped {
                self.stopped_at = Some(self.updated_at);
            } else {
                self.finished_at = Some(self.updated_at);
            }
            for monitor in [&mut self.breaker.0, &mut self.alarms.0] {
                if *monitor == Monitor::Monitoring {
                    *monitor = Monitor::MonitoringComplete;
                }
            }
        }
    }

    /// Marks it IN_PROGRESS.
    pub fn set_in_progress(&mut self) {
        self.status = Status::InProgress;
        self.updated_at = epoch_now();
    }

    /// Enters the lifecycle stage `stage` at simulated second `now`.
    pub fn enter(&mut self, stage: &'static str, now: u64) {
        self.stage = Some(stage);
        self.stage_since = now;
        self.hooks.clear();
        self.updated_at = epoch_now();
    }

    /// Renders it as DescribeServiceDeployments returns it: in the cluster `cluster_arn`, for a service
    /// with the deployments `deployments` and `desired_count` tasks wanted, counting the cluster's `tasks`.
    pub fn render(
        &self,
        cluster_arn: &str,
        (deployments, desired_count): (&[Deployment], u32),
        tasks: &BTreeMap<String, Task>,
    ) -> Value {
        let summary = |arn: &String| {
            let of_revision = || deployments.iter().filter(|d| &d.revision == arn);
            let ids: Vec<&str> = of_revision().map(|d| d.id.as_str()).collect();
            let tasks = || {
                tasks
                    .values()
                    .filter(|t| ids.contains(&t.deployment_id.as_str()))
            };
            json!({
                "arn": arn,
                "requestedTaskCount": of_revision().map(|d| d.desired_count).sum::<u32>(),
                "runningTaskCount": tasks().filter(|t| t.last_status == TaskStatus::Running).count(),
                "pendingTaskCount": tasks().filter(|t| t.is_pending()).count(),
            })
        };
        let mut out = json!({
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": cluster_arn,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "sourceServiceRevisions": self.sources.iter().map(summary).collect::<Vec<_>>(),
            "targetServiceRevision": summary(&self.target),
            "status": self.status.as_str(),
            "deploymentConfiguration": self.configuration.render(),
            "deploymentCircuitBreaker": {
                "status": self.breaker.0.as_str(),
                "failureCount": self.breaker.1,
                "threshold": self.configuration.failure_threshold(desired_count),
            },
            "alarms": {
                "status": self.alarms.0.as_str(),
                "alarmNames": self.configuration.alarms.as_ref().map(|a| a.names.clone()).unwrap_or_default(),
                "triggeredAlarmNames": self.alarms.1,
            },
        });
        for (member, at) in [
            ("startedAt", self.started_at),
            ("finishedAt", self.finished_at),
            ("stoppedAt", self.stopped_at),
        ] {
            if let Some(at) = at {
                out[member] = json!(at);
            }
        }
        if let Some(reason) = &self.status_reason {
            out["statusReason"] = json!(reason);
        }
        if let Some(stage) = self.stage {
            out["lifecycleStage"] = json!(stage);
        }
        if !self.hooks.is_empty() {
            out["lifecycleHookDetails"] =
                Value::Array(self.hooks.iter().map(HookRun::render).collect());
        }
        if let Some(rollback) = &self.rollback {
            out["rollback"] = json!({
                "reason": rollback.reason,
                "startedAt": rollback.started_at,
                "serviceRevisionArn": rollback.revision,
            });
        }
        out
    }

    /// Renders it as ListServiceDeployments lists it.
    pub fn brief(&self, cluster_arn: &str) -> Value {
        let mut out = json!({
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": cluster_arn,
            "createdAt": self.created_at,
            "targetServiceRevisionArn": self.target,
            "status": self.status.as_str(),
        });
        if let Some(at) = self.started_at {
            out["startedAt"] = json!(at);
        }
        if let Some(at) = self.finished_at.or(self.stopped_at) {
            out["finishedAt"] = json!(at);
        }
        if let Some(reason) = &self.status_reason {
            out["statusReason"] = json!(reason);
        }
        out
    }
}

/// A new id for a service revision or deployment: 19 digits, like ECS's.
pub fn new_id() -> String {
    format!("{:019}", uuid::Uuid::new_v4().as_u128() % 10_u128.pow(19))
}

/// (cluster, service) named by a service deployment or revision ARN
/// (`...:service-deployment/CLUSTER/SERVICE/ID`).
pub fn owner_of(arn: &str) -> Option<(&str, &str)> {
    let resource = arn.split_once(':').map(|_| arn.rsplit(':').next())??;
    let mut parts = resource.split('/');
    let kind = parts.next()?;
    if kind != "service-deployment" && kind != "service-revision" {
        return None;
    }
    let cluster = parts.next()?;
    let service = parts.next()?;
    parts.next()?;
    Some((cluster, service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_cluster_and_service() {
        assert_eq!(
            owner_of("arn:aws:ecs:us-east-1:1:service-deployment/default/web/1234"),
            Some(("default", "web"))
        );
        assert_eq!(
            owner_of("arn:aws:ecs:us-east-1:1:service-revision/prod/api/99"),
            Some(("prod", "api"))
        );
        assert_eq!(
            owner_of("arn:aws:ecs:us-east-1:1:service/default/web"),
            None
        );
        assert_eq!(owner_of("web"), None);
        assert_eq!(new_id().len(), 19);
    }

    #[test]
    fn a_final_status_stamps_its_time_and_closes_the_monitors() {
        let mut config = DeploymentConfiguration::default();
        config.circuit_breaker = true;
        let mut d = ServiceDeployment::new(
            "arn".into(),
            "svc".into(),
            "rev-2".into(),
            vec!["rev-1".into()],
            config,
            "ecs-svc/1".into(),
            0,
        );
        assert_eq!(d.breaker.0, Monitor::Monitoring);
        assert_eq!(d.alarms.0, Monitor::Disabled);
        d.set(Status::Successful, "done");
        assert!(d.finished_at.is_some() && d.stopped_at.is_none());
        assert_eq!(d.breaker.0, Monitor::MonitoringComplete);
        let mut stopped = d.clone();
        stopped.set(Status::Stopped, "replaced");
        assert!(stopped.stopped_at.is_some());
    }
}
