//! What a watch tells as it goes: ECS's events, the tasks that stopped and why, the lifecycle hooks ECS
//! waits at, and what the tasks show beyond ECS's verdict.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::ecs::ServiceEvent;
use crate::decide::history::History;
use crate::decide::names::short_arn;
use crate::decide::rollout::{Goal, Observation, bound_record, task_detail};
use crate::decide::service::ServiceDeploymentState;
use crate::runtime::watch::{EVIDENCE_GRACE, Watch};

/// How long reading the tasks for detail may take once ECS's record said SUCCESSFUL: the verdict does not
/// wait on a read that adds only detail.
const DETAIL_READ_LIMIT: Duration = Duration::from_secs(5);

impl Watch<'_> {
    /// Once ECS's record said the rollout succeeded: warns when the running tasks do not all run it
    /// healthy yet. Detail for the report, never a verdict, so a read that fails or hangs is only noted.
    pub(super) async fn report_task_detail(
        &self,
        mut observation: Observation,
        goal: &Goal,
        history: &History,
    ) {
        if bound_record(&observation, goal).is_none() {
            return;
        }
        let read = tokio::time::timeout(DETAIL_READ_LIMIT, self.ecs.running_tasks(self.service));
        observation.tasks = match read.await {
            Ok(Ok(tasks)) => Some(tasks),
            Ok(Err(e)) => {
                warn!(error = %e, "ECS says the deployment succeeded; its tasks could not be read for detail");
                return;
            }
            Err(_) => {
                warn!(
                    "ECS says the deployment succeeded; reading its tasks for detail took too long"
                );
                return;
            }
        };
        if let Some(detail) = task_detail(&observation, goal, history) {
            warn!(%detail, "ECS says the deployment succeeded; the running tasks do not all run it yet");
        }
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
    /// ECS does. Without a deployment id, ECS never listed the deployment: there is nothing to read. Says
    /// whether any of them failed.
    pub(super) async fn report_stopped_tasks(
        &mut self,
        deployment_id: Option<&str>,
        goal: &Goal,
        deadline: Instant,
    ) -> bool {
        let Some(deployment_id) = deployment_id else {
            return false;
        };
        let mut failed = false;
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
                    failed |= task.failed;
                    if task.failed && task.task_definition == goal.task_definition {
                        self.last_failed = Some(task.clone());
                    }
                    if self.seen_stopped.insert(task.arn.clone()) {
                        warn!(task = %task.arn, task_definition = short_arn(&task.task_definition), reason = %task.reason, "task stopped");
                        self.evidence.stopped(&task.reason);
                    }
                }
            }
        }
        failed
    }
}
