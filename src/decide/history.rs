//! What is known of a rollout beyond one read: the deployment UpdateService started, the ones before it,
//! and whether a read listed it yet, so that a read behind an earlier one (ECS's reads are eventually
//! consistent) is never taken for news.

use std::collections::BTreeSet;

use crate::decide::service::{DeploymentState, ServiceState};

/// What earlier reads and UpdateService's own answer showed. A read right after UpdateService may not list
/// the new deployment yet, and any read may come from a replica behind the one before; such a read must
/// never pass for a rollback or a supersession.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The goal's deployment once an answer listed it (its id and creation time, when known): until
    /// then, a read without it is behind the update.
    pub seen: Option<(String, Option<i64>)>,
    /// Deployments known to be older than the goal's: a read whose PRIMARY is one of them is behind.
    pub older: BTreeSet<String>,
    /// Whether a read showed the goal's deployment FAILED: a deployment that takes over after it is
    /// ECS's rollback, not news of another update.
    pub failed: bool,
    /// Whether ECS counted failed tasks of the goal's deployment: what its circuit breaker fails a
    /// deployment for, so that a deployment of the same revision taking over after it is ECS's rollback
    /// of a redeploy when a read missed the FAILED in between.
    pub failing: bool,
}

impl History {
    /// The history of a rollout started while the service had the deployments `older`.
    pub fn after(older: impl IntoIterator<Item = String>) -> Self {
        Self {
            seen: None,
            older: older.into_iter().collect(),
            failed: false,
            failing: false,
        }
    }

    /// The history UpdateService's answer `after` starts for a rollout to `task_definition`, whose
    /// service had the deployments `before` as far as a read knew. The answer is no read from a replica:
    /// the deployment it lists as PRIMARY on the task definition is ours, and every other one is older.
    pub fn of_update(
        after: &ServiceState,
        task_definition: &str,
        before: impl IntoIterator<Item = String>,
    ) -> Self {
        let ours = started(after, task_definition);
        let mut older: BTreeSet<String> = before.into_iter().collect();
        older.extend(
            after
                .deployments
                .iter()
                .filter(|d| ours.is_none_or(|o| o.id != d.id))
                .map(|d| d.id.clone()),
        );
        if let Some(ours) = ours {
            older.remove(&ours.id);
        }
        Self {
            seen: ours.map(|o| (o.id.clone(), o.created_at_ms)),
            older,
            failed: false,
            failing: false,
        }
    }

    /// Notes what a read of `service` showed: the deployment of the rollout to `task_definition` (started
    /// as `deployment_id`, when known), once it lists it.
    pub fn note(
        &mut self,
        service: &ServiceState,
        deployment_id: Option<&str>,
        task_definition: &str,
    ) {
        let Some(ours) = self.ours(service, deployment_id, task_definition) else {
            return;
        };
        self.failed |= ours.rollout_state.as_deref() == Some("FAILED");
        self.failing |= ours.failed_tasks > 0;
        match &mut self.seen {
            None => self.seen = Some((ours.id.clone(), ours.created_at_ms)),
            Some((_, created)) if created.is_none() => *created = ours.created_at_ms,
            Some(_) => {}
        }
    }

    /// The rollout's deployment in `service`: the one UpdateService started or a read listed (by its id,
    /// once known), else the newest deployment of `task_definition` that is not older than the update.
    /// Once the id is known no other deployment is taken for it, not even one of the same task definition:
    /// that is ECS's rollback of a redeploy, or someone else's deployment.
    pub fn ours<'a>(
        &self,
        service: &'a ServiceState,
        deployment_id: Option<&str>,
        task_definition: &str,
    ) -> Option<&'a DeploymentState> {
        let known = deployment_id.or(self.seen.as_ref().map(|(id, _)| id.as_str()));
        match known {
            Some(id) => service.deployments.iter().find(|d| d.id == id),
            None => {
                let newer = |d: &&DeploymentState| !self.older.contains(&d.id);
                let mine = |d: &&DeploymentState| d.task_definition == task_definition;
                service
                    .deployments
                    .iter()
                    .filter(newer)
                    .filter(mine)
                    .find(|d| d.status == "PRIMARY")
                    .or_else(|| service.deployments.iter().filter(newer).find(mine))
            }
        }
    }

    /// When the goal's deployment was created, when a read or UpdateService's answer said.
    pub fn created_at_ms(&self) -> Option<i64> {
        self.seen.as_ref().and_then(|(_, created)| *created)
    }

    /// Whether `primary`, the PRIMARY of a read that does not show the goal's deployment as PRIMARY, is
    /// older than the goal's: the read is behind.
    pub fn behind(&self, primary: &DeploymentState) -> bool {
        let older_than_ours = match (&self.seen, primary.created_at_ms) {
            (Some((_, Some(ours))), Some(theirs)) => theirs < *ours,
            _ => false,
        };
        self.older.contains(&primary.id) || older_than_ours
    }
}

