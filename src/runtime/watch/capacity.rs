//! Time ECS spent finding capacity for a rollout's tasks, given back to `ECS_TIMEOUT`: "When a task is in
//! the PROVISIONING state, neither the task nor the containers exist because Amazon ECS needs to find
//! compute capacity for placing the task" (a capacity provider scaling out, say). Asked only when the
//! clock runs out.

use std::time::SystemTime;

use tracing::{info, warn};

use crate::decide::deadline::Clock;
use crate::runtime::watch::{EVIDENCE_GRACE, Watch};

impl Watch<'_> {
    /// When the clock has run out: whether ECS is still finding capacity for tasks of `deployment_id`; if
    /// so, the time it has spent on them since the last such answer is given back to the clock.
    pub(super) async fn capacity_found_late(
        &mut self,
        clock: &mut Clock,
        deployment_id: Option<&str>,
    ) -> bool {
        let Some(deployment_id) = deployment_id else {
            return false;
        };
        let read = tokio::time::timeout(EVIDENCE_GRACE, self.ecs.provisioning_since(deployment_id));
        let since = match read.await {
            Ok(Ok(Some(since))) => since,
            Ok(Ok(None)) => return false,
            Err(_) => {
                warn!(
                    "reading whether ECS is still finding capacity for the rollout's tasks took too long"
                );
                return false;
            }
            Ok(Err(e)) => {
                warn!(error = %e, "cannot read whether ECS is still finding capacity for the rollout's tasks");
                return false;
            }
        };
        let now = SystemTime::now();
        let from = self.credited_until.map_or(since, |until| until.max(since));
        let waited = now.duration_since(from).unwrap_or_default();
        self.credited_until = Some(now);
        if waited.is_zero() {
            return false;
        }
        clock.credit(waited);
        info!(waited = %humantime::format_duration(waited), "ECS is still finding capacity for the rollout's tasks (PROVISIONING); that time is not counted against ECS_TIMEOUT");
        true
    }
}
