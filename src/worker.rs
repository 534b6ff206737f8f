//! The receive loop: long-poll the queue, deploy each message while keeping it hidden, settle it as
//! [`crate::outcome::disposition`] decides, and end each deployment with one structured log line.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tracing::{Instrument, Level, error, info, info_span, warn};

use crate::config::Config;
use crate::deploy::{Deployer, Record, Settings};
use crate::ecs::Ecs;
use crate::error::AwsError;
use crate::message::{self, COMMIT_URL_ATTRIBUTE, SERVICE_ATTRIBUTE};
use crate::outcome::{Disposition, Outcome, disposition};
use crate::sqs::{DeadLetterQueue, Queue, Received};

/// The shortest wait after a failed receive.
const MIN_RECEIVE_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait after failed receives in a row.
const MAX_RECEIVE_BACKOFF: Duration = Duration::from_secs(60);

/// The AWS clients the worker uses; built from the SDK's standard configuration chain by the binary.
#[derive(Debug, Clone)]
pub struct Clients {
    /// For the deployment queue and its dead-letter queue.
    pub sqs: aws_sdk_sqs::Client,
    /// For the cluster's services.
    pub ecs: aws_sdk_ecs::Client,
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
    /// What was done with the message.
    pub disposition: Disposition,
    /// Whether that was done; `false` means SQS will deliver the message again.
    pub settled: bool,
    /// From receipt to settlement.
    pub duration: Duration,
}

/// The worker failed in a way that retrying cannot fix.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// `SQS_URL` names no queue.
    #[error("SQS_URL: the queue does not exist ({0})")]
    QueueMissing(AwsError),
}

/// Runs the worker until `shutdown` completes; a deployment in progress is finished first.
///
/// Each report is also sent to `reports` when given.
pub async fn run(
    config: &Config,
    clients: Clients,
    shutdown: impl Future<Output = ()>,
    reports: Option<UnboundedSender<Report>>,
) -> Result<(), WorkerError> {
    tokio::pin!(shutdown);
    let queue = Queue::new(clients.sqs, &config.queue_url);
    let deployer = Deployer::new(
        Ecs::new(clients.ecs, &config.cluster),
        Settings {
            timeout: config.rollout_timeout,
            poll_interval: config.poll_interval,
            rollback_on_failure: config.rollback_on_failure,
        },
    );
    let mut backoff = receive_backoff();
    let mut last_error: Option<String> = None;

    let dead_letter_queue = loop {
        let result = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            result = queue.dead_letter_queue() => result,
        };
        match result {
            Ok(dlq) => break dlq,
            Err(e) if queue_missing(&e) => return Err(WorkerError::QueueMissing(e)),
            Err(e)
                if e.rejects_request
                    || e.code
                        .as_deref()
                        .is_some_and(|c| c.contains("AccessDenied")) =>
            {
                warn!(error = %e, "cannot read the queue's redrive policy; rejected messages will be logged whole and deleted");
                break None;
            }
            Err(e) => {
                let delay = backoff.next().unwrap_or(MAX_RECEIVE_BACKOFF);
                warn!(error = %e, retry_in = ?delay, "cannot read the queue's redrive policy");
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    };
    match &dead_letter_queue {
        Some(dlq) => {
            info!(queue = %config.queue_url, dead_letter_queue = %dlq.url, cluster = %config.cluster, "receiving deployments")
        }
        None => {
            info!(queue = %config.queue_url, cluster = %config.cluster, "receiving deployments (the queue has no dead-letter queue)")
        }
    }

    loop {
        let received = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            received = queue.receive(config.wait_time, config.visibility_timeout) => received,
        };
        match received {
            Ok(messages) => {
                if let Some(error) = last_error.take() {
                    info!(%error, "receiving again");
                }
                backoff = receive_backoff();
                for message in messages {
                    let report = handle(
                        config,
                        &queue,
                        &deployer,
                        dead_letter_queue.as_ref(),
                        message,
                    )
                    .await;
                    if let Some(reports) = &reports {
                        // A closed channel means nobody listens any more; the log line is the record.
                        let _ = reports.send(report);
                    }
                }
            }
            Err(e) if queue_missing(&e) => return Err(WorkerError::QueueMissing(e)),
            Err(e) => {
                let delay = backoff.next().unwrap_or(MAX_RECEIVE_BACKOFF);
                let error = e.to_string();
                if last_error.as_deref() != Some(error.as_str()) {
                    warn!(%error, "cannot receive; retrying with backoff");
                    last_error = Some(error);
                }
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
    info!("stopped receiving; exiting");
    Ok(())
}

/// Deploys one message and settles it.
async fn handle(
    config: &Config,
    queue: &Queue,
    deployer: &Deployer,
    dead_letter_queue: Option<&DeadLetterQueue>,
    message: Received,
) -> Report {
    let started = Instant::now();
    let service = attribute(&message.attributes, SERVICE_ATTRIBUTE);
    let commit_url = message.attributes.get(COMMIT_URL_ATTRIBUTE).cloned();
    let span = info_span!(
        "deployment",
        message_id = %message.message_id,
        service = %service,
        commit_url = commit_url.as_deref().unwrap_or(""),
    );
    let (record, disposition, settled) = async {
        info!("received a deployment");
        let record = match message::parse(&message.body, &message.attributes) {
            Ok(request) => {
                tokio::select! {
                    record = deployer.deploy(&request) => record,
                    never = keep_hidden(queue, &message.receipt_handle, config.visibility_timeout) => match never {},
                }
            }
            Err(reason) => Record {
                previous_task_definition: None,
                new_task_definition: None,
                outcome: Outcome::Rejected { reason },
            },
        };
        let disposition = disposition(&record.outcome, dead_letter_queue.is_some());
        let settled = settle(queue, dead_letter_queue, &message, &record.outcome, disposition).await;
        (record, disposition, settled)
    }
    .instrument(span)
    .await;

    let report = Report {
        message_id: message.message_id.clone(),
        service,
        cluster: config.cluster.clone(),
        previous_task_definition: record.previous_task_definition,
        new_task_definition: record.new_task_definition,
        commit_url,
        outcome: record.outcome,
        disposition,
        settled,
        duration: started.elapsed(),
    };
    log_report(
        &report,
        (disposition == Disposition::LogAndDelete).then_some(&message),
    );
    report
}

/// Extends the message's visibility every third of it, for as long as the deployment runs.
async fn keep_hidden(queue: &Queue, receipt_handle: &str, visibility: Duration) -> Infallible {
    let period = visibility / 3;
    loop {
        tokio::time::sleep(period).await;
        if let Err(e) = queue.extend(receipt_handle, visibility).await {
            warn!(error = %e, "cannot extend the message's visibility; another receiver may get it");
        }
    }
}

/// Carries out the disposition; `false` when the message is left on the queue.
async fn settle(
    queue: &Queue,
    dead_letter_queue: Option<&DeadLetterQueue>,
    message: &Received,
    outcome: &Outcome,
    disposition: Disposition,
) -> bool {
    match (disposition, dead_letter_queue) {
        (Disposition::LeaveForRedelivery, _) => return false,
        (Disposition::DeadLetter, Some(dlq)) => {
            if let Err(e) = queue
                .send_to_dead_letter_queue(dlq, message, &outcome.reason())
                .await
            {
                error!(error = %e, "cannot move the rejected message to the dead-letter queue; it stays on the queue");
                return false;
            }
        }
        _ => {}
    }
    match queue.delete(&message.receipt_handle).await {
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
