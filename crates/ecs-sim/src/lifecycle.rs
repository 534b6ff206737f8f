//! How each service deployment goes, one simulated second at a time: a rolling one follows its
//! `deployments[]` entry; a BLUE_GREEN, LINEAR or CANARY one walks the lifecycle stages (scale up beside
//! the old revision, shift test then production traffic in the strategy's steps, bake, clean up), waiting
//! on lifecycle hooks; any of them fails on the circuit breaker, a deployment alarm, a hook or a requested
//! rollback, and then rolls back or stops.

use crate::configuration::Strategy;
use crate::hooks::{HookOutcome, start_hooks};
use crate::rollout::Scheduler;
use crate::service_deployment::{
    Monitor, RollbackInfo, ServiceDeployment, ServiceRevision, Status, new_id,
};
use crate::state::{
    ContainerSpec, Deployment, Identity, RolloutState, Service, TaskStatus, epoch_now,
};

/// Simulated seconds a rolling deployment with deployment alarms keeps watching them once it is steady,
/// before it completes. ECS computes this from the alarms' own settings, which are not simulated.
pub const ALARM_BAKE_SECS: u64 = 120;

/// The lifecycle stages of a BLUE_GREEN, LINEAR or CANARY deployment, in order.
const STAGES: [&str; 9] = [
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

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

impl Service {
    /// Starts a deployment of `task_definition` (whose containers are `images`, with the digests known so
    /// far): a new service revision,
    /// a PRIMARY `deployments[]` entry and a PENDING service deployment. An unfinished service deployment
    /// it replaces is stopped.
    pub fn start_deployment(
        &mut self,
        task_definition: String,
        images: Vec<ContainerSpec>,
        identity: &Identity,
        cluster: &str,
        now: u64,
    ) {
        let revision = ServiceRevision {
            arn: identity.arn(&format!(
                "service-revision/{cluster}/{}/{}",
                self.name,
                new_id()
            )),
            service_arn: self.arn.clone(),
            task_definition: task_definition.clone(),
            launch_type: self.launch_type.clone(),
            images,
            created_at: epoch_now(),
        };
        let mut sources: Vec<String> = Vec::new();
        for d in &self.deployments {
            if !sources.contains(&d.revision) {
                sources.push(d.revision.clone());
            }
        }
        let deployment = Deployment::new(
            task_definition,
            revision.arn.clone(),
            self.desired_count,
            self,
        );
        let mut record = ServiceDeployment::new(
            identity.arn(&format!(
                "service-deployment/{cluster}/{}/{}",
                self.name,
                new_id()
            )),
            self.arn.clone(),
            revision.arn.clone(),
            sources,
            self.deployment_configuration.clone(),
            deployment.id.clone(),
            now,
        );
        record.source_deployment_id = self.deployments.first().map(|d| d.id.clone());
        if let Some(previous) = self.service_deployments.first_mut()
            && !previous.status.is_final()
        {
            previous.set(
                Status::Stopped,
                format!("Replaced by service deployment {}.", record.arn),
            );
        }
        self.revisions.push(revision);
        self.deployments.insert(0, deployment);
        self.service_deployments.insert(0, record);
    }
}

impl Scheduler<'_> {
    /// Moves the service's unfinished service deployment along; returns whether the rolling scheduler runs
    /// this second (not while a BLUE_GREEN, LINEAR or CANARY deployment, or its rollback, is in charge).
    pub(crate) fn lifecycle(&mut self, service: &mut Service) -> bool {
        let Some(record) = service.service_deployments.first() else {
            return true;
        };
        if record.status.is_final() {
            return true;
        }
        let staged = record.configuration.strategy != Strategy::Rolling;
        match record.status {
            Status::Pending => self.begin(service, staged),
            Status::RollbackRequested | Status::StopRequested => {
                self.fail(
                    service,
                    Detector::Requested,
                    "Service deployment rolled back: a rollback was requested.".into(),
                );
            }
            Status::InProgress => {
                if let Some(names) = self.alarms_in_alarm(service) {
                    let reason = format!(
                        "ECS deployment alarms: {} in ALARM state.",
                        names.join(", ")
                    );
                    self.fail(service, Detector::Alarms(names), reason);
                } else if staged {
                    self.staged(service);
                } else {
                    self.rolling(service);
                }
            }
            Status::RollbackInProgress => self.rolling_back(service),
            _ => {}
        }
        let in_charge = service.service_deployments.first().is_some_and(|r| {
            r.status == Status::InProgress || r.status == Status::RollbackInProgress
        });
        !(staged && in_charge)
    }

    fn begin(&mut self, service: &mut Service, staged: bool) {
        let now = self.now;
        let Some(record) = service.service_deployments.first_mut() else {
            return;
        };
        record.started_at = Some(epoch_now());
        record.set_in_progress();
        if staged {
            record.enter(STAGES[0], now);
            start_hooks(record, now);
        } else {
            record.enter("SCALE_UP", now);
        }
    }

    /// The deployment alarms of the current deployment that are in ALARM, if any.
    fn alarms_in_alarm(&self, service: &Service) -> Option<Vec<String>> {
        let alarms = service
            .service_deployments
            .first()?
            .configuration
            .alarms
            .as_ref()
            .filter(|a| a.enable)?;
        let firing: Vec<String> = alarms
            .names
            .iter()
            .filter(|name| self.alarms.get(*name).copied().unwrap_or(false))
            .cloned()
            .collect();
        (!firing.is_empty()).then_some(firing)
    }

    /// A rolling deployment: the circuit breaker, then done once its `deployments[]` entry COMPLETED.
    fn rolling(&mut self, service: &mut Service) {
        let threshold = service
            .deployment_configuration
            .failure_threshold(service.desired_count);
        let Some(record) = service.service_deployments.first_mut() else {
            return;
        };
        let Some(target) = service
            .deployments
            .iter()
            .find(|d| d.id == record.deployment_id)
        else {
            return;
        };
        record.breaker.1 = target.failed_tasks;
        if target.steady_since.is_some() && record.stage != Some("BAKE_TIME") {
            record.enter("BAKE_TIME", self.now);
        }
        match target.rollout_state {
            RolloutState::Completed => record.set(
                Status::Successful,
                "Service deployment completed successfully.",
            ),
            RolloutState::InProgress
                if record.configuration.circuit_breaker && target.failed_tasks >= threshold =>
            {
                self.fail(
                    service,
                    Detector::CircuitBreaker,
                    "ECS deployment circuit breaker: tasks failed to start.".into(),
                );
            }
            _ => {}
        }
    }

    /// A BLUE_GREEN, LINEAR or CANARY deployment: hooks, then the stage's work, then the next stage.
    fn staged(&mut self, service: &mut Service) {
        let now = self.now;
        match self.hooks(service) {
            HookOutcome::Wait => return,
            HookOutcome::Rollback(reason) => {
                self.fail(service, Detector::Hook, reason);
                return;
            }
            HookOutcome::Proceed => {}
        }
        let Some(stage) = service.service_deployments.first().and_then(|r| r.stage) else {
            return;
        };
        let done = match stage {
            "SCALE_UP" => self.scale_up(service),
            "PRODUCTION_TRAFFIC_SHIFT" => self.shift_traffic(service),
            "BAKE_TIME" => service
                .service_deployments
                .first()
                .is_some_and(|r| now.saturating_sub(r.stage_since) >= r.configuration.bake_secs()),
            "CLEAN_UP" => self.clean_up(service),
            _ => true,
        };
        if !done {
            return;
        }
        let Some(record) = service.service_deployments.first_mut() else {
            return;
        };
        if record.status != Status::InProgress {
            return;
        }
        let next = STAGES
            .iter()
            .position(|s| *s == stage)
            .and_then(|i| STAGES.get(i + 1));
        if let Some(next) = next {
            record.enter(next, now);
            if *next == "PRODUCTION_TRAFFIC_SHIFT" {
                record.step = 1;
            }
            start_hooks(record, now);
        }
    }

    /// SCALE_UP: the new revision starts beside the old one, up to the desired count; done once that many
    /// of its tasks are healthy. The circuit breaker counts its failures.
    fn scale_up(&mut self, service: &mut Service) -> bool {
        let threshold = service
            .deployment_configuration
            .failure_threshold(service.desired_count);
        let Some(record) = service.service_deployments.first() else {
            return false;
        };
        let (target_id, breaker) = (
            record.deployment_id.clone(),
            record.configuration.circuit_breaker,
        );
        let Some(index) = service.deployments.iter().position(|d| d.id == target_id) else {
            return false;
        };
        let failed = service.deployments[index].failed_tasks;
        if let Some(record) = service.service_deployments.first_mut() {
            record.breaker.1 = failed;
        }
        if breaker && failed >= threshold {
            self.fail(
                service,
                Detector::CircuitBreaker,
                "ECS deployment circuit breaker: tasks failed to start.".into(),
            );
            return false;
        }
        let desired = service.desired_count;
        let live = self.live(&service.name, Some(&target_id));
        let deployment = service.deployments[index].clone();
        self.start_tasks(service, &deployment, desired.saturating_sub(live));
        self.healthy(&target_id) >= desired
    }

    /// PRODUCTION_TRAFFIC_SHIFT: one step of the strategy's traffic shares after another, each but the last
    /// followed by its bake (its hooks run again at every step).
    fn shift_traffic(&mut self, service: &mut Service) -> bool {
        let now = self.now;
        let Some(record) = service.service_deployments.first_mut() else {
            return false;
        };
        let (shares, bake) = record.configuration.traffic_steps();
        if record.step >= shares.len() {
            return true;
        }
        if now.saturating_sub(record.stage_since) < bake {
            return false;
        }
        record.step += 1;
        record.stage_since = now;
        record.hooks.clear();
        start_hooks(record, now);
        false
    }

    /// CLEAN_UP: the old revision's tasks stop; once they are gone the deployment is COMPLETED.
    fn clean_up(&mut self, service: &mut Service) -> bool {
        let Some(record) = service.service_deployments.first() else {
            return false;
        };
        let target_id = record.deployment_id.clone();
        let reason = format!("Scaling activity initiated by (deployment {target_id})");
        let name = service.name.clone();
        let mut left = 0;
        for task in self
            .tasks
            .values_mut()
            .filter(|t| t.service == name && t.deployment_id != target_id)
        {
            task.stop(reason.clone(), "ServiceSchedulerInitiated", 0);
            if task.last_status != TaskStatus::Stopped {
                left += 1;
            }
        }
        if left > 0 {
            return false;
        }
        service.deployments.retain(|d| d.id == target_id);
        let Some(target) = service.deployments.first_mut() else {
            return false;
        };
        target.set_rollout(
            RolloutState::Completed,
            format!("ECS deployment {target_id} completed."),
        );
        service.last_completed = Some(target.task_definition.clone());
        service.last_completed_revision = Some(target.revision.clone());
        service.event(format!(
            "(service {name}) (deployment {target_id}) deployment completed."
        ));
        service.event(format!("(service {name}) has reached a steady state."));
        if let Some(record) = service.service_deployments.first_mut() {
            record.set(
                Status::Successful,
                "Service deployment completed successfully.",
            );
        }
        true
    }

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
                record.set(Status::Stopped, reason);
            }
            return;
        };
        let rollback_deployment = (!staged).then(|| {
            let mut back = Deployment::new(
                task_definition.clone(),
                revision.clone(),
                service.desired_count,
                service,
            );
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
                    let source = service.deployments.remove(i);
                    service.deployments.insert(0, source);
                }
                let stop = format!("Rollback initiated by (deployment {target_id})");
                for task in self
                    .tasks
                    .values_mut()
                    .filter(|t| t.service == name && t.deployment_id == target_id)
                {
                    task.stop(stop.clone(), "ServiceSchedulerInitiated", 0);
                }
            }
        }
    }

    /// A rollback under way: done once the deployment it runs COMPLETED (rolling), or the new revision's
    /// tasks are gone (staged); failed if it FAILED too.
    fn rolling_back(&mut self, service: &mut Service) {
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

    /// Healthy tasks of a deployment.
    fn healthy(&self, deployment_id: &str) -> u32 {
        self.tasks
            .values()
            .filter(|t| t.deployment_id == deployment_id && t.is_healthy())
            .count() as u32
    }
}
