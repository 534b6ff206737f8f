//! One message's job: deploy it (or settle it with an outcome already known), carry out what
//! [`crate::decide::outcome::disposition`] decides for its message, end with one structured log line, and
//! report and notify.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tracing::{Instrument, Level, error, info, info_span};

use crate::aws::sqs::Received;
use crate::decide::guard::reply_queue;
use crate::decide::message::{BodySummary, commit_url_of, reply_to_of, service_of};
use crate::decide::names::family_of;
use crate::decide::outcome::{Disposition, Outcome, Report, disposition};
use crate::ops::config::HOLD_SETTLING;
use crate::ops::notify::Notice;
use crate::runtime::actions::Action;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::{Delivery, Milestone, Summary};
use crate::runtime::housekeeping::housekeep;
use crate::runtime::ledger;
use crate::runtime::startup::Context;

/// One received message and what to do with it.
pub(super) struct Job {
    /// The message.
    pub(super) message: Received,
    /// When it was received, for the report's duration.
    pub(super) received_at: Instant,
    /// The same moment on the wall clock, for the report.
    pub(super) received_wall: SystemTime,
    /// Carry it out, or settle it with an outcome already known.
    pub(super) handling: Handling,
    /// How it says that its service was updated, superseding what waits behind it.
    pub(super) admission: AdmissionSignal,
}

/// How a deployment says that its service was updated, superseding what waits behind it. Each sends a
/// handful at most, so the channel stays small.
#[derive(Clone)]
pub(super) struct AdmissionSignal {
    /// The service, as the schedule knows it; `None` for a message that holds no service.
    service: Option<String>,
    /// The worker's receiving end.
    to: UnboundedSender<Admitted>,
}

/// A deployment's word that its service was updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Admitted {
    /// The service, as the schedule knows it.
    pub(super) service: String,
    /// The message whose deployment updated it.
    pub(super) message_id: String,
}

impl AdmissionSignal {
    /// Signals to `to`, for no service until [`AdmissionSignal::for_service`] names one.
    pub(super) fn new(to: UnboundedSender<Admitted>) -> Self {
        Self { service: None, to }
    }

    /// The same channel, for `service`.
    pub(super) fn for_service(&self, service: Option<String>) -> Self {
        Self {
            service,
            to: self.to.clone(),
        }
    }

    /// Says that `message_id` was admitted; nobody listening (the worker stopping) is no error.
    pub(super) fn send(&self, message_id: &str) {
        if let Some(service) = &self.service {
            let _ = self.to.send(Admitted {
                service: service.clone(),
                message_id: message_id.to_owned(),
            });
        }
    }
}

/// What a job does with its message.
pub(super) enum Handling {
    /// Carry out the message's action.
    Run(Action),
    /// Settle the message with an outcome decided without ECS (rejected, stale).
    Settle(Outcome),
    /// Settle a message the guard refused before it joined its service's schedule.
    Refuse(Action, NotAdmitted),
}