/// The deployment UpdateService's answer `after` started for `task_definition`: its PRIMARY on it.
pub fn started<'a>(after: &'a ServiceState, task_definition: &str) -> Option<&'a DeploymentState> {
    after
        .deployments
        .iter()
        .find(|d| d.status == "PRIMARY" && d.task_definition == task_definition)
}

/// The task definition the service ran until UpdateService's answer `after`: its newest deployment other
/// than the one it started (what `taskDefinition` said just before the update, which a read from before
/// it may have missed).
pub fn replaced(after: &ServiceState, task_definition: &str) -> Option<String> {
    let ours = started(after, task_definition).map(|d| d.id.as_str());
    after
        .deployments
        .iter()
        .filter(|d| Some(d.id.as_str()) != ours)
        .enumerate()
        // The newest by creation time; without times, the first ECS lists.
        .max_by_key(|(i, d)| (d.created_at_ms, std::cmp::Reverse(*i)))
        .map(|(_, d)| d.task_definition.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:1";
    const V2: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:2";
    const V3: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:3";

    fn deployment(id: &str, status: &str, td: &str, created: Option<i64>) -> DeploymentState {
        DeploymentState {
            id: id.into(),
            status: status.into(),
            task_definition: td.into(),
            created_at_ms: created,
            ..DeploymentState::default()
        }
    }

    fn service(deployments: Vec<DeploymentState>) -> ServiceState {
        ServiceState {
            status: "ACTIVE".into(),
            desired_count: 2,
            deployments,
            deployment_controller: None,
            ..ServiceState::default()
        }
    }

    #[test]
    fn update_service_s_answer_says_what_was_started_and_what_it_replaced() {
        // (case, the answer, the read before it, ours, replaced, older)
        let cases = [
            (
                "one deployment before",
                service(vec![
                    deployment("d3", "PRIMARY", V3, Some(30)),
                    deployment("d2", "ACTIVE", V2, Some(20)),
                ]),
                service(vec![deployment("d2", "PRIMARY", V2, Some(20))]),
                Some("d3"),
                Some(V2),
                vec!["d2"],
            ),
            (
                "the read before was behind: it missed web:2",
                service(vec![
                    deployment("d3", "PRIMARY", V3, Some(30)),
                    deployment("d2", "ACTIVE", V2, Some(20)),
                    deployment("d1", "ACTIVE", V1, Some(10)),
                ]),
                service(vec![deployment("d1", "PRIMARY", V1, Some(10))]),
                Some("d3"),
                Some(V2),
                vec!["d1", "d2"],
            ),
            (
                "no creation times: the first listed",
                service(vec![
                    deployment("d3", "PRIMARY", V3, None),
                    deployment("d2", "ACTIVE", V2, None),
                    deployment("d1", "ACTIVE", V1, None),
                ]),
                service(vec![]),
                Some("d3"),
                Some(V2),
                vec!["d1", "d2"],
            ),
            (
                "an answer without the deployment",
                service(vec![deployment("d2", "PRIMARY", V2, Some(20))]),
                service(vec![deployment("d2", "PRIMARY", V2, Some(20))]),
                None,
                Some(V2),
                vec!["d2"],
            ),
        ];
        for (name, after, before, ours, was, older) in cases {
            let before = before.deployments.iter().map(|d| d.id.clone());
            let history = History::of_update(&after, V3, before);
            assert_eq!(
                history.seen.as_ref().map(|(id, _)| id.as_str()),
                ours,
                "{name}"
            );
            assert_eq!(replaced(&after, V3).as_deref(), was, "{name}");
            assert_eq!(
                history.older,
                older.into_iter().map(str::to_owned).collect(),
                "{name}"
            );
        }
    }
}
