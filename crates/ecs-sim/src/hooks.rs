//! Lifecycle hooks at a deployment's stages: a PAUSE hook waits for ContinueServiceDeployment, a Lambda
//! hook answers as `POST /_sim/lambda` says its function does (SUCCEEDED unless told otherwise), and either
//! takes its timeout action when nobody answers in time.

use crate::configuration::HookAction;
use crate::hook_run::{HookRun, HookStatus};
use crate::json::epoch_now;
use crate::scheduler::Scheduler;
use crate::service::Service;
use crate::service_deployment::ServiceDeployment;

/// What the hooks of the current stage let the deployment do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookOutcome {
    /// A hook is still running or waiting.
    Wait,
    /// Every hook let it go on (or there is none).
    Proceed,
    /// A hook failed it: roll back, for this reason.
    Rollback(String),
}

/// Starts the hooks configured for the deployment's current stage.
pub fn start_hooks(record: &mut ServiceDeployment, now: u64) {
    let Some(stage) = record.stage else {
        return;
    };
    let runs: Vec<HookRun> = record
        .configuration
        .hooks
        .iter()
        .filter(|h| h.stages.iter().any(|s| s == stage))
        .map(|h| HookRun {
            id: uuid::Uuid::new_v4().to_string(),
            lambda: h.lambda.clone(),
            status: if h.lambda.is_some() {
                HookStatus::InProgress
            } else {
                HookStatus::AwaitingAction
            },
            since: now,
            timeout_secs: h.timeout_secs,
            timeout_action: h.timeout_action,
            expires_at: epoch_now() + h.timeout_secs as f64,
        })
        .collect();
    record.hooks.extend(runs);
}

impl Scheduler<'_> {
    /// Moves the current stage's hooks along and says whether the deployment may go on.
    pub(crate) fn hooks(&mut self, service: &mut Service) -> HookOutcome {
        let now = self.now;
        let Some(record) = service.service_deployments.first_mut() else {
            return HookOutcome::Wait;
        };
        let stage = record.stage.unwrap_or_default();
        for run in &mut record.hooks {
            match run.status {
                HookStatus::InProgress | HookStatus::AwaitingAction => {
                    if now.saturating_sub(run.since) >= run.timeout_secs {
                        run.status = HookStatus::TimedOut;
                        if run.timeout_action == HookAction::Rollback {
                            return HookOutcome::Rollback(format!(
                                "Lifecycle hook {} timed out at {stage}.",
                                run.id
                            ));
                        }
                        continue;
                    }
                    let Some(arn) = &run.lambda else {
                        continue;
                    };
                    match self.lambdas.get(arn).map_or("SUCCEEDED", String::as_str) {
                        "FAILED" => {
                            run.status = HookStatus::Failed;
                            return HookOutcome::Rollback(format!(
                                "Lifecycle hook {} ({arn}) failed at {stage}.",
                                run.id
                            ));
                        }
                        "IN_PROGRESS" => {}
                        _ => run.status = HookStatus::Succeeded,
                    }
                }
                HookStatus::Failed => {
                    return HookOutcome::Rollback(format!(
                        "Lifecycle hook {} at {stage} was answered ROLLBACK.",
                        run.id
                    ));
                }
                HookStatus::Succeeded | HookStatus::TimedOut => {}
            }
        }
        if record
            .hooks
            .iter()
            .all(|r| matches!(r.status, HookStatus::Succeeded | HookStatus::TimedOut))
        {
            HookOutcome::Proceed
        } else {
            HookOutcome::Wait
        }
    }
}