/// Deploys (or settles) one message, then reports.
pub(super) async fn run_job(ctx: Arc<Context>, job: Job) {
    let message = job.message;
    let service = service_of(&message.attributes);
    let commit_url = commit_url_of(&message.attributes);
    let span = info_span!(
        "deployment",
        message_id = %message.message_id,
        service = %service,
        commit_url = commit_url.as_deref().unwrap_or(""),
    );
    // Notifications go to the message's reply queue only where the policy allows it, rejected or not.
    let reply_to = reply_queue(
        &ctx.guard.policy,
        &ctx.guard.identity,
        reply_to_of(&message.attributes),
    );
    let cluster = match &job.handling {
        Handling::Run(action) | Handling::Refuse(action, _) => {
            ctx.deployer.cluster_of(action.cluster()).to_owned()
        }
        Handling::Settle(_) => ctx.config.cluster.clone(),
    };
    // What every notification of this message says, besides its event.
    let mut report = Report {
        message_id: message.message_id.clone(),
        service,
        cluster,
        previous_task_definition: None,
        new_task_definition: None,
        commit_url,
        outcome: Outcome::Deployed,
        ecs_said: Vec::new(),
        logs: Vec::new(),
        disposition: Disposition::Delete,
        settled: false,
        received_at: job.received_wall,
        duration: Duration::ZERO,
    };
    // What the message asked for, for the record written on the revision it deployed.
    let action = match &job.handling {
        Handling::Run(action) | Handling::Refuse(action, _) => action
            .recorded()
            .then(|| (action.name(), action.reuses_revision())),
        Handling::Settle(_) => None,
    };
    let (summary, disposition, settled) = async {
        let summary = match job.handling {
            Handling::Run(action) => {
                info!(receive_count = message.receive_count, "deploying");
                let delivery = Delivery {
                    message_id: message.message_id.clone(),
                    redelivered: message.receive_count > 1,
                    sent_at_ms: message.sent_at_ms,
                    hold_until: job.received_at + ctx.config.max_hold,
                };
                let on_event = |milestone: Milestone<'_>| {
                    if let Milestone::Started(_) = milestone {
                        job.admission.send(&message.message_id);
                    }
                    ctx.notifier.notify(match milestone {
                        Milestone::Started(summary) => Notice::started(
                            &report,
                            summary.previous_task_definition.as_deref(),
                            summary.new_task_definition.as_deref(),
                            reply_to,
                        ),
                        Milestone::Waiting(summary, why) => Notice::waiting(
                            &report,
                            summary.previous_task_definition.as_deref(),
                            summary.new_task_definition.as_deref(),
                            why,
                            reply_to,
                        ),
                    });
                };
                // However a deployment is held up, its message is given back before SQS would let it go:
                // a redelivery resumes it from the marks it left, as after a crash.
                let settle_by = delivery.hold_until + HOLD_SETTLING / 2;
                let deploy = action.run(&ctx.deployer, &delivery, &on_event);
                match tokio::time::timeout_at(settle_by, deploy).await {
                    Ok(summary) => summary,
                    Err(_) => Summary::untouched(
                        Outcome::RetryLater {
                            reason: "released: the deployment had not settled when the message's hold (SQS_MAX_HOLD) ended; the next delivery resumes it".into(),
                        },
                        None,
                    ),
                }
            }
            Handling::Settle(outcome) => Summary::untouched(outcome, None),
            Handling::Refuse(_, refused) => Summary::untouched(refused.outcome, refused.rule),
        };
        // The record goes on the revision before the message is settled: once it is gone, history has it.
        if let Some((action, reuses_revision)) = action {
            ledger::write(
                &ctx.deployer.ecs_in(&report.cluster),
                ledger::Deployed {
                    action,
                    reuses_revision,
                    revision: summary.new_task_definition.as_deref(),
                    outcome: &summary.outcome,
                    received_at: report.received_at,
                    message_id: &message.message_id,
                    sender: message.sender.as_deref(),
                    commit_url: report.commit_url.as_deref(),
                },
            )
            .await;
        }
        let disposition = disposition(&summary.outcome, ctx.dead_letter_queue.is_some());
        let settled = settle(&ctx, &message, &summary.outcome, disposition).await;
        (summary, disposition, settled)
    }
    .instrument(span)
    .await;

    if let Some(rule) = summary.refused_by {
        ctx.metrics.policy_refusal(rule);
    }
    report.previous_task_definition = summary.previous_task_definition;
    report.new_task_definition = summary.new_task_definition;
    report.outcome = summary.outcome;
    report.ecs_said = summary.ecs_said;
    report.logs = summary.logs;
    report.disposition = disposition;
    report.settled = settled;
    report.duration = job.received_at.elapsed();
    log_report(&report, &message);
    ctx.metrics
        .finished(report.outcome.label(), report.duration);
    ctx.notifier.notify(Notice::finished(&report, reply_to));
    // Housekeeping follows the settlement and the notifications, so it never holds a message up or changes
    // its outcome.
    let housekeeping = match (ctx.config.keep_revisions, &report.new_task_definition) {
        (Some(keep), Some(revision)) if report.settled => Some((
            ctx.deployer.ecs_in(&report.cluster),
            family_of(revision).to_owned(),
            keep,
        )),
        _ => None,
    };
    if let Some(reports) = &ctx.reports {
        // A closed channel means nobody listens any more; the log line is the record.
        let _ = reports.send(report);
    }
    if let Some((ecs, family, keep)) = housekeeping {
        housekeep(&ecs, &family, keep).await;
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
        ctx.in_flight
            .release(&ctx.queue, std::slice::from_ref(&message.message_id))
            .await;
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

/// The one line each deployment ends with. A rejected message's body is summarized (family, size,
/// SHA-256), never logged: it may hold secrets. Without a dead-letter queue its attributes are logged too,
/// as the only record of it.
fn log_report(report: &Report, message: &Received) {
    let reason = report.outcome.reason();
    let reason = (!reason.is_empty()).then_some(reason.as_str());
    let rejected = matches!(report.outcome, Outcome::Rejected { .. });
    let body = rejected.then(|| BodySummary::of(&message.body));
    let attributes = (report.disposition == Disposition::LogAndDelete)
        .then(|| format!("{:?}", message.attributes));
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
                body_family = body.as_ref().and_then(|b| b.family.as_deref()),
                body_bytes = body.as_ref().map(|b| b.bytes),
                body_sha256 = body.as_ref().map(|b| b.sha256.as_str()),
                attributes,
                "deployment finished"
            )
        };
    }
    match report.outcome {
        Outcome::Deployed | Outcome::Registered | Outcome::Ran => line!(Level::INFO),
        Outcome::Superseded { .. } | Outcome::RetryLater { .. } => line!(Level::WARN),
        Outcome::Rejected { .. } | Outcome::Failed { .. } | Outcome::TimedOut { .. } => {
            line!(Level::ERROR)
        }
    }
}
