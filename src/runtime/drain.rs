//! The drain on stop: receive no more, give waiting messages back at once, let deployments in flight settle
//! for `SHUTDOWN_GRACE`, give back the unsettled ones and whatever the receive in flight brings, and let
//! queued notifications go out; a second stop request ends it at once.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::aws::sqs::Receipt;
use crate::ops::notify::SinkTasks;
use crate::runtime::deployments::Deployments;
use crate::runtime::inflight::release;
use crate::runtime::receive::{ReceiveResult, Receiving, in_flight};
use crate::runtime::shutdown::Shutdown;
use crate::runtime::startup::Context;

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

/// Stops the worker once a stop was requested: see the module's description. `receiving` is the receive
/// that was in flight when the stop came.
pub(super) async fn drain(
    ctx: Arc<Context>,
    mut deployments: Deployments,
    mut shutdown: Shutdown,
    sink_tasks: SinkTasks,
    mut receiving: Option<Receiving>,
) -> Stop {
    ctx.health.set_ready(false);
    let waiting: Vec<String> = deployments
        .schedule
        .take_waiting()
        .into_iter()
        .map(|job| job.message.message_id)
        .collect();
    info!(
        in_flight = deployments.tasks.len(),
        waiting = waiting.len(),
        grace = %humantime::format_duration(ctx.config.shutdown_grace),
        "stop requested: no more messages are received; deployments in flight get SHUTDOWN_GRACE to settle"
    );
    // Nothing runs for the waiting ones: another worker may have them at once, not after the grace.
    if !waiting.is_empty() {
        tokio::select! {
            biased;
            () = shutdown.forced() => return Stop::Forced,
            () = ctx.in_flight.release(&ctx.queue, &waiting) => {}
        }
    }
    let grace = tokio::time::sleep(ctx.config.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            biased;
            () = shutdown.forced() => {
                warn!(in_flight = deployments.tasks.len(), "second stop request: exiting now; unsettled messages reappear on the queue when their visibility timeout passes");
                return Stop::Forced;
            }
            received = in_flight(&mut receiving) => {
                receiving = None;
                give_back(&ctx, received).await;
            }
            joined = deployments.tasks.join_next_with_id() => match joined {
                Some(joined) => deployments.joined(&ctx, joined),
                None => break,
            },
            () = &mut grace => {
                warn!(in_flight = deployments.tasks.len(), "SHUTDOWN_GRACE passed; releasing the messages of deployments still in flight");
                break;
            }
        }
    }
    deployments.tasks.abort_all();
    while deployments.tasks.join_next().await.is_some() {}
    // SQS answers the receive in flight when its wait is over, whether or not anyone listens: wait for it
    // (at most SQS_WAIT_TIME), or what it brings, the messages given back below among them, would stay
    // hidden for the visibility timeout.
    if let Some(receive) = receiving.take() {
        tokio::select! {
            biased;
            () = shutdown.forced() => return Stop::Forced,
            received = receive => give_back(&ctx, received).await,
        }
    }
    // The heartbeat stops before this last release, so no extension can hide a released message again.
    tokio::select! {
        biased;
        () = shutdown.forced() => return Stop::Forced,
        () = ctx.in_flight.release_all(&ctx.queue) => {}
    }
    // Every deployment task ended, so this is the last notifier: its sinks finish what is queued.
    drop(ctx);
    tokio::select! {
        biased;
        () = shutdown.forced() => return Stop::Forced,
        () = sink_tasks.finish(NOTIFY_TIMEOUT) => {}
    }
    info!("stopped");
    Stop::Graceful
}

/// Gives back what a receive brought while the worker stops, so that another worker has it at once.
async fn give_back(ctx: &Context, received: ReceiveResult) {
    let Ok(messages) = received else {
        return;
    };
    if messages.is_empty() {
        return;
    }
    ctx.metrics.received(messages.len());
    info!(
        count = messages.len(),
        "received while stopping; giving the messages back"
    );
    let handles: Vec<Receipt> = messages
        .into_iter()
        .map(|m| Receipt {
            message_id: m.message_id,
            receipt_handle: m.receipt_handle,
        })
        .collect();
    release(&ctx.queue, &handles).await;
}
