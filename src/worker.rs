//! The receive loop: long-poll the queue, run up to `CONCURRENCY` deployments of different services at once
//! while the heartbeat keeps their messages hidden, settle each as [`crate::outcome::disposition`] decides,
//! end each with one structured log line, and stop gracefully.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{JoinError, JoinHandle, JoinSet};
use tokio::time::Instant;
use tracing::{Instrument, Level, error, info, info_span, warn};

use crate::config::Config;
use crate::deploy::{Delivery, Deployer, Record, Settings};
use crate::ecs::Ecs;
use crate::error::AwsError;
use crate::http::{self, Health};
use crate::inflight::{InFlight, heartbeat};
use crate::message::{
    self, COMMIT_URL_ATTRIBUTE, DeploymentRequest, REPLY_TO_ATTRIBUTE, SERVICE_ATTRIBUTE, Target,
};
use crate::metrics::Metrics;
use crate::notify::{Notice, Notifier};
use crate::outcome::{Disposition, Outcome, disposition};
use crate::poller::service_name;
use crate::schedule::{Admission, Schedule};
use crate::shutdown::Shutdown;
use crate::sqs::{DeadLetterQueue, MAX_BATCH, Queue, Received};

/// The shortest wait after a failed receive.
const MIN_RECEIVE_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait after failed receives in a row.
const MAX_RECEIVE_BACKOFF: Duration = Duration::from_secs(60);
/// How long a stopping worker spends releasing unsettled messages at most.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a stopping worker waits for queued notifications to go out.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// The AWS clients the worker uses, and the metrics their failed calls are counted in.
#[derive(Debug, Clone)]
pub struct Clients {
    /// For the deployment queue, its dead-letter queue and reply queues.
    pub sqs: aws_sdk_sqs::Client,
    /// For the cluster's services.
    pub ecs: aws_sdk_ecs::Client,
    /// For `SNS_TOPIC`.
    pub sns: aws_sdk_sns::Client,
    /// Where the worker counts what it does; served at `/metrics`.
    pub metrics: Metrics,
}

impl Clients {
    /// Clients from the SDK's configuration whose failed call attempts count into fresh metrics.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self::from_clients(
            aws_sdk_sqs::Client::new(sdk),
            aws_sdk_ecs::Client::new(sdk),
            aws_sdk_sns::Client::new(sdk),
        )
    }

    /// The same clients, each counting its failed call attempts into fresh metrics.
    pub fn from_clients(
        sqs: aws_sdk_sqs::Client,
        ecs: aws_sdk_ecs::Client,
        sns: aws_sdk_sns::Client,
    ) -> Self {
        let metrics = Metrics::new();
        Self {
            sqs: aws_sdk_sqs::Client::from_conf(
                sqs.config()
                    .to_builder()
                    .interceptor(metrics.interceptor())
                    .build(),
            ),
            ecs: aws_sdk_ecs::Client::from_conf(
                ecs.config()
                    .to_builder()
                    .interceptor(metrics.interceptor())
                    .build(),
            ),
            sns: aws_sdk_sns::Client::from_conf(
                sns.config()
                    .to_builder()
                    .interceptor(metrics.interceptor())
                    .build(),
            ),
            metrics,
        }
    }
}

/// What became of one message: the content of its final log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The SQS message id.
    pub message_id: String,
    /// The `service` attribute as sent (`false` for register-only; empty when missing).
    pub service: String,
    /// The cluster (`ECS_CLUSTER`).
    pub cluster: String,
    /// The task definition the service ran before.
    pub previous_task_definition: Option<String>,
    /// The task definition registered from the message.
    pub new_task_definition: Option<String>,
    /// The `commit_url` attribute.
    pub commit_url: Option<String>,
    /// How the deployment ended.
    pub outcome: Outcome,
    /// On failure, ECS's own words: notable service events and stopped tasks' reasons, newest last.
    pub ecs_said: Vec<String>,
    /// What was done with the message.
    pub disposition: Disposition,
    /// Whether that was done; `false` means SQS will deliver the message again.
    pub settled: bool,
    /// When this worker received the message.
    pub received_at: SystemTime,
    /// From receipt to settlement.
    pub duration: Duration,
}

