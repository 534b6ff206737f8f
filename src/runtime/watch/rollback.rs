//! Rolling a failed rollout back: by ECS's own StopServiceDeployment while its service deployment is in
//! progress, otherwise by pointing the service back at the revision before, watched by the same rules.

use std::collections::BTreeSet;

use tracing::{info, warn};

use crate::decide::ecs_verdict::in_flight;
use crate::decide::ending::{WatchEnd, rollback_after, rollback_target};
use crate::decide::history::History;
use crate::decide::names::short_arn;
use crate::decide::outcome::Rollback;
use crate::decide::rollout::{Goal, RecordOf};
use crate::runtime::retry::retrying;
use crate::runtime::watch::Watch;

impl Watch<'_> {
    /// Points the service back at the revision before `failed`'s and watches that rollout by the same
    /// rules; `older` are the deployments seen before it.
    pub(super) async fn roll_back(&mut self, failed: &Goal, older: BTreeSet<String>) -> Rollback {
        let previous = match rollback_target(
            self.settings.rollback_on_failure,
            failed.previous_task_definition.as_deref(),
        ) {
            Ok(previous) => previous,
            Err(rollback) => return rollback,
        };
        if let Some(rollback) = self.roll_back_by_ecs(failed, previous, &older).await {
            return rollback;
        }
        info!(to = short_arn(previous), "rolling the service back");
        let patience = self.settings.timeout;
        let (ecs, service) = (self.ecs, self.service);
        let after = match retrying(self.settings.poll_interval, patience, || {
            ecs.update_service(service, previous)
        })
        .await
        {
            Ok(after) => after,
            Err(outcome) => return Rollback::Failed(outcome.reason()),
        };
        let history = match &after {
            Some(after) => History::of_update(after, previous, older),
            None => History::after(older),
        };
        let mut goal = failed.rollback(
            history.seen.as_ref().map(|(id, _)| id.clone()),
            previous.to_owned(),
        );
        goal.service_deployment =
            after
                .and_then(|a| a.current_service_deployment)
                .map(|arn| RecordOf {
                    arn,
                    task_definition: previous.to_owned(),
                });
        self.run_rollback(&goal, history).await
    }

    /// Rolls `failed`'s service deployment back the way ECS does it for every strategy
    /// (StopServiceDeployment, stop type ROLLBACK) while it is still in progress, and watches it to
    /// ROLLBACK_SUCCESSFUL; `None` when ECS cannot do it (the deployment ended, or the APIs are not
    /// allowed), and the worker points the service back itself.
    async fn roll_back_by_ecs(
        &mut self,
        failed: &Goal,
        previous: &str,
        older: &BTreeSet<String>,
    ) -> Option<Rollback> {
        let of = failed.service_deployment.as_ref()?;
        let arn = of.arn.as_str();
        let record = match self.ecs.service_deployment_of_revision(arn).await {
            Ok(record) => record?,
            Err(e) => {
                warn!(error = %e, "cannot read the service deployment; rolling back with UpdateService");
                return None;
            }
        };
        // Only the rollout's own record, still under way, is ECS's to roll back: never one that ECS
        // called SUCCESSFUL, nor one that deploys another revision.
        let its_own = record
            .target_task_definition
            .as_deref()
            .is_none_or(|td| td == of.task_definition);
        if !its_own || !in_flight(&record) {
            return None;
        }
        if let Err(e) = self.ecs.roll_back_service_deployment(arn).await {
            warn!(error = %e, "ECS did not take the rollback; rolling back with UpdateService");
            return None;
        }
        info!(to = short_arn(previous), service_deployment = %arn, "asked ECS to roll the service deployment back");
        // The deployment that takes over may be an older one (blue/green, linear and canary keep the old
        // revision running): it is the rollback's, not a read behind.
        let mut older = older.clone();
        older.retain(|id| self.deployments.get(id).map(String::as_str) != Some(previous));
        let goal = failed.ecs_rollback(None, previous.to_owned());
        Some(self.run_rollback(&goal, History::after(older)).await)
    }

    /// Watches a rollback to its end and says what became of it.
    pub(super) async fn run_rollback(&mut self, goal: &Goal, mut history: History) -> Rollback {
        let end = self.run(goal, &mut history).await;
        if end == WatchEnd::Done {
            info!(
                task_definition = short_arn(&goal.task_definition),
                "the rollback completed"
            );
        }
        rollback_after(end, self.settings.timeout)
    }
}
