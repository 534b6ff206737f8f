//! `ECS_TIMEOUT`'s clock kept by what ECS's record says, and when a watch must look at the time again.

use tokio::time::Instant;
use tracing::info;

use crate::decide::deadline::{Clock, extra};
use crate::decide::rollout::{Goal, Observation, bound_record, ecs_waits};
use crate::runtime::watch::Watch;

impl Watch<'_> {
    /// When the watch must look at the time again: when the clock runs out, or the hold ends.
    pub(super) fn deadline(&self, clock: &Clock, start: Instant) -> Instant {
        match clock.left(start.elapsed()) {
            Some(left) => (Instant::now() + left).min(self.hold_until),
            None => self.hold_until,
        }
    }

    /// Keeps the clock by `observation`: ECS_TIMEOUT, plus the configuration's bakes and hooks where ECS's
    /// record is not read; stopped while the record says ECS waits on its own schedule. Says when either
    /// changes.
    pub(super) fn keep_time(
        &self,
        clock: &mut Clock,
        start: Instant,
        observation: &Observation,
        goal: &Goal,
        last_wait: &mut Option<String>,
    ) {
        if let Some(service) = &observation.service {
            let limit = if bound_record(observation, goal).is_some() {
                self.settings.timeout
            } else {
                self.settings.timeout.saturating_add(extra(&service.timing))
            };
            if limit != clock.limit() {
                clock.set_limit(limit);
                if limit > self.settings.timeout {
                    info!(timeout = %humantime::format_duration(limit), "ECS's record of the deployment is not read: the deployment configuration's bakes and hook timeouts are added to ECS_TIMEOUT");
                }
            }
        }
        let waits = ecs_waits(observation, goal);
        clock.note(start.elapsed(), waits.is_some());
        if waits != *last_wait {
            match &waits {
                Some(what) => {
                    info!(ecs_waits_for = %what, "ECS waits on its own schedule; ECS_TIMEOUT stands still meanwhile")
                }
                None if last_wait.is_some() => {
                    info!("ECS works on the tasks again; ECS_TIMEOUT runs")
                }
                None => {}
            }
            *last_wait = waits;
        }
    }
}
