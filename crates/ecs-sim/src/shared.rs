//! What the HTTP handlers and the ticker share: the simulated control plane, the injected faults and
//! statistics, and the registry that resolves image digests; and one simulated second's step.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::control::Control;
use crate::logs::LogSink;
use crate::registry::Registry;
use crate::state::State;

/// Everything the handlers share.
pub struct Shared {
    /// The control plane.
    pub state: Mutex<State>,
    /// Faults and statistics; separate from `state` so counting a call never waits on a tick.
    pub control: Mutex<Control>,
    /// Where ECR images' digests are asked, outside the state's lock.
    pub registry: Mutex<Option<Registry>>,
    /// Where the awslogs containers' output is written, outside the state's lock.
    pub logs: Mutex<Option<LogSink>>,
}

/// Locks `mutex`, keeping on after a panic elsewhere.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves the simulation as it was; keep serving it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// One simulated second: the digests the simulation waits for, then the control plane's tick and the
    /// API limits' refill.
    pub async fn step(&self) {
        self.resolve_digests().await;
        lock(&self.state).tick();
        lock(&self.control).tick();
        self.write_logs().await;
    }

    /// Sends what the awslogs containers wrote to the log sink, if any (and forgets it otherwise), without
    /// holding the state's lock while it is written.
    async fn write_logs(&self) {
        let (lines, region) = {
            let mut state = lock(&self.state);
            (
                std::mem::take(&mut state.pending_logs),
                state.identity.region.clone(),
            )
        };
        let Some(sink) = lock(&self.logs).clone() else {
            return;
        };
        if !lines.is_empty() {
            sink.write(lines, &region).await;
        }
    }

    /// Asks the registry, if any, for the image digests the simulation waits for, without holding the
    /// state's lock while it answers.
    async fn resolve_digests(&self) {
        let Some(registry) = lock(&self.registry).clone() else {
            return;
        };
        let images = lock(&self.state).unresolved_images();
        if images.is_empty() {
            return;
        }
        let mut resolved = BTreeMap::new();
        for image in images {
            let digest = registry.resolve(&image).await;
            resolved.insert(image, digest);
        }
        lock(&self.state).apply_digests(&resolved);
    }
}
