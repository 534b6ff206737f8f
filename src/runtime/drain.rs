//! The drain on stop: receive no more, give waiting messages back at once, let deployments in flight
//! settle for `SHUTDOWN_GRACE`, release whatever is still unsettled to another worker, and let queued
//! notifications go out; a second stop request ends it at once.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::ops::notify::Deliveries;
use crate::runtime::inflight::release;
use crate::runtime::shutdown::Shutdown;
use crate::runtime::startup::Context;
use crate::runtime::workers::Workers;

/// How long a stopping worker waits for queued notifications to go out.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// How the worker stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Stopped on request; every deployment settled or was released to another worker.
    Graceful,
    /// A second stop request: exited at once, deleting nothing unsettled; those messages reappear on the
    /// queue when their visibility timeout passes.
    Forced,
}

/// Stops the worker once a stop was requested: see the module's description.
pub(super) async fn drain(
    ctx: Arc<Context>,
    mut workers: Workers,
    mut shutdown: Shutdown,
    deliveries: Deliveries,
) -> Stop {
    ctx.health.set_ready(false);
    let waiting: Vec<String> = workers
        .schedule
        .take_waiting()
        .into_iter()
        .map(|job| job.message.message_id)
        .collect();
    let mut to_release: Vec<(String, String)> = waiting
        .iter()
        .filter_map(|id| Some((id.clone(), ctx.in_flight.take(id)?)))
        .collect();
    info!(
        in_flight = workers.tasks.len(),
        waiting = to_release.len(),
        grace = %humantime::format_duration(ctx.config.shutdown_grace),
        "stop requested: no more messages are received; deployments in flight get SHUTDOWN_GRACE to settle"
    );
    let grace = tokio::time::sleep(ctx.config.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            biased;
            () = shutdown.forced() => {
                warn!(in_flight = workers.tasks.len(), "second stop request: exiting now; unsettled messages reappear on the queue when their visibility timeout passes");
                return Stop::Forced;
            }
            joined = workers.tasks.join_next_with_id() => match joined {
                Some(joined) => workers.joined(&ctx, joined),
                None => break,
            },
            () = &mut grace => {
                warn!(in_flight = workers.tasks.len(), "SHUTDOWN_GRACE passed; releasing the messages of deployments still in flight");
                break;
            }
        }
    }
    workers.tasks.abort_all();
    while workers.tasks.join_next().await.is_some() {}
    to_release.extend(ctx.in_flight.take_all());
    if !to_release.is_empty() {
        tokio::select! {
            biased;
            () = shutdown.forced() => return Stop::Forced,
            () = release(&ctx.queue, &to_release) => {}
        }
    }
    // Every deployment task ended, so this is the last notifier: its sinks finish what is queued.
    drop(ctx);
    tokio::select! {
        biased;
        () = shutdown.forced() => return Stop::Forced,
        () = deliveries.finish(NOTIFY_TIMEOUT) => {}
    }
    info!("stopped");
    Stop::Graceful
}
