//! ECS's rolling update, one simulated second at a time: start the PRIMARY's tasks within maximumPercent,
//! stop older ones within minimumHealthyPercent, retire drained deployments, and complete the PRIMARY once
//! it alone runs the desired count of healthy tasks (after the alarm bake under deployment alarms).

use crate::deployment::RolloutState;
use crate::scheduler::{Scheduler, percent_of};
use crate::service::{Service, ServiceStatus};
use crate::service_deployment::Status;
use crate::task::{Task, TaskStatus};

/// Simulated seconds a rolling deployment with deployment alarms keeps watching them once it is steady,
/// before it completes. ECS computes this from the alarms' own settings, which are not simulated.
pub const ALARM_BAKE_SECS: u64 = 120;

impl Scheduler<'_> {
    /// A deleted service: stop everything, then become INACTIVE.
    pub(crate) fn drain(&mut self, service: &mut Service) {
        for task in self
            .tasks
            .values_mut()
            .filter(|t| t.service == service.name)
        {
            task.stop(
                format!("Service {} is being deleted", service.name),
                "ServiceSchedulerInitiated",
                Some(0),
            );
        }
        if self
            .tasks
            .values()
            .all(|t| t.service != service.name || t.last_status == TaskStatus::Stopped)
        {
            service.status = ServiceStatus::Inactive;
            for d in &mut service.deployments {
                d.desired_count = 0;
            }
        }
    }

    /// Starts PRIMARY tasks up to the desired count, within maximumPercent.
    pub(crate) fn launch(&mut self, service: &mut Service) {
        let Some(primary) = service.deployments.first() else {
            return;
        };
        if primary.rollout_state == RolloutState::Failed {
            return;
        }
        let desired = service.desired_count;
        let max_total = percent_of(
            desired,
            service.deployment_configuration.maximum_percent,
            false,
        );
        let live = self.live(&service.name, None);
        let primary_live = self.live(&service.name, Some(&primary.id));
        let to_launch = desired
            .saturating_sub(primary_live)
            .min(max_total.saturating_sub(live));
        let primary = primary.clone();
        self.start_tasks(service, &primary, to_launch);
    }

    /// Stops tasks of older deployments as far as minimumHealthyPercent allows, and PRIMARY tasks above the
    /// desired count.
    pub(crate) fn stop_replaced(&mut self, service: &mut Service) {
        let Some(primary) = service.deployments.first() else {
            return;
        };
        let reason = format!("Scaling activity initiated by (deployment {})", primary.id);
        let desired = service.desired_count;
        let min_healthy = percent_of(
            desired,
            service.deployment_configuration.minimum_healthy_percent,
            true,
        );
        let mut healthy = self
            .tasks
            .values()
            .filter(|t| t.service == service.name && t.is_healthy())
            .count() as u32;
        let mut primary_excess = self
            .live(&service.name, Some(&primary.id))
            .saturating_sub(desired);
        // Tasks that are not healthy go first: stopping them costs no healthy capacity.
        let mut candidates: Vec<&mut Task> = self
            .tasks
            .values_mut()
            .filter(|t| t.service == service.name && t.desired_running)
            .collect();
        candidates.sort_by_key(|t| (t.is_healthy(), t.last_status == TaskStatus::Running));
        let mut stopped = Vec::new();
        for task in candidates {
            let is_primary = task.deployment_id == primary.id;
            if is_primary {
                if primary_excess == 0 {
                    continue;
                }
                primary_excess -= 1;
            } else if task.is_healthy() {
                if healthy <= min_healthy {
                    continue;
                }
                healthy -= 1;
            }
            task.stop(reason.clone(), "ServiceSchedulerInitiated", Some(0));
            stopped.push(format!("(task {})", task.id));
        }
        if !stopped.is_empty() {
            let message = format!(
                "(service {}) has stopped {} running tasks: {}.",
                service.name,
                stopped.len(),
                stopped.join(" ")
            );
            service.event(message);
        }
    }

    /// Older deployments shrink as their tasks stop and disappear once none is left.
    pub(crate) fn retire_drained_deployments(&mut self, service: &mut Service) {
        let tasks = &*self.tasks;
        let mut first = true;
        service.deployments.retain_mut(|d| {
            if std::mem::take(&mut first) {
                return true;
            }
            d.desired_count = tasks
                .values()
                .filter(|t| t.deployment_id == d.id && t.desired_running)
                .count() as u32;
            tasks
                .values()
                .any(|t| t.deployment_id == d.id && t.last_status != TaskStatus::Stopped)
        });
    }

    /// The PRIMARY completes once it alone runs the desired count of healthy tasks; with early success
    /// criteria, once `healthyPercent` of the desired count run healthy on it ("After this percentage of
    /// tasks is healthy and the bake time elapses, Amazon ECS completes the deployment. Amazon ECS
    /// continues to scale the target service revision to 100 percent in the background"), the source
    /// revision's tasks removed first (BLOCKING) or after (DEFERRED).
    pub(crate) fn complete(&mut self, service: &mut Service) {
        let desired = service.desired_count;
        let early = service.deployment_configuration.early_success;
        let alarms = service
            .deployment_configuration
            .alarms
            .as_ref()
            .is_some_and(|a| a.enable);
        let Some(primary) = service.deployments.first() else {
            return;
        };
        if primary.rollout_state != RolloutState::InProgress {
            return;
        }
        let primary_id = primary.id.clone();
        let mine = || {
            self.tasks
                .values()
                .filter(|t| t.deployment_id == primary_id && t.desired_running)
        };
        let healthy = mine().filter(|t| t.is_healthy()).count() as u32;
        let alone = service.deployments.len() == 1;
        let ready = match early {
            None => alone && healthy == desired && mine().count() as u32 == desired,
            Some(early) => healthy >= percent_of(desired, early.healthy_percent, true),
        };
        if !ready {
            if let Some(primary) = service.deployments.first_mut() {
                primary.steady_since = None;
            }
            return;
        }
        if let Some(early) = early {
            // "BLOCKING — Amazon ECS removes the previous tasks before it marks the deployment as
            // successful. DEFERRED — Amazon ECS marks the deployment successful, and then removes the
            // previous tasks in the background."
            self.remove_source_tasks(service);
            if !early.deferred && !alone {
                return;
            }
        }
        let now = self.now;
        let Some(primary) = service.deployments.first_mut() else {
            return;
        };
        // Under deployment alarms, ECS keeps watching them for a while once the service is steady.
        if alarms {
            let since = *primary.steady_since.get_or_insert(now);
            if now.saturating_sub(since) < ALARM_BAKE_SECS {
                return;
            }
        }
        primary.steady_since = None;
        primary.set_rollout(
            RolloutState::Completed,
            format!("ECS deployment {primary_id} completed."),
        );
        // ECS's record says so in the same second.
        if let Some(record) = service
            .service_deployments
            .first_mut()
            .filter(|r| r.deployment_id == primary_id && r.status == Status::InProgress)
        {
            record.set(
                Status::Successful,
                "Service deployment completed successfully.",
            );
        }
        service.last_completed = Some(primary.task_definition.clone());
        service.last_completed_revision = Some(primary.revision.clone());
        let name = service.name.clone();
        service.event(format!(
            "(service {name}) (deployment {primary_id}) deployment completed."
        ));
        if alone {
            service.event(format!("(service {name}) has reached a steady state."));
        }
    }

    /// Stops every task of the service's older deployments, as early success criteria have ECS remove the
    /// source revision's tasks.
    fn remove_source_tasks(&mut self, service: &mut Service) {
        let Some(primary_id) = service.deployments.first().map(|d| d.id.clone()) else {
            return;
        };
        let reason = format!("Scaling activity initiated by (deployment {primary_id})");
        let mut stopped = Vec::new();
        for task in self.tasks.values_mut().filter(|t| {
            t.service == service.name && t.deployment_id != primary_id && t.desired_running
        }) {
            task.stop(reason.clone(), "ServiceSchedulerInitiated", Some(0));
            stopped.push(format!("(task {})", task.id));
        }
        if !stopped.is_empty() {
            let message = format!(
                "(service {}) has stopped {} running tasks: {}.",
                service.name,
                stopped.len(),
                stopped.join(" ")
            );
            service.event(message);
        }
    }
}
