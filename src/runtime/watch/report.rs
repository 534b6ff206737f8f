//! What a watch tells as it goes: ECS's events, the tasks that stopped and why, the lifecycle hooks ECS
//! waits at, and how long the rollout may take.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::ecs::ServiceEvent;
use crate::decide::deadline::rollout_timeout;
use crate::decide::names::short_arn;
use crate::decide::rollout::Goal;
use crate::decide::service::{ServiceDeploymentState, Timing};
use crate::runtime::watch::{EVIDENCE_GRACE, Watch};

impl Watch<'_> {
    /// How long the rollout may take, given what the service's deployment configuration adds to
    /// `ECS_TIMEOUT`; says so when it adds anything.
    pub(super) fn timeout_for(&self, timing: &Timing) -> Duration {
        let (timeout, capped) = rollout_timeout(self.settings.timeout, timing);
        if capped {
            warn!(timeout = %humantime::format_duration(timeout), "the deployment configuration's bakes and hook timeouts take longer than SQS can hold a message; the rollout is watched only this long");
        } else if timeout > self.settings.timeout {
            info!(timeout = %humantime::format_duration(timeout), "the deployment configuration's bakes and hook timeouts are added to ECS_TIMEOUT");
        }
        timeout
    }

    /// Reports each lifecycle hook ECS waits at once: a log line and a `waiting` notification saying how to
    /// go on.
    pub(super) fn report_waiting(&mut self, record: Option<&ServiceDeploymentState>) {
        let Some(record) = record else {
            return;
        };
        for hook in &record.paused_hooks {
            if self.seen_waiting.insert(hook.clone()) {
                let stage = record
                    .lifecycle_stage
                    .as_deref()
                    .unwrap_or("a lifecycle stage");
                let why = format!(
                    "ECS waits at {stage} for lifecycle hook {hook}: run `ecs-deployment continue --service {}` to go on, or add `--rollback` to roll back",
                    self.service
                );
                warn!(service_deployment = %record.arn, %hook, %stage, "ECS waits for the deployment to be continued");
                (self.on_waiting)(&why);
            }
        }
    }

    pub(super) fn report_events(&mut self, events: Vec<ServiceEvent>) {
        // ECS lists the newest first; report oldest first.
        for event in events.into_iter().rev() {
            if self.seen_events.insert(event.id) {
                info!(event = %event.message, "service event");
                self.evidence.event(&event.message);
            }
        }
    }

    /// Logs and notes the stopped tasks of `deployment_id` (on the goal's task definition) not seen before;
    /// the read ends by `deadline` (or, when that has just passed, [`EVIDENCE_GRACE`] from now), whatever
    /// ECS does. Without a deployment id, ECS never listed the deployment: there is nothing to read.
    pub(super) async fn report_stopped_tasks(
        &mut self,
        deployment_id: Option<&str>,
        goal: &Goal,
        deadline: Instant,
    ) {
        let Some(deployment_id) = deployment_id else {
            return;
        };
        let by = deadline.max(Instant::now() + EVIDENCE_GRACE);
        let read = self
            .ecs
            .stopped_tasks(deployment_id, &goal.task_definition, &self.seen_stopped);
        match tokio::time::timeout_at(by, read).await {
            Err(_elapsed) => {
                warn!("reading the stopped tasks took too long; going on without them")
            }
            Ok(Err(e)) => warn!(error = %e, "cannot read the stopped tasks"),
            Ok(Ok(stopped)) => {
                for task in stopped {
                    if self.seen_stopped.insert(task.arn.clone()) {
                        warn!(task = %task.arn, task_definition = short_arn(&task.task_definition), reason = %task.reason, "task stopped");
                        self.evidence.stopped(&task.reason);
                    }
                }
            }
        }
    }
}
