//! Writes each settled deployment's record on the revision it deployed (see [`crate::decide::ledger`]), so
//! `ecs-deployment history` can say who deployed what, when, and how it ended.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::warn;

use crate::aws::ecs::Ecs;
use crate::decide::ledger::{RECORD_TAG, Record, deployment_record_key, records_to_remove};
use crate::decide::outcome::Outcome;
use crate::runtime::retry::retrying;

/// How long writing a record may take; one not written is logged, never a failure of the deployment.
const RECORD_TIMEOUT: Duration = Duration::from_secs(10);
/// The first wait before the record is tried again after a failed attempt.
const RECORD_RETRY: Duration = Duration::from_millis(500);

/// A deployment that ended, as its record needs it.
#[derive(Debug, Clone, Copy)]
pub struct Deployed<'a> {
    /// The message's action, by name.
    pub action: &'static str,
    /// Whether the action deploys a revision that exists already (see
    /// [`crate::runtime::actions::MessageAction::REUSES_REVISION`]).
    pub reuses_revision: bool,
    /// The revision it deployed (or registered), if it got that far.
    pub revision: Option<&'a str>,
    /// How it ended.
    pub outcome: &'a Outcome,
    /// When the worker received the message.
    pub received_at: SystemTime,
    /// The message id.
    pub message_id: &'a str,
    /// SQS's SenderId of the message.
    pub sender: Option<&'a str>,
    /// The message's `commit_url`.
    pub commit_url: Option<&'a str>,
}

/// Records `deployed` on the revision it deployed: in `ecs-deployment:record` when the message registered
/// that revision, in `ecs-deployment:record:<message id>` when it deployed an existing one (a rollback or
/// a redeploy), the oldest such records giving way to keep their number bounded. Only deployments that
/// reached ECS are recorded.
pub async fn write(ecs: &Ecs, deployed: Deployed<'_>) {
    let Some(revision) = deployed.revision else {
        return;
    };
    let outcome = deployed.outcome.label();
    if !matches!(outcome, "deployed" | "failed" | "timed_out" | "registered") {
        return;
    }
    let reused = deployed.reuses_revision;
    let record = Record {
        action: deployed.action.to_owned(),
        outcome: outcome.to_owned(),
        received_ms: epoch_ms(deployed.received_at),
        finished_ms: epoch_ms(SystemTime::now()),
        sender: deployed.sender.map(str::to_owned),
        message_id: reused.then(|| deployed.message_id.to_owned()),
        // A registered revision has the commit URL in a tag of its own.
        commit_url: deployed.commit_url.filter(|_| reused).map(str::to_owned),
    };
    let value = record.to_tag_value();
    let tagged = async {
        let key = if reused {
            let key = deployment_record_key(deployed.message_id);
            let tags = retrying(RECORD_RETRY, RECORD_TIMEOUT, || {
                ecs.task_definition_tags(revision)
            })
            .await
            .map_err(|outcome| outcome.reason())?;
            let Some(remove) = records_to_remove(&tags, &key) else {
                return Err("the revision has no room for another tag".to_owned());
            };
            if !remove.is_empty() {
                retrying(RECORD_RETRY, RECORD_TIMEOUT, || {
                    ecs.untag(revision, &remove)
                })
                .await
                .map_err(|outcome| outcome.reason())?;
            }
            key
        } else {
            RECORD_TAG.to_owned()
        };
        retrying(RECORD_RETRY, RECORD_TIMEOUT, || {
            ecs.tag(revision, &key, &value)
        })
        .await
        .map_err(|outcome| outcome.reason())
    };
    match tokio::time::timeout(RECORD_TIMEOUT, tagged).await {
        Err(_elapsed) => {
            warn!(%revision, "recording the deployment took too long; history will not show who sent it")
        }
        Ok(Err(reason)) => {
            warn!(%revision, error = %reason, "cannot record the deployment; history will not show who sent it")
        }
        Ok(Ok(())) => {}
    }
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
