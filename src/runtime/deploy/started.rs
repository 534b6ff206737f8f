//! The rollout a deployment watches, however it got there: started by UpdateService now, or by an
//! earlier delivery.

use tracing::info;

use crate::decide::history::{History, replaced};
use crate::decide::names::short_arn;
use crate::decide::rollout::RecordOf;
use crate::decide::service::ServiceState;

/// The rollout a deployment watches, however it got there.
pub(crate) struct Started {
    /// The revision the service was pointed at.
    pub(crate) task_definition: String,
    /// What the service ran before.
    pub(crate) previous_task_definition: Option<String>,
    /// The deployment UpdateService started, when known.
    pub(crate) deployment_id: Option<String>,
    /// The service deployment ECS keeps its record and verdict in, when UpdateService's answer named it.
    pub(crate) service_deployment: Option<RecordOf>,
    /// What is known of the deployment and the ones before it, so a read behind is not taken for news.
    pub(crate) history: History,
}

impl Started {
    /// The rollout an earlier delivery started: the deployment `deployment_id` of `task_definition`, in
    /// the service deployment ECS is on (`service_deployment`), with what it replaced unknown.
    pub(crate) fn resumed(
        deployment_id: String,
        task_definition: String,
        service_deployment: Option<String>,
    ) -> Self {
        Self {
            service_deployment: service_deployment.map(|arn| RecordOf {
                arn,
                task_definition: task_definition.clone(),
            }),
            task_definition,
            previous_task_definition: None,
            deployment_id: Some(deployment_id.clone()),
            history: History {
                seen: Some((deployment_id, None)),
                ..History::default()
            },
        }
    }

    /// The rollout UpdateService started to `task_definition`, as its answer `after` shows it, on a service
    /// a read showed as `before`, running `previous`. The answer outranks the read, which may be behind:
    /// what the service ran until the update is the answer's newest other deployment.
    pub(crate) fn by_update(
        task_definition: String,
        previous: Option<String>,
        after: Option<&ServiceState>,
        before: &ServiceState,
    ) -> Self {
        let known = before.deployments.iter().map(|d| d.id.clone());
        let (history, replaced) = match after {
            Some(after) => (
                History::of_update(after, &task_definition, known),
                replaced(after, &task_definition),
            ),
            None => (History::after(known), None),
        };
        if let Some(replaced) = &replaced
            && previous.as_ref() != Some(replaced)
        {
            info!(
                previous_task_definition = short_arn(replaced),
                read_before = previous.as_deref().map(short_arn),
                "the service ran another revision until the update than a read just before said; that one is what a rollback goes back to"
            );
        }
        Self {
            deployment_id: history.seen.as_ref().map(|(id, _)| id.clone()),
            service_deployment: after
                .and_then(|a| a.current_service_deployment.clone())
                .map(|arn| RecordOf {
                    arn,
                    task_definition: task_definition.clone(),
                }),
            previous_task_definition: replaced.or(previous),
            task_definition,
            history,
        }
    }
}
