//! Whether the worker is alive (it reached SQS recently) and ready (it receives deployments), as the
//! receive loop and the heartbeat tell it and `/healthz` and `/readyz` show it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Whether the worker is alive and ready, as the receive loop and heartbeat tell it; cheap to clone.
#[derive(Debug, Clone)]
pub struct Health {
    /// Shared by every clone.
    inner: Arc<HealthInner>,
}

#[derive(Debug)]
struct HealthInner {
    /// When the worker started; contacts are counted from here.
    started: Instant,
    /// Milliseconds after `started` of the last successful SQS call; `u64::MAX` before the first.
    last_contact_ms: AtomicU64,
    /// Whether the worker receives deployments (false while it starts and once it stops).
    ready: AtomicBool,
    /// `UNHEALTHY_AFTER`: how long the worker may go without reaching SQS and still be healthy.
    unhealthy_after: Duration,
}

/// What `/healthz` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// The worker reached SQS this long ago (`None`: not yet, but it started only recently).
    Healthy(Option<Duration>),
    /// Why not.
    Unhealthy(String),
}

/// Judges liveness: healthy while the last successful SQS call (or, before the first, the start) is
/// more recent than `unhealthy_after`.
pub fn liveness(
    since_contact: Option<Duration>,
    since_start: Duration,
    unhealthy_after: Duration,
) -> Liveness {
    let show =
        |d: Duration| humantime::format_duration(Duration::from_secs(d.as_secs())).to_string();
    match since_contact {
        Some(ago) if ago <= unhealthy_after => Liveness::Healthy(Some(ago)),
        Some(ago) => Liveness::Unhealthy(format!(
            "the worker last reached SQS {} ago, more than UNHEALTHY_AFTER ({})",
            show(ago),
            show(unhealthy_after)
        )),
        None if since_start <= unhealthy_after => Liveness::Healthy(None),
        None => Liveness::Unhealthy(format!(
            "the worker has not reached SQS since it started {} ago",
            show(since_start)
        )),
    }
}

impl Health {
    /// A worker starting now, unhealthy after `unhealthy_after` without reaching SQS.
    pub fn new(unhealthy_after: Duration) -> Self {
        Self {
            inner: Arc::new(HealthInner {
                started: Instant::now(),
                last_contact_ms: AtomicU64::new(u64::MAX),
                ready: AtomicBool::new(false),
                unhealthy_after,
            }),
        }
    }

    /// An SQS call succeeded.
    pub fn contact(&self) {
        let ms = u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.inner.last_contact_ms.store(ms, Ordering::Relaxed);
    }

    /// The worker starts or stops receiving deployments.
    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Relaxed);
    }

    /// Whether the worker receives deployments.
    pub fn ready(&self) -> bool {
        self.inner.ready.load(Ordering::Relaxed)
    }

    /// What `/healthz` says now.
    pub fn liveness(&self) -> Liveness {
        let since_start = self.inner.started.elapsed();
        let since_contact = match self.inner.last_contact_ms.load(Ordering::Relaxed) {
            u64::MAX => None,
            ms => Some(since_start.saturating_sub(Duration::from_millis(ms))),
        };
        liveness(since_contact, since_start, self.inner.unhealthy_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_follows_the_last_contact_with_sqs() {
        let s = Duration::from_secs;
        let limit = s(120);
        let cases = [
            // (since contact, since start, healthy)
            (None, s(5), true),
            (None, s(121), false),
            (Some(s(1)), s(1000), true),
            (Some(s(120)), s(1000), true),
            (Some(s(121)), s(1000), false),
        ];
        for (since_contact, since_start, healthy) in cases {
            let judged = liveness(since_contact, since_start, limit);
            assert_eq!(
                matches!(judged, Liveness::Healthy(_)),
                healthy,
                "{since_contact:?} {since_start:?}: {judged:?}"
            );
            if let Liveness::Unhealthy(reason) = judged {
                assert!(reason.contains("SQS"), "{reason}");
            }
        }
    }
}
