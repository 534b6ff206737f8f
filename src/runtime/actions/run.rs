//! `run`: a one-off task of the service's current revision (or the `revision` attribute's, of the same
//! family) with one container's command overridden, placed as the service's tasks are and waited for to
//! its end: it succeeds when every essential container exits 0.

use std::collections::BTreeMap;

use tokio::time::Instant;
use tracing::info;

use crate::aws::ecs::one_off::Start;
use crate::decide::message::{Asked, ServiceChange, revision_attribute};
use crate::decide::names::{family_of, short_arn};
use crate::decide::one_off::{Ended, OneOff, has_container};
use crate::decide::outcome::{Outcome, Rollback};
use crate::decide::revert::revision;
use crate::runtime::actions::message_action::MessageAction;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::{Delivery, Deployer, OnMilestone, Summary, rejected};

/// The `startedBy` of every one-off task the worker starts, which ListTasks finds them by.
pub const STARTED_BY: &str = "ecs-deployment";

/// A `run` message: the service, the container and command, and the revision named, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The service and the message's other attributes.
    pub change: ServiceChange,
    /// The container and the command it runs.
    pub one_off: OneOff,
    /// The `revision` attribute: the revision to run (`web:12` or an ARN); `None` for the service's own.
    pub revision: Option<String>,
}

impl MessageAction for Run {
    const NAME: &'static str = "run";
    const REUSES_REVISION: bool = true;
    const RECORDED: bool = false;

    fn read(body: &str, attributes: &BTreeMap<String, String>) -> Result<Self, String> {
        Ok(Self {
            one_off: OneOff::read(body)?,
            revision: revision_attribute(attributes)?,
            change: ServiceChange::read(Self::NAME, attributes)?,
        })
    }

    fn asked(&self) -> Asked<'_> {
        Asked::ServiceChange(&self.change)
    }

    /// Runs the task and waits for its end, within `ECS_TIMEOUT`; a redelivery's RunTask, with the same
    /// client token (the message id), gives the task the first delivery started instead of another.
    async fn run(
        &self,
        deployer: &Deployer,
        delivery: &Delivery,
        summary: &mut Summary,
        _on_event: OnMilestone<'_>,
    ) -> Result<Outcome, NotAdmitted> {
        let current = deployer.service_of(&self.change).await?;
        let ecs = &current.ecs;
        let current_json = deployer
            .retrying(|| ecs.task_definition_json(&current.revision))
            .await?;
        let (target, target_json) = match &self.revision {
            None => (current.revision.clone(), current_json.clone()),
            Some(named) => {
                let json = deployer
                    .retrying(|| ecs.task_definition_json(named))
                    .await?;
                let arn = revision(&json).map_err(rejected)?.arn;
                if family_of(&arn) != family_of(&current.revision) {
                    return Err(rejected(format!(
                        "message attribute 'revision' ({}) is not of the family service {} runs ({})",
                        short_arn(&arn),
                        self.change.service,
                        family_of(&current.revision)
                    )));
                }
                (arn, json)
            }
        };
        summary.previous_task_definition = Some(current.revision.clone());
        summary.new_task_definition = Some(target.clone());
        // The revision is judged as a deployment of it would be; the command is what runs.
        let (request, _) = deployer.judged(ecs, &self.change, &target_json, &current_json)?;
        let members = request.task_definition.request();
        if !has_container(members, &self.one_off.container) {
            return Err(rejected(format!(
                "member 'container' ({}) is not a container of {}",
                self.one_off.container,
                short_arn(&target)
            )));
        }
        let placement = deployer
            .retrying(|| ecs.placement(&self.change.service))
            .await?
            .ok_or_else(|| rejected(format!("service '{}' not found", self.change.service)))?;
        let start = Start {
            task_definition: &target,
            one_off: &self.one_off,
            started_by: STARTED_BY,
            client_token: &delivery.message_id,
        };
        info!(task_definition = short_arn(&target), container = %self.one_off.container, "running a one-off task");
        let task = deployer
            .retrying(|| ecs.run_one_off(start, &placement))
            .await?;
        let not_rolled_back = || Rollback::NotPossible("a one-off task changes no service".into());
        let deadline = Instant::now() + deployer.settings.timeout;
        match deployer
            .await_one_off(ecs, &task, members, deadline, summary)
            .await?
        {
            Ended::Succeeded => {
                info!(%task, "the one-off task succeeded");
                Ok(Outcome::Ran)
            }
            Ended::Failed(why) => Ok(Outcome::Failed {
                reason: format!("one-off task {task} failed: {why}"),
                rollback: not_rolled_back(),
            }),
            Ended::Running => Ok(Outcome::TimedOut {
                reason: format!(
                    "one-off task {task} had not stopped within ECS_TIMEOUT ({}); it was left running",
                    humantime::format_duration(deployer.settings.timeout)
                ),
                rollback: not_rolled_back(),
            }),
        }
    }
}
