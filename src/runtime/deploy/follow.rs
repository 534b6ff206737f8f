//! The rollout a deployment started, told and watched to its end: the goal it is judged by, and the watch
//! that rolls a failed one back.

use std::collections::BTreeSet;

use crate::aws::ecs::Ecs;
use crate::decide::history::History;
use crate::decide::outcome::Outcome;
use crate::decide::rollout::Goal;
use crate::runtime::deploy::started::Started;
use crate::runtime::deploy::{Deployer, Milestone, OnMilestone, Summary, Watched};
use crate::runtime::watch::{Ended, Watch};

impl Deployer {
    /// Tells that the rollout `started`, watches it to its end (rolling back a failed one) and gives its
    /// outcome, with what ECS said in `summary`.
    pub(crate) async fn follow_started(
        &self,
        watched: Watched<'_>,
        started: Started,
        summary: &mut Summary,
        on_event: OnMilestone<'_>,
    ) -> Outcome {
        on_event(Milestone::Started(summary));
        // A rollback is judged by the health checks of the revision it goes back to: the one read before,
        // unless the service turned out to run another (a read behind UpdateService's answer).
        let (before, before_health_checked) = watched.baseline;
        let previous_health_checked = if started.previous_task_definition == before {
            before_health_checked
        } else {
            BTreeSet::new()
        };
        let arn = started.task_definition;
        let goal = Goal {
            deployment_id: started.deployment_id,
            previous_task_definition: started.previous_task_definition.filter(|p| *p != arn),
            task_definition: arn,
            health_checked: watched.health_checked,
            previous_health_checked,
            service_deployment: started.service_deployment,
            ecs_rolls_back: false,
            fresh_tasks: watched.fresh_tasks,
        };
        let ecs = watched.ecs;
        let ended = self
            .watch_rollout(
                watched.ecs,
                (watched.service, watched.seen_events),
                watched.hold_until,
                goal,
                started.history,
                &|why: &str| on_event(Milestone::Waiting(summary, why)),
            )
            .await;
        summary.ecs_said = ended.ecs_said;
        if let Some(task) = &ended.last_failed {
            summary.logs = self.failed_task_logs(ecs, task).await;
        }
        ended.outcome
    }

    /// Watches the rollout to `goal` to its end and rolls back a failed one; on failure also gives what ECS
    /// said and the last task that failed.
    async fn watch_rollout(
        &self,
        ecs: &Ecs,
        (service, seen_events): (&str, BTreeSet<String>),
        hold_until: tokio::time::Instant,
        goal: Goal,
        history: History,
        on_waiting: &(dyn Fn(&str) + Send + Sync),
    ) -> Ended {
        Watch::new(
            ecs,
            &self.poller,
            (service, seen_events),
            (self.settings, hold_until),
            on_waiting,
        )
        .to_outcome(goal, history)
        .await
    }
}
