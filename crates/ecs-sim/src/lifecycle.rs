//! How each service deployment goes, one simulated second at a time: a rolling one follows its
//! `deployments[]` entry; a BLUE_GREEN, LINEAR or CANARY one walks the lifecycle stages (see
//! [`crate::stages`]), waiting on lifecycle hooks; a deployment alarm in ALARM fails either (see
//! [`crate::failure`]).

use crate::configuration::Strategy;
use crate::deployment::RolloutState;
use crate::failure::Detector;
use crate::hooks::{HookOutcome, start_hooks};
use crate::json::epoch_now;
use crate::scheduler::Scheduler;
use crate::service::Service;
use crate::service_deployment::Status;
use crate::stages::{STAGES, next_stage};

impl Scheduler<'_> {
    /// Moves the service's unfinished service deployment along; returns whether the rolling scheduler runs
    /// this second (not while a BLUE_GREEN, LINEAR or CANARY deployment, or its rollback, is in charge).
    pub(crate) fn lifecycle(&mut self, service: &mut Service) -> bool {
        // A stop asked for is carried out within a second: STOP_REQUESTED is "ongoing", STOPPED
        // "completed" (the developer guide's service deployment stages).
        for record in &mut service.service_deployments {
            if record.status == Status::StopRequested {
                let reason = record.status_reason.clone().unwrap_or_default();
                record.set(Status::Stopped, reason);
            }
        }
        let Some(record) = service.service_deployments.first() else {
            return true;
        };
        if record.status.is_final() {
            return true;
        }
        let staged = record.configuration.strategy != Strategy::Rolling;
        match record.status {
            Status::Pending => self.begin(service, staged),
            Status::RollbackRequested => {
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
        let steps = record.configuration.traffic_steps().0.len();
        if let Some(next) = next_stage(stage, record.step, steps) {
            record.enter(next, now);
            if next == "PRODUCTION_TRAFFIC_SHIFT" {
                record.step += 1;
            }
            start_hooks(record, now);
        }
    }
}
