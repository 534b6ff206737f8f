//! The one-off task a `deploy` message asks for before its service is updated (its `before` attribute):
//! run on the new revision, placed as the service's tasks are, at most one at a time per family across
//! every worker, and the service updated only once every essential container exited 0.

use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::ecs::Ecs;
use crate::aws::ecs::one_off::Start;
use crate::decide::message::DeploymentRequest;
use crate::decide::names::{family_of, short_arn};
use crate::decide::one_off::{Ended, OneOff, has_container};
use crate::decide::outcome::{Outcome, Rollback};
use crate::runtime::deploy::{Delivery, Deployer, Summary};

/// The stop reason of a task that lost the race for its lock to an older one: it is stopped while it
/// starts, and the message tries again under a new client token once the lock is free.
const LOCK_LOST: &str = "ecs-deployment: another task of the same lock started first";
/// The most characters of a family in a lock's `startedBy` (ECS takes 128 in all).
const MAX_LOCK_KEY: usize = 100;

impl Deployer {
    /// Runs the `before` task of `request` on `revision`, the new revision of `service`, and waits for its
    /// end; the error is the outcome that ends the deployment with the service not updated.
    pub(crate) async fn run_before(
        &self,
        ecs: &Ecs,
        service: &str,
        revision: &str,
        request: &DeploymentRequest,
        (delivery, summary): (&Delivery, &mut Summary),
    ) -> Result<(), Outcome> {
        let Some(one_off) = &request.before else {
            return Ok(());
        };
        let members = request.task_definition.request();
        if !has_container(members, &one_off.container) {
            return Err(Outcome::Rejected {
                reason: format!(
                    "message attribute 'before': container {} is not in {}",
                    one_off.container,
                    short_arn(revision)
                ),
            });
        }
        let key: String = family_of(revision).chars().take(MAX_LOCK_KEY).collect();
        let lock = format!("ecs-deployment/before/{key}");
        let placement = self
            .retrying(|| ecs.placement(service))
            .await?
            .ok_or_else(|| Outcome::Rejected {
                reason: format!("service '{service}' not found"),
            })?;
        let deadline = Instant::now() + self.settings.timeout;
        let mut attempt = 0_u32;
        let task = loop {
            self.wait_for_lock(ecs, &lock, deadline).await?;
            let token = match attempt {
                0 => format!("{}-before", delivery.message_id),
                n => format!("{}-before-{n}", delivery.message_id),
            };
            let start = Start {
                task_definition: revision,
                one_off,
                started_by: &lock,
                client_token: &token,
            };
            info!(task_definition = short_arn(revision), container = %one_off.container, %lock, "running the task before the update");
            let task = self.retrying(|| ecs.run_one_off(start, &placement)).await?;
            let end = self.retrying(|| ecs.one_off_end(&task)).await?;
            if end.is_some_and(|e| e.stopped_reason.as_deref() == Some(LOCK_LOST)) {
                attempt += 1;
                continue;
            }
            // Two workers may both have found the lock free: the older task goes on, the other stops.
            let holders = self.retrying(|| ecs.holders(&lock)).await?;
            if holders.contains(&task) && holders.first() != Some(&task) {
                warn!(%task, %lock, "another task of the lock started first; stopping this one and waiting");
                self.retrying(|| ecs.stop_task(&task, LOCK_LOST)).await?;
                attempt += 1;
                continue;
            }
            break task;
        };
        self.await_before(ecs, one_off, &task, request, deadline, summary)
            .await
    }

    /// Waits until no task of `lock` runs, or gives the message back at `deadline`.
    async fn wait_for_lock(&self, ecs: &Ecs, lock: &str, deadline: Instant) -> Result<(), Outcome> {
        loop {
            let holders = self.retrying(|| ecs.holders(lock)).await?;
            if holders.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Outcome::RetryLater {
                    reason: format!(
                        "tasks of lock {lock} still ran after ECS_TIMEOUT: {}",
                        holders.join(", ")
                    ),
                });
            }
            info!(%lock, holders = holders.len(), "waiting for the lock's task to end");
            tokio::time::sleep(self.settings.poll_interval).await;
        }
    }

    /// Waits for the `before` task to end, by `deadline`: every essential container exited 0 is `Ok`.
    async fn await_before(
        &self,
        ecs: &Ecs,
        one_off: &OneOff,
        task: &str,
        request: &DeploymentRequest,
        deadline: Instant,
        summary: &mut Summary,
    ) -> Result<(), Outcome> {
        let members = request.task_definition.request();
        let not_updated = || Rollback::NotPossible("the service was not updated".into());
        match self
            .await_one_off(ecs, task, members, deadline, summary)
            .await?
        {
            Ended::Succeeded => {
                info!(%task, container = %one_off.container, "the task before the update succeeded");
                Ok(())
            }
            Ended::Failed(why) => Err(Outcome::Failed {
                reason: format!("the task before the update ({task}) failed: {why}"),
                rollback: not_updated(),
            }),
            Ended::Running => Err(Outcome::TimedOut {
                reason: format!(
                    "the task before the update ({task}) had not stopped within ECS_TIMEOUT; it was left running"
                ),
                rollback: not_updated(),
            }),
        }
    }
}
