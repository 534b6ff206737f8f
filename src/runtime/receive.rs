//! The receive loop: long-poll the queue for as many messages as there is room for, hand each to the
//! running deployments, and ride out SQS failures with backoff, until a stop is requested.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::error::AwsError;
use crate::aws::sqs::Received;
use crate::runtime::deployments::Deployments;
use crate::runtime::retry::{MAX_RECEIVE_BACKOFF, receive_backoff};
use crate::runtime::shutdown::Shutdown;
use crate::runtime::startup::Context;

/// What one ReceiveMessage call gives.
pub(super) type ReceiveResult = Result<Vec<Received>, AwsError>;

/// A ReceiveMessage call in flight.
pub(super) type Receiving = Pin<Box<dyn Future<Output = ReceiveResult> + Send>>;

/// Receives and deploys until `shutdown` asks to stop; deployments still running are left in `deployments`.
/// Returns the receive in flight, if any: SQS goes on with it whether or not anyone listens, so what it
/// brings must be given back rather than left hidden.
pub(super) async fn receive_until_stopped(
    ctx: &Arc<Context>,
    deployments: &mut Deployments,
    shutdown: &mut Shutdown,
) -> Option<Receiving> {
    let mut receiving: Option<Receiving> = None;
    let mut backoff = receive_backoff();
    let mut retry_at: Option<Instant> = None;
    let mut last_error: Option<String> = None;
    loop {
        ctx.metrics
            .load(deployments.tasks.len(), deployments.schedule.waiting());
        let room = deployments.room(ctx);
        if receiving.is_none() && retry_at.is_none() && room > 0 {
            let queue = ctx.queue.clone();
            let (wait, visibility) = (ctx.config.wait_time, ctx.config.visibility_timeout);
            receiving = Some(Box::pin(async move {
                queue.receive(room, wait, visibility).await
            }));
        }
        tokio::select! {
            biased;
            () = shutdown.requested() => return receiving,
            Some(joined) = deployments.tasks.join_next_with_id() => deployments.joined(ctx, joined),
            Some(admitted) = deployments.admission_signals.recv() => deployments.admitted(ctx, admitted),
            received = in_flight(&mut receiving) => {
                receiving = None;
                match received {
                    Ok(messages) => {
                        ctx.metrics.received(messages.len());
                        ctx.health.contact();
                        if let Some(error) = last_error.take() {
                            info!(%error, "receiving again");
                        }
                        backoff = receive_backoff();
                        for message in messages {
                            deployments.admit(ctx, message);
                        }
                    }
                    Err(e) => {
                        let delay = backoff.next().unwrap_or(MAX_RECEIVE_BACKOFF);
                        let error = e.to_string();
                        if last_error.as_deref() != Some(error.as_str()) {
                            warn!(%error, "cannot receive; retrying with backoff");
                            last_error = Some(error);
                        }
                        retry_at = Some(Instant::now() + delay);
                    }
                }
            }
            () = async {
                match retry_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => retry_at = None,
        }
    }
}

/// The answer of the receive in flight; never, when there is none (for `select!`).
pub(super) async fn in_flight(receiving: &mut Option<Receiving>) -> ReceiveResult {
    match receiving.as_mut() {
        Some(receive) => receive.await,
        None => std::future::pending().await,
    }
}
