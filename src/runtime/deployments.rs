//! Deployments running at once, and messages waiting for their service: each received message is run,
//! queued behind its service's deployment, or settled at once, as [`crate::decide::schedule`] decides.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;
use tracing::{error, info};

use crate::aws::sqs::{MAX_BATCH, Received};
use crate::decide::message::Target;
use crate::decide::names::service_name;
use crate::decide::outcome::Outcome;
use crate::decide::schedule::{Admission, Schedule, Superseded};
use crate::runtime::actions::Action;
use crate::runtime::job::{AdmissionSignal, Admitted, Handling, Job, run_job};
use crate::runtime::startup::Context;

/// Deployments running, and messages waiting for their service.
pub(super) struct Deployments {
    /// One task per running deployment.
    pub(super) tasks: JoinSet<()>,
    /// What each task runs.
    running: HashMap<tokio::task::Id, RunningJob>,
    /// Which message runs when.
    pub(super) schedule: Schedule<Job>,
    /// Given to each deployment of a service, to say when the service was updated: only then does it
    /// supersede the messages waiting behind it.
    admissions: AdmissionSignal,
    /// Where those signals arrive.
    pub(super) admission_signals: UnboundedReceiver<Admitted>,
}

impl Default for Deployments {
    fn default() -> Self {
        let (to, admission_signals) = unbounded_channel();
        Self {
            tasks: JoinSet::new(),
            running: HashMap::new(),
            schedule: Schedule::default(),
            admissions: AdmissionSignal::new(to),
            admission_signals,
        }
    }
}

impl Deployments {
    /// How many more messages to receive now: none while `CONCURRENCY` deployments run, and at most as
    /// many waiting messages again as deployments may run.
    pub(super) fn room(&self, ctx: &Context) -> usize {
        let limit = ctx.config.concurrency;
        let running = limit.saturating_sub(self.tasks.len());
        let holding = (2 * limit).saturating_sub(ctx.in_flight.len());
        running.min(holding).min(MAX_BATCH)
    }

    /// Takes a received message: runs it, queues it behind its service, or settles it at once.
    pub(super) fn admit(&mut self, ctx: &Arc<Context>, message: Received) {
        if !ctx
            .in_flight
            .hold(&message.message_id, &message.receipt_handle)
        {
            info!(message_id = %message.message_id, "received again while in progress here; kept with its newer receipt handle");
            return;
        }
        // What needs no call to AWS is judged before the message joins its service's schedule, so that a
        // message refused by it never waits for, or displaces, another.
        let handling = match Action::read(&message.body, &message.attributes) {
            Ok(action) => {
                let cluster = ctx.deployer.cluster_of(action.cluster());
                match ctx.guard.before_schedule(action.asked(), cluster) {
                    Ok(()) => Handling::Run(action),
                    Err(refused) => Handling::Refuse(action, refused),
                }
            }
            Err(reason) => Handling::Settle(Outcome::Rejected { reason }),
        };
        let service = match &handling {
            Handling::Run(action) => match action.target() {
                Target::Service(service) => Some(service_key(
                    ctx.deployer.cluster_of(action.cluster()),
                    service_name(&service),
                )),
                Target::RegisterOnly => None,
            },
            Handling::Settle(_) | Handling::Refuse(..) => None,
        };
        let (sent_at, message_id) = (message.sent_at_ms, message.message_id.clone());
        let job = Job {
            message,
            received_at: Instant::now(),
            received_wall: SystemTime::now(),
            handling,
            admission: self.admissions.for_service(service.clone()),
        };
        let Some(service) = service else {
            self.spawn(ctx, None, job);
            return;
        };
        let shown = shown(&service);
        match self.schedule.admit(&service, sent_at, &message_id, job) {
            Admission::Start(job) => self.spawn(ctx, Some(service), job),
            Admission::Wait => {
                info!(%message_id, service = %shown, "waiting: a deployment of this service is in progress");
            }
            Admission::Stale {
                mut job,
                newer_message_id,
            } => {
                job.handling = Handling::Settle(Outcome::Superseded {
                    reason: format!(
                        "message {newer_message_id}, sent after this one, was already deployed to service {shown}; deploying this older one would undo it"
                    ),
                });
                self.spawn(ctx, None, job);
            }
        }
    }

    /// A deployment updated its service: the messages waiting for it that were sent before it are
    /// settled as superseded.
    pub(super) fn admitted(
        &mut self,
        ctx: &Arc<Context>,
        Admitted {
            service,
            message_id,
        }: Admitted,
    ) {
        let shown = shown(&service);
        for Superseded {
            mut job,
            newer_message_id,
        } in self.schedule.admitted(&service, &message_id)
        {
            job.handling = Handling::Settle(Outcome::Superseded {
                reason: format!(
                    "message {newer_message_id}, sent after this one, was deployed to service {shown}; only the newest message waiting for a service is deployed"
                ),
            });
            self.spawn(ctx, None, job);
        }
    }

    fn spawn(&mut self, ctx: &Arc<Context>, service: Option<String>, job: Job) {
        let message_id = job.message.message_id.clone();
        let task = self.tasks.spawn(run_job(Arc::clone(ctx), job));
        self.running.insert(
            task.id(),
            RunningJob {
                service,
                message_id,
            },
        );
    }

    /// A deployment task ended: frees its service for the next message waiting for it.
    pub(super) fn joined(
        &mut self,
        ctx: &Arc<Context>,
        joined: Result<(tokio::task::Id, ()), JoinError>,
    ) {
        let id = match &joined {
            Ok((id, ())) => *id,
            Err(e) => e.id(),
        };
        let Some(RunningJob {
            service,
            message_id,
        }) = self.running.remove(&id)
        else {
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

/// What one deployment task runs.
struct RunningJob {
    /// Its service as the schedule knows it, which the next message waiting for it may take once it
    /// ends; `None` for a message that holds no service.
    service: Option<String>,
    /// Its message's id.
    message_id: String,
}

/// How the schedule knows a service: its cluster and name, since one name in two clusters is two services.
fn service_key(cluster: &str, name: &str) -> String {
    format!("{cluster}/{name}")
}

/// A [`service_key`] as log lines and reasons say it. A cluster ARN has slashes of its own; a service name
/// has none.
fn shown(key: &str) -> String {
    match key.rsplit_once('/') {
        Some((cluster, name)) => format!("'{name}' in cluster '{cluster}'"),
        None => key.to_owned(),
    }
}
