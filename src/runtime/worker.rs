//! The worker: start up, receive and deploy until a stop is requested, then drain; see [`run`].

use tokio::sync::mpsc::UnboundedSender;

use crate::decide::outcome::Report;
use crate::ops::config::Config;
use crate::runtime::clients::Clients;
use crate::runtime::deployments::Deployments;
use crate::runtime::drain::{Stop, drain};
use crate::runtime::receive::receive_until_stopped;
use crate::runtime::shutdown::Shutdown;
use crate::runtime::startup::{RunningWorker, WorkerError, start};

/// Runs the worker until `shutdown` asks it to stop.
///
/// Up to `CONCURRENCY` deployments of different services run at once; a second message for a busy
/// service waits for it, kept hidden. On the first stop request no more messages are received, waiting
/// ones are released at once, deployments in flight get `SHUTDOWN_GRACE` to settle, and whatever is still
/// unsettled is released to another worker. A second request stops at once.
///
/// Each report is also sent to `reports` when given.
pub async fn run(
    config: &Config,
    clients: Clients,
    mut shutdown: Shutdown,
    reports: Option<UnboundedSender<Report>>,
) -> Result<Stop, WorkerError> {
    let Some(RunningWorker {
        ctx,
        sink_tasks,
        background,
    }) = start(config, clients, &mut shutdown, reports).await?
    else {
        return Ok(Stop::Graceful);
    };
    let mut deployments = Deployments::default();
    ctx.health.set_ready(true);
    let receiving = receive_until_stopped(&ctx, &mut deployments, &mut shutdown).await;
    let stopped = drain(ctx, deployments, shutdown, sink_tasks, receiving).await;
    // The endpoint and the heartbeat run until the very end.
    drop(background);
    Ok(stopped)
}
