//! Start-up: the health and metrics endpoint, the queue's dead-letter queue, who the worker is, the
//! deployer with its guard, the heartbeat and the notification sinks, gathered into the context every
//! deployment shares.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::aws::ecr::Ecr;
use crate::aws::ecs::Ecs;
use crate::aws::error::AwsError;
use crate::aws::limiter::ApiLimiter;
use crate::aws::logs::LogTail;
use crate::aws::sqs::{DeadLetterQueue, Queue};
use crate::decide::outcome::Report;
use crate::decide::policy::Identity;
use crate::ops::config::Config;
use crate::ops::health::Health;
use crate::ops::http;
use crate::ops::metrics::Metrics;
use crate::ops::notify::{AwsClients, Notifier, SinkTasks};
use crate::runtime::admission::Guard;
use crate::runtime::clients::Clients;
use crate::runtime::deploy::{Deployer, Readers};
use crate::runtime::identity::discover;
use crate::runtime::inflight::{InFlight, heartbeat};
use crate::runtime::preflight::Verifier;
use crate::runtime::retry::{MAX_RECEIVE_BACKOFF, receive_backoff};
use crate::runtime::shutdown::Shutdown;
use crate::runtime::watch::Settings;

/// The worker failed in a way that retrying cannot fix.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// `SQS_URL` names no queue.
    #[error("SQS_URL: the queue does not exist ({0})")]
    QueueMissing(AwsError),
    /// `HTTP_LISTEN` cannot be listened on.
    #[error("{0}")]
    Listen(String),
    /// `ECS_CLUSTER` names no active cluster.
    #[error("ECS_CLUSTER: {0}")]
    ClusterMissing(String),
}

/// What the worker shares with every deployment it runs.
pub(super) struct Context {
    /// From the environment.
    pub(super) config: Config,
    /// The deployment queue.
    pub(super) queue: Queue,
    /// Runs deployments.
    pub(super) deployer: Deployer,
    /// What messages may do and who the worker is: also where their notifications may go.
    pub(super) guard: Guard,
    /// Where rejected messages go, when the queue has a redrive policy.
    pub(super) dead_letter_queue: Option<DeadLetterQueue>,
    /// Messages held, kept hidden by the heartbeat.
    pub(super) in_flight: InFlight,
    /// Where reports go besides the log, when someone listens.
    pub(super) reports: Option<UnboundedSender<Report>>,
    /// Slack, SNS and replies.
    pub(super) notifier: Notifier,
    /// Counts for `/metrics`.
    pub(super) metrics: Metrics,
    /// Contact with SQS, for `/healthz`.
    pub(super) health: Health,
}

/// A started worker: the context its deployments share, and what lives as long as it.
pub(super) struct RunningWorker {
    /// Shared by the receive loop and every deployment.
    pub(super) ctx: Arc<Context>,
    /// The notification sinks' tasks, to let them finish what is queued when the worker stops.
    pub(super) sink_tasks: SinkTasks,
    /// The tasks that run beside the deployments until the worker stops.
    pub(super) background: Background,
}

/// Tasks that run beside the deployments; aborted when dropped.
pub(super) struct Background {
    /// The HTTP endpoint, when `HTTP_LISTEN` is set.
    _endpoint: Option<AbortOnDrop<()>>,
    /// The heartbeat that keeps held messages hidden.
    _heartbeat: AbortOnDrop<()>,
}

