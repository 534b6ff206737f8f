//! After a deployment settles, the old revisions of its family are deregistered (`KEEP_REVISIONS`),
//! keeping the newest, every revision a service of the cluster runs, and what each would roll back to.

use std::time::Duration;

use tracing::{info, warn};

use crate::aws::ecs::Ecs;
use crate::aws::error::AwsError;
use crate::decide::housekeeping::to_deregister;
use crate::decide::marker::PREVIOUS_TAG;
use crate::decide::names::{family_of, short_arn};

/// How long housekeeping may take after a deployment; what is left is done after the next one.
const HOUSEKEEPING_TIMEOUT: Duration = Duration::from_secs(30);
/// The most services running the family whose rollback target is read; past it nothing is deregistered.
const MAX_ROLLBACK_READS: usize = 20;

/// Deregisters the old revisions of `family` in `ecs`'s cluster, keeping the newest `keep`; never fails a
/// deployment: trouble is logged and left for the next one.
pub async fn housekeep(ecs: &Ecs, family: &str, keep: usize) {
    match tokio::time::timeout(HOUSEKEEPING_TIMEOUT, deregister_old(ecs, family, keep)).await {
        Err(_elapsed) => {
            warn!(
                family,
                "housekeeping took too long; the rest is left for the next deployment"
            )
        }
        Ok(Err(e)) => {
            warn!(family, error = %e, "housekeeping failed; left for the next deployment")
        }
        Ok(Ok(gone)) if !gone.is_empty() => {
            let gone: Vec<&str> = gone.iter().map(|arn| short_arn(arn)).collect();
            info!(family, keep, deregistered = ?gone, "deregistered old revisions (KEEP_REVISIONS)");
        }
        Ok(Ok(_)) => {}
    }
}

async fn deregister_old(ecs: &Ecs, family: &str, keep: usize) -> Result<Vec<String>, AwsError> {
    let revisions = ecs.active_revisions(family, 100).await?;
    if revisions.len() <= keep {
        return Ok(Vec::new());
    }
    let Some((mut protected, primaries)) = ecs.revisions_in_use().await? else {
        warn!(
            family,
            "the cluster has too many services to be sure which revisions they run; nothing deregistered"
        );
        return Ok(Vec::new());
    };
    let ours: Vec<&String> = primaries
        .iter()
        .filter(|p| family_of(p) == family)
        .collect();
    if ours.len() > MAX_ROLLBACK_READS {
        warn!(
            family,
            services = ours.len(),
            "too many services run the family to read what each would roll back to; nothing deregistered"
        );
        return Ok(Vec::new());
    }
    // What a rollback goes back to: the revision recorded as running before each one in use.
    for primary in ours {
        let tags = ecs.task_definition_tags(primary).await?;
        protected.extend(
            tags.into_iter()
                .filter(|(key, _)| key == PREVIOUS_TAG)
                .map(|(_, previous)| previous),
        );
    }
    let gone = to_deregister(&revisions, keep, &protected);
    for arn in &gone {
        ecs.deregister(arn).await?;
    }
    Ok(gone)
}
