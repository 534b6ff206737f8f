//! How a service deployment fails and rolls back: the circuit breaker, a deployment alarm, a lifecycle hook or
//! a requested rollback fails it; it then rolls back (to the last completed deployment, or the revision a
//! staged deployment started beside) or stops.

use crate::configuration::Strategy;
use crate::deployment::RolloutState;
use crate::json::epoch_now;
use crate::scheduler::Scheduler;
use crate::service::Service;
use crate::service_deployment::{Monitor, RollbackInfo, Status};
use crate::task::TaskStatus;

/// What failed a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detector {
    /// The circuit breaker counted too many failed tasks.
    CircuitBreaker,
    /// These deployment alarms went into ALARM.
    Alarms(Vec<String>),
    /// A lifecycle hook failed, timed out or was answered ROLLBACK.
    Hook,
    /// StopServiceDeployment asked for a rollback.
    Requested,
}

impl Scheduler<'_> {
    /// Fails the current deployment for `reason`: its `deployments[]` entry is FAILED; it rolls back when
    /// the detector says so (a hook or a requested stop always does), and is STOPPED otherwise.
    pub(crate) fn fail(&mut self, service: &mut Service, detector: Detector, reason: String) {
        let now = self.now;
        let name = service.name.clone();
        let Some(record) = service.service_deployments.first_mut() else {
            return;
        };
        let config = &record.configuration;
        let rollback = match &detector {
            Detector::CircuitBreaker => config.rollback,
            Detector::Alarms(_) => config.alarms.as_ref().is_some_and(|a| a.rollback),
            Detector::Hook | Detector::Requested => true,
        };
        match &detector {
            Detector::CircuitBreaker => record.breaker.0 = Monitor::Triggered,
            Detector::Alarms(names) => record.alarms = (Monitor::Triggered, names.clone()),
            _ => {}
        }
        let staged = config.strategy != Strategy::Rolling;
        let target_id = record.deployment_id.clone();
        let source_id = record.source_deployment_id.clone();
        if let Some(target) = service.deployments.iter_mut().find(|d| d.id == target_id) {
            target.set_rollout(RolloutState::Failed, reason.clone());
        }
        let what = match &detector {
            Detector::CircuitBreaker => "tasks failed to start",
            Detector::Alarms(_) => "alarm detected",
            Detector::Hook => "lifecycle hook failed",
            Detector::Requested => "rollback requested",
        };
        service.event(format!(
            "(service {name}) (deployment {target_id}) deployment failed: {what}."
        ));
        // A staged deployment goes back to the deployment it started beside; a rolling one to the last
        // completed one.
        let back = if staged {
            source_id
                .as_ref()
                .and_then(|id| service.deployments.iter().find(|d| &d.id == id))
                .map(|d| (d.task_definition.clone(), d.revision.clone()))
        } else {
            service
                .last_completed
                .clone()
                .zip(service.last_completed_revision.clone())
        };
        let Some((task_definition, revision)) = back.filter(|_| rollback) else {
            if let Some(record) = service.service_deployments.first_mut() {
                // "The service deployment stops when ... The rollback option is not in use for the failure
                // detection mechanism (the circuit breaker or alarm-based) and the service fails."
                record.set(Status::StopRequested, reason);
            }
            return;
        };
        let rollback_deployment = (!staged).then(|| {
            let mut back = service.new_deployment(task_definition.clone(), revision.clone());
            back.rollout_state_reason = format!(
                "ECS deployment circuit breaker: rolling back to deployment with task definition {task_definition}."
            );
            back
        });
        let back_id = match &rollback_deployment {
            Some(back) => back.id.clone(),
            None => source_id.clone().unwrap_or_default(),
        };
        if let Some(record) = service.service_deployments.first_mut() {
            record.rollback = Some(RollbackInfo {
                reason: reason.clone(),
                started_at: epoch_now(),
                revision,
            });
            record.set(Status::RollbackInProgress, reason);
            record.enter(if staged { "CLEAN_UP" } else { "SCALE_UP" }, now);
            record.rollback_deployment_id = Some(back_id.clone());
        }
        match rollback_deployment {
            Some(back) => {
                let message = format!(
                    "(service {name}) (deployment {target_id}) rolling back to deployment {} with task definition {task_definition}.",
                    back.id
                );
                service.deployments.insert(0, back);
                service.event(message);
            }
            None => {
                // The old revision still runs: it takes the traffic back, and the new one's tasks stop.
                if let Some(i) = service.deployments.iter().position(|d| d.id == back_id) {
                    let mut source = service.deployments.remove(i);
                    // `Deployment.updatedAt`: "The Unix timestamp for the time when the service deployment
                    // was last updated." *Inferred:* taking the traffic back as PRIMARY is an update.
                    source.updated_at = epoch_now();
                    service.deployments.insert(0, source);
                }
                let stop = format!("Rollback initiated by (deployment {target_id})");
                for task in self
                    .tasks
                    .values_mut()
                    .filter(|t| t.service == name && t.deployment_id == target_id)
                {
                    task.stop(stop.clone(), "ServiceSchedulerInitiated", Some(0));
                }
            }
        }
    }

    /// A rollback under way: done once the deployment it runs COMPLETED (rolling), or the new revision's
    /// tasks are gone (staged); failed if it FAILED too.
    pub(crate) fn rolling_back(&mut self, service: &mut Service) {
        let Some(record) = service.service_deployments.first() else {
            return;
        };
        let staged = record.configuration.strategy != Strategy::Rolling;
        let target_id = record.deployment_id.clone();
        let Some(back_id) = record.rollback_deployment_id.clone() else {
            return;
        };
        let back = service
            .deployments
            .iter()
            .find(|d| d.id == back_id)
            .map(|d| (d.rollout_state, d.revision.clone()));
        let outcome = if staged {
            let gone = self
                .tasks
                .values()
                .all(|t| t.deployment_id != target_id || t.last_status == TaskStatus::Stopped);
            gone.then_some(Status::RollbackSuccessful)
        } else {
            match back.as_ref().map(|(state, _)| *state) {
                Some(RolloutState::Completed) => Some(Status::RollbackSuccessful),
                Some(RolloutState::Failed) => Some(Status::RollbackFailed),
                _ => None,
            }
        };
        if staged && outcome.is_some() {
            service.deployments.retain(|d| d.id != target_id);
        }
        let revision = back.map(|(_, revision)| revision).unwrap_or_default();
        if let (Some(status), Some(record)) = (outcome, service.service_deployments.first_mut()) {
            let why = record
                .rollback
                .as_ref()
                .map(|r| r.reason.clone())
                .unwrap_or_default();
            let reason = match status {
                Status::RollbackSuccessful => {
                    format!("{why} Rolled back to service revision {revision}.")
                }
                _ => format!("{why} The rollback failed too: the service's state is unknown."),
            };
            record.set(status, reason.trim_start().to_owned());
        }
    }
}