/// Starts everything the worker needs before it receives: the endpoint first (so a health check sees a
/// starting worker), then the dead-letter queue from the queue's redrive policy. `None` when a stop was
/// requested meanwhile.
pub(super) async fn start(
    config: &Config,
    clients: Clients,
    shutdown: &mut Shutdown,
    reports: Option<UnboundedSender<Report>>,
) -> Result<Option<RunningWorker>, WorkerError> {
    let health = Health::new(config.unhealthy_after);
    let metrics = clients.metrics.clone();
    let _endpoint = match config.http_listen {
        Some(address) => {
            let listener = http::bind(address).await.map_err(WorkerError::Listen)?;
            info!(address = %address, "serving /healthz, /readyz and /metrics");
            Some(AbortOnDrop(tokio::spawn(http::serve(
                listener,
                health.clone(),
                metrics.clone(),
            ))))
        }
        None => None,
    };
    let queue = Queue::new(clients.sqs.clone(), &config.queue_url);
    let dead_letter_queue = tokio::select! {
        biased;
        () = shutdown.requested() => return Ok(None),
        found = resolve_dead_letter_queue(&queue) => found?,
    };
    health.contact();
    let cluster = Ecs::new(clients.ecs.clone(), &config.cluster);
    tokio::select! {
        biased;
        () = shutdown.requested() => return Ok(None),
        checked = check_cluster(&cluster) => checked?,
    };
    let identity = tokio::select! {
        biased;
        () = shutdown.requested() => return Ok(None),
        identity = discover(config, &clients) => identity,
    };
    let identity = Identity {
        dead_letter_queue_url: dead_letter_queue.as_ref().map(|d| d.url.clone()),
        ..identity
    };
    let verifier = config
        .verify
        .then(|| Verifier::new(clients.lookups.clone(), identity.account.clone()));
    let guard = Guard {
        policy: Arc::new(config.policy.clone()),
        identity: Arc::new(identity),
    };
    let deployer = Deployer::new(
        clients.ecs,
        &config.cluster,
        Settings {
            timeout: config.rollout_timeout,
            poll_interval: config.poll_interval,
            rollback_on_failure: config.rollback_on_failure,
            log_tail_lines: config.log_tail_lines,
        },
        guard.clone(),
        Readers {
            ecr: Ecr::new(clients.lookups.ecr.clone()),
            logs: LogTail::new(clients.lookups.logs.clone()),
            verifier,
        },
        ApiLimiter::new(config.api_budget.clone(), Some(metrics.api_observer())),
    );
    let in_flight = InFlight::default();
    let _heartbeat = AbortOnDrop(tokio::spawn(heartbeat(
        queue.clone(),
        in_flight.clone(),
        config.visibility_timeout,
        health.clone(),
    )));
    let aws = AwsClients {
        sqs: clients.sqs,
        sns: clients.sns,
    };
    let (notifier, sink_tasks) = Notifier::start(&config.notify, &aws, metrics.clone());
    match &dead_letter_queue {
        Some(dlq) => {
            info!(queue = %config.queue_url, dead_letter_queue = %dlq.url, cluster = %config.cluster, concurrency = config.concurrency, "receiving deployments")
        }
        None => {
            info!(queue = %config.queue_url, cluster = %config.cluster, concurrency = config.concurrency, "receiving deployments (the queue has no dead-letter queue)")
        }
    }
    if !config.queue_url.ends_with(".fifo") {
        info!(
            "a standard queue: run one worker on it; several workers need a FIFO queue with MessageGroupId = service"
        );
    }
    let ctx = Arc::new(Context {
        config: config.clone(),
        queue,
        deployer,
        guard,
        dead_letter_queue,
        in_flight,
        reports,
        notifier,
        metrics,
        health,
    });
    Ok(Some(RunningWorker {
        ctx,
        sink_tasks,
        background: Background {
            _endpoint,
            _heartbeat,
        },
    }))
}

/// Reads the queue's redrive policy, retrying while SQS is unreachable; `None` when there is none or it
/// cannot be read.
async fn resolve_dead_letter_queue(queue: &Queue) -> Result<Option<DeadLetterQueue>, WorkerError> {
    let mut backoff = receive_backoff();
    loop {
        match queue.dead_letter_queue().await {
            Ok(dlq) => return Ok(dlq),
            Err(e) if e.queue_missing() => return Err(WorkerError::QueueMissing(e)),
            Err(e)
                if e.rejects_request
                    || e.code
                        .as_deref()
                        .is_some_and(|c| c.contains("AccessDenied")) =>
            {
                warn!(error = %e, "cannot read the queue's redrive policy; rejected messages will be logged whole and deleted");
                return Ok(None);
            }
            Err(e) => {
                let delay = backoff.next().unwrap_or(MAX_RECEIVE_BACKOFF);
                warn!(error = %e, retry_in = ?delay, "cannot read the queue's redrive policy");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Checks that `ECS_CLUSTER` is an active cluster, retrying while ECS is unreachable: a mistyped name stops
/// the worker at start instead of rejecting every message. Without permission to ask (an IAM policy from
/// before the check), it says so and goes on.
async fn check_cluster(ecs: &Ecs) -> Result<(), WorkerError> {
    let mut backoff = receive_backoff();
    loop {
        match ecs.cluster_status().await {
            Ok(Some(status)) if status == "ACTIVE" => return Ok(()),
            Ok(Some(status)) => {
                return Err(WorkerError::ClusterMissing(format!(
                    "cluster '{}' is {status}, not ACTIVE",
                    ecs.cluster()
                )));
            }
            Ok(None) => {
                return Err(WorkerError::ClusterMissing(format!(
                    "cluster '{}' does not exist",
                    ecs.cluster()
                )));
            }
            Err(e)
                if e.code
                    .as_deref()
                    .is_some_and(|c| c.contains("AccessDenied")) =>
            {
                warn!(error = %e, "cannot check ECS_CLUSTER (allow ecs:DescribeClusters); going on");
                return Ok(());
            }
            Err(e) => {
                let delay = backoff.next().unwrap_or(MAX_RECEIVE_BACKOFF);
                warn!(error = %e, retry_in = ?delay, "cannot check ECS_CLUSTER");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Aborts a background task when dropped, so no exit path leaves it running.
pub(super) struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