/// The worker failed in a way that retrying cannot fix.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// `SQS_URL` names no queue.
    #[error("SQS_URL: the queue does not exist ({0})")]
    QueueMissing(AwsError),
    /// `HTTP_LISTEN` cannot be listened on.
    #[error("{0}")]
    Listen(String),
}

/// How the worker stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Stopped on request; every deployment settled or was released to another worker.
    Graceful,
    /// A second stop request: exited at once, deleting nothing unsettled; those messages reappear on the
    /// queue when their visibility timeout passes.
    Forced,
}

/// What the worker shares with every deployment it runs.
struct Context {
    /// From the environment.
    config: Config,
    /// The deployment queue.
    queue: Queue,
    /// Runs deployments in the cluster.
    deployer: Deployer,
    /// Where rejected messages go, when the queue has a redrive policy.
    dead_letter_queue: Option<DeadLetterQueue>,
    /// Messages held, kept hidden by the heartbeat.
    in_flight: InFlight,
    /// Where reports go besides the log, when someone listens.
    reports: Option<UnboundedSender<Report>>,
    /// Slack, SNS and replies.
    notifier: Notifier,
    /// Counts for `/metrics`.
    metrics: Metrics,
    /// Contact with SQS, for `/healthz`.
    health: Health,
}

/// One received message and what to do with it.
struct Job {
    /// The message.
    message: Received,
    /// When it was received, for the report's duration.
    received_at: Instant,
    /// The same moment on the wall clock, for the report.
    received_wall: SystemTime,
    /// Deploy it, or settle it with an outcome already known.
    action: Action,
}

