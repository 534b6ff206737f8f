//! The work of a BLUE_GREEN, LINEAR or CANARY deployment's stages: scale the new revision up beside the
//! old one, shift production traffic in the strategy's steps, and clean the old revision up.

use crate::deployment::RolloutState;
use crate::failure::Detector;
use crate::scheduler::Scheduler;
use crate::service::Service;
use crate::service_deployment::Status;
use crate::task::TaskStatus;

/// The lifecycle stages of a BLUE_GREEN, LINEAR or CANARY deployment, in order; for LINEAR and CANARY the
/// two production traffic stages come again at every step (see [`next_stage`]).
pub const STAGES: [&str; 10] = [
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

/// The stage after `stage` of a deployment at traffic step `step` of `steps`: for linear and canary
/// deployments, PRE_PRODUCTION_TRAFFIC_SHIFT "is invoked before every traffic shift step" and
/// PRODUCTION_TRAFFIC_SHIFT "at every traffic shift step" (`ServiceDeployment.lifecycleStage`), so after a
/// step that is not the last the deployment goes back to PRE_PRODUCTION_TRAFFIC_SHIFT.
pub fn next_stage(stage: &str, step: usize, steps: usize) -> Option<&'static str> {
    if stage == "PRODUCTION_TRAFFIC_SHIFT" && step < steps {
        return Some("PRE_PRODUCTION_TRAFFIC_SHIFT");
    }
    STAGES
        .iter()
        .position(|s| *s == stage)
        .and_then(|i| STAGES.get(i + 1))
        .copied()
}

impl Scheduler<'_> {
    /// SCALE_UP: the new revision starts beside the old one, up to the desired count; done once that many
    /// of its tasks are healthy. The circuit breaker counts its failures.
    pub(crate) fn scale_up(&mut self, service: &mut Service) -> bool {
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

    /// PRODUCTION_TRAFFIC_SHIFT: this step's share of production traffic (taken when the stage was
    /// entered), then, unless it is the last step, the step's bake (*inferred*: counted from the stage's
    /// start, its hooks' time included).
    pub(crate) fn shift_traffic(&mut self, service: &mut Service) -> bool {
        let now = self.now;
        let Some(record) = service.service_deployments.first() else {
            return false;
        };
        let (shares, bake) = record.configuration.traffic_steps();
        record.step >= shares.len() || now.saturating_sub(record.stage_since) >= bake
    }

    /// CLEAN_UP: the old revision's tasks stop; once they are gone the deployment is COMPLETED.
    pub(crate) fn clean_up(&mut self, service: &mut Service) -> bool {
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
            task.stop(reason.clone(), "ServiceSchedulerInitiated", Some(0));
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

    /// Healthy tasks of a deployment.
    fn healthy(&self, deployment_id: &str) -> u32 {
        self.tasks
            .values()
            .filter(|t| t.deployment_id == deployment_id && t.is_healthy())
            .count() as u32
    }
}
