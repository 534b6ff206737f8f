//! Writes each settled deployment's record on the revision it deployed (see [`crate::decide::ledger`]), so
//! `ecs-deployment history` can say who deployed what, when, and how it ended.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::warn;

use crate::aws::ecs::Ecs;
use crate::decide::ledger::{LAST_RECORD_TAG, RECORD_TAG, Record};
use crate::decide::outcome::Report;

/// How long writing a record may take; one not written is logged, never a failure of the deployment.
const RECORD_TIMEOUT: Duration = Duration::from_secs(10);

/// Records the deployment `report` tells of, made by a message of `action` sent by `sender`, on the
/// revision it deployed: in `ecs-deployment:record` when the message registered that revision, in
/// `ecs-deployment:last-record` when it deployed an existing one (a rollback or a redeploy).
pub async fn write(ecs: &Ecs, action: &str, report: &Report, sender: Option<&str>) {
    let Some(revision) = report.new_task_definition.as_deref() else {
        return;
    };
    let outcome = report.outcome.label();
    if !matches!(outcome, "deployed" | "failed" | "timed_out" | "registered") {
        return;
    }
    let reused = matches!(action, "rollback" | "redeploy");
    let record = Record {
        action: action.to_owned(),
        outcome: outcome.to_owned(),
        received_ms: epoch_ms(report.received_at),
        finished_ms: epoch_ms(SystemTime::now()),
        sender: sender.map(str::to_owned),
        message_id: reused.then(|| report.message_id.clone()),
    };
    let key = if reused { LAST_RECORD_TAG } else { RECORD_TAG };
    match tokio::time::timeout(
        RECORD_TIMEOUT,
        ecs.tag(revision, key, &record.to_tag_value()),
    )
    .await
    {
        Err(_elapsed) => {
            warn!(%revision, "recording the deployment took too long; history will not show who sent it")
        }
        Ok(Err(e)) => {
            warn!(%revision, error = %e, "cannot record the deployment; history will not show who sent it")
        }
        Ok(Ok(())) => {}
    }
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