/// What a job does.
enum Action {
    /// Run the deployment.
    Deploy(DeploymentRequest),
    /// Settle the message with an outcome decided without ECS (rejected, stale).
    Settle(Outcome),
}

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
        () = shutdown.requested() => return Ok(Stop::Graceful),
        found = resolve_dead_letter_queue(&queue) => found?,
    };
    health.contact();
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
    let deployer = Deployer::new(
        Ecs::new(clients.ecs, &config.cluster),
        Settings {
            timeout: config.rollout_timeout,
            poll_interval: config.poll_interval,
            rollback_on_failure: config.rollback_on_failure,
        },
    );
    let in_flight = InFlight::default();
    let _heartbeat = AbortOnDrop(tokio::spawn(heartbeat(
        queue.clone(),
        in_flight.clone(),
        config.visibility_timeout,
        health.clone(),
    )));
    let (notifier, deliveries) = Notifier::start(config, clients.sqs, clients.sns, metrics.clone());
    let ctx = Arc::new(Context {
        config: config.clone(),
        queue,
        deployer,
        dead_letter_queue,
        in_flight,
        reports,
        notifier,
        metrics,
        health,
    });
    let mut workers = Workers::default();
    ctx.health.set_ready(true);

    // Receive and deploy until asked to stop.
    let mut receiving: Option<Pin<Box<dyn Future<Output = Received_> + Send>>> = None;
    let mut backoff = receive_backoff();
    let mut retry_at: Option<Instant> = None;
    let mut last_error: Option<String> = None;
    loop {
        ctx.metrics
            .load(workers.tasks.len(), workers.schedule.waiting());
        let room = workers.room(&ctx);
        if receiving.is_none() && retry_at.is_none() && room > 0 {
            let queue = ctx.queue.clone();
            let (wait, visibility) = (config.wait_time, config.visibility_timeout);
            receiving = Some(Box::pin(async move {
                queue.receive(room, wait, visibility).await
            }));
        }
        tokio::select! {
            biased;
            () = shutdown.requested() => break,
            Some(joined) = workers.tasks.join_next_with_id() => workers.joined(&ctx, joined),
            received = async {
                match receiving.as_mut() {
                    Some(receive) => receive.await,
                    None => std::future::pending().await,
                }
            } => {
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
                            workers.admit(&ctx, message);
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

    // Stop receiving at once; give waiting messages back; let deployments in flight settle for the grace.
    drop(receiving);
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
        grace = %humantime::format_duration(config.shutdown_grace),
        "stop requested: no more messages are received; deployments in flight get SHUTDOWN_GRACE to settle"
    );
    let grace = tokio::time::sleep(config.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            biased;
            () = shutdown.forced() => {
                warn!(in_flight = workers.tasks.len(), "second stop request: exiting now; unsettled messages reappear on the queue when their visibility timeout passes");
                return Ok(Stop::Forced);
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
            () = shutdown.forced() => return Ok(Stop::Forced),
            () = release(&ctx.queue, &to_release) => {}
        }
    }
    // Every deployment task ended, so this is the last notifier: its sinks finish what is queued.
    drop(ctx);
    tokio::select! {
        biased;
        () = shutdown.forced() => return Ok(Stop::Forced),
        () = deliveries.finish(NOTIFY_TIMEOUT) => {}
    }
    info!("stopped");
    Ok(Stop::Graceful)
}

/// What one ReceiveMessage call gives.
type Received_ = Result<Vec<Received>, AwsError>;

/// Deployments running, and messages waiting for their service.
#[derive(Default)]
struct Workers {
    /// One task per running deployment.
    tasks: JoinSet<()>,
    /// Per task: its service (when it holds one) and its message.
    running: HashMap<tokio::task::Id, (Option<String>, String)>,
    /// Which message runs when.
    schedule: Schedule<Job>,
}

impl Workers {
    /// How many more messages to receive now: none while `CONCURRENCY` deployments run, and at most as
    /// many waiting messages again as deployments may run.
    fn room(&self, ctx: &Context) -> usize {
        let limit = ctx.config.concurrency;
        let running = limit.saturating_sub(self.tasks.len());
        let holding = (2 * limit).saturating_sub(ctx.in_flight.len());
        running.min(holding).min(MAX_BATCH)
    }

    /// Takes a received message: runs it, queues it behind its service, or settles it at once.
    fn admit(&mut self, ctx: &Arc<Context>, message: Received) {
        if !ctx
            .in_flight
            .hold(&message.message_id, &message.receipt_handle)
        {
            info!(message_id = %message.message_id, "received again while in progress here; kept with its newer receipt handle");
            return;
        }
        let action = match message::parse(&message.body, &message.attributes) {
            Ok(request) => Action::Deploy(request),
            Err(reason) => Action::Settle(Outcome::Rejected { reason }),
        };
        let service = match &action {
            Action::Deploy(DeploymentRequest {
                target: Target::Service(service),
                ..
            }) => Some(service_name(service).to_owned()),
            _ => None,
        };
        let (sent_at, message_id) = (message.sent_at_ms, message.message_id.clone());
        let job = Job {
            message,
            received_at: Instant::now(),
            received_wall: SystemTime::now(),
            action,
        };
        let Some(service) = service else {
            self.spawn(ctx, None, job);
            return;
        };
        match self.schedule.admit(&service, sent_at, &message_id, job) {
            Admission::Start(job) => self.spawn(ctx, Some(service), job),
            Admission::Wait => {
                info!(%message_id, %service, "waiting: a deployment of this service is in progress");
            }
            Admission::Stale {
                mut job,
                newer_message_id,
            } => {
                job.action = Action::Settle(Outcome::Superseded {
                    reason: format!(
                        "message {newer_message_id}, sent after this one, was already deployed to service '{service}'; deploying this older one would undo it"
                    ),
                });
                self.spawn(ctx, None, job);
            }
        }
    }

    fn spawn(&mut self, ctx: &Arc<Context>, service: Option<String>, job: Job) {
        let message_id = job.message.message_id.clone();
        let task = self.tasks.spawn(run_job(Arc::clone(ctx), job));
        self.running.insert(task.id(), (service, message_id));
    }

    /// A deployment task ended: frees its service for the next message waiting for it.
    fn joined(&mut self, ctx: &Arc<Context>, joined: Result<(tokio::task::Id, ()), JoinError>) {
        let id = match &joined {
            Ok((id, ())) => *id,
            Err(e) => e.id(),
        };
        let Some((service, message_id)) = self.running.remove(&id) else {
            return;
        };
        if let Err(e) = joined
            && e.is_panic()
        {
            // Not expected; the message is kept for SQS to deliver again rather than lost or deleted.
            error!(%message_id, "a deployment stopped unexpectedly; its message reappears on the queue when its visibility timeout passes");
            ctx.in_flight.take(&message_id);
        }
        if let Some(service) = service
            && let Some(next) = self.schedule.finish(&service)
        {
            self.spawn(ctx, Some(service), next);
        }
    }
}

/// Reads the queue's redrive policy, retrying while SQS is unreachable; `None` when there is none or it
/// cannot be read.
async fn resolve_dead_letter_queue(queue: &Queue) -> Result<Option<DeadLetterQueue>, WorkerError> {
    let mut backoff = receive_backoff();
    loop {
        match queue.dead_letter_queue().await {
            Ok(dlq) => return Ok(dlq),
            Err(e) if queue_missing(&e) => return Err(WorkerError::QueueMissing(e)),
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

/// Sets the messages' visibility to zero so another worker receives them at once; bounded in time, since a
/// stopping worker must not hang on SQS.
async fn release(queue: &Queue, messages: &[(String, String)]) {
    let work = async {
        for batch in messages.chunks(MAX_BATCH) {
            match queue.change_visibility(batch, Duration::ZERO).await {
                Ok(failures) => {
                    for (id, _) in batch {
                        match failures.iter().find(|f| &f.message_id == id) {
                            None => {
                                warn!(message_id = %id, "released unsettled: another worker resumes it")
                            }
                            Some(f) => {
                                warn!(message_id = %id, code = %f.code, "cannot release; it reappears when its visibility timeout passes")
                            }
                        }
                    }
                }
                Err(e) => {
                    warn!(error = %e, count = batch.len(), "cannot release messages; they reappear when their visibility timeout passes");
                }
            }
        }
    };
    if tokio::time::timeout(RELEASE_TIMEOUT, work).await.is_err() {
        warn!(
            "releasing messages took too long; the rest reappear when their visibility timeout passes"
        );
    }
}

/// Aborts a background task when dropped, so no exit path leaves it running.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Deploys (or settles) one message, then reports.
async fn run_job(ctx: Arc<Context>, job: Job) {
    let message = job.message;
    let service = attribute(&message.attributes, SERVICE_ATTRIBUTE);
    let commit_url = message.attributes.get(COMMIT_URL_ATTRIBUTE).cloned();
    let span = info_span!(
        "deployment",
        message_id = %message.message_id,
        service = %service,
        commit_url = commit_url.as_deref().unwrap_or(""),
    );
    let reply_to = message
        .attributes
        .get(REPLY_TO_ATTRIBUTE)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    // What every notification of this message says, besides its event.
    let mut report = Report {
        message_id: message.message_id.clone(),
        service,
        cluster: ctx.config.cluster.clone(),
        previous_task_definition: None,
        new_task_definition: None,
        commit_url,
        outcome: Outcome::Deployed,
        ecs_said: Vec::new(),
        disposition: Disposition::Delete,
        settled: false,
        received_at: job.received_wall,
        duration: Duration::ZERO,
    };
    let (record, disposition, settled) = async {
        let record = match job.action {
            Action::Deploy(request) => {
                info!(receive_count = message.receive_count, "deploying");
                let delivery = Delivery {
                    message_id: message.message_id.clone(),
                    redelivered: message.receive_count > 1,
                };
                let on_started = |record: &Record| {
                    ctx.notifier.notify(Notice::started(
                        &report,
                        record.previous_task_definition.as_deref(),
                        record.new_task_definition.as_deref(),
                        reply_to,
                    ));
                };
                ctx.deployer.deploy(&request, &delivery, &on_started).await
            }
            Action::Settle(outcome) => Record {
                previous_task_definition: None,
                new_task_definition: None,
                outcome,
                ecs_said: Vec::new(),
            },
        };
        let disposition = disposition(&record.outcome, ctx.dead_letter_queue.is_some());
        let settled = settle(&ctx, &message, &record.outcome, disposition).await;
        (record, disposition, settled)
    }
    .instrument(span)
    .await;

    report.previous_task_definition = record.previous_task_definition;
    report.new_task_definition = record.new_task_definition;
    report.outcome = record.outcome;
    report.ecs_said = record.ecs_said;
    report.disposition = disposition;
    report.settled = settled;
    report.duration = job.received_at.elapsed();
    log_report(
        &report,
        (disposition == Disposition::LogAndDelete).then_some(&message),
    );
    ctx.metrics
        .finished(report.outcome.label(), report.duration);
    ctx.notifier.notify(Notice::finished(&report, reply_to));
    if let Some(reports) = &ctx.reports {
        // A closed channel means nobody listens any more; the log line is the record.
        let _ = reports.send(report);
    }
}

/// Carries out the disposition; `false` when the message is left on the queue.
async fn settle(
    ctx: &Context,
    message: &Received,
    outcome: &Outcome,
    disposition: Disposition,
) -> bool {
    if disposition == Disposition::LeaveForRedelivery {
        // Still held: it is released, or reappears, for a later try.
        if let Some(handle) = ctx.in_flight.take(&message.message_id) {
            release(&ctx.queue, &[(message.message_id.clone(), handle)]).await;
        }
        return false;
    }
    if let (Disposition::DeadLetter, Some(dlq)) = (disposition, &ctx.dead_letter_queue)
        && let Err(e) = ctx
            .queue
            .send_to_dead_letter_queue(dlq, message, &outcome.reason())
            .await
    {
        error!(error = %e, "cannot move the rejected message to the dead-letter queue; it stays on the queue");
        ctx.in_flight.take(&message.message_id);
        return false;
    }
    // The latest receipt handle: SQS may have delivered the message again while it ran.
    let Some(handle) = ctx.in_flight.take(&message.message_id) else {
        return false;
    };
    match ctx.queue.delete(&handle).await {
        Ok(()) => true,
        Err(e) => {
            error!(error = %e, "cannot delete the message; SQS will deliver it again");
            false
        }
    }
}

/// The one line each deployment ends with.
fn log_report(report: &Report, rejected_message: Option<&Received>) {
    let reason = report.outcome.reason();
    let reason = (!reason.is_empty()).then_some(reason.as_str());
    let body = rejected_message.map(|m| m.body.as_str());
    let attributes = rejected_message.map(|m| format!("{:?}", m.attributes));
    macro_rules! line {
        ($level:expr) => {
            tracing::event!(
                $level,
                message_id = %report.message_id,
                service = %report.service,
                cluster = %report.cluster,
                previous_task_definition = report.previous_task_definition.as_deref(),
                new_task_definition = report.new_task_definition.as_deref(),
                commit_url = report.commit_url.as_deref(),
                outcome = report.outcome.label(),
                rollback = report.outcome.rollback().map(|r| r.label()),
                reason,
                disposition = ?report.disposition,
                settled = report.settled,
                duration_ms = u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX),
                body,
                attributes,
                "deployment finished"
            )
        };
    }
    match report.outcome {
        Outcome::Deployed | Outcome::Registered => line!(Level::INFO),
        Outcome::Superseded { .. } | Outcome::RetryLater { .. } => line!(Level::WARN),
        Outcome::Rejected { .. } | Outcome::Failed { .. } | Outcome::TimedOut { .. } => {
            line!(Level::ERROR)
        }
    }
}

fn attribute(attributes: &BTreeMap<String, String>, name: &str) -> String {
    attributes
        .get(name)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn queue_missing(err: &AwsError) -> bool {
    err.is("AWS.SimpleQueueService.NonExistentQueue") || err.is("QueueDoesNotExist")
}

fn receive_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(MIN_RECEIVE_BACKOFF)
        .with_max_delay(MAX_RECEIVE_BACKOFF)
        .with_jitter()
        .without_max_times()
        .build()
}
