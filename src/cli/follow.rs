//! `ecs-deployment send --wait`: following a sent message to its outcome, through the worker's reply when
//! it was asked for one, or else by watching the service for the revision the worker tags with the message
//! id.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::ecs::{Ecs, service_state};
use crate::aws::error::AwsError;
use crate::cli::exit::{EXIT_NO_OUTCOME, EXIT_OK, Failure};
use crate::cli::progress::ProgressLine;
use crate::decide::history::History;
use crate::decide::marker::Marked;
use crate::decide::names::short_arn;
use crate::decide::rollout::{Goal, Observation, RecordOf, Verdict, judge, needs_tasks, remember};
use crate::decide::service::{DeploymentState, ServiceState};
use crate::decide::task_definition::{described_members, health_checked};
use crate::ops::notify::notice::{Event, Notice, ORIGINAL_MESSAGE_ID_ATTRIBUTE};

/// Following one sent message to its outcome.
pub struct Follow {
    /// For the reply queue.
    pub sqs: aws_sdk_sqs::Client,
    /// For the service.
    pub ecs: Ecs,
    /// The service deployed; `None` for register-only.
    pub service: Option<String>,
    /// The task definition's family, to find its revision by.
    pub family: String,
    /// The sent message's id: replies and the revision's marker tag carry it.
    pub message_id: String,
    /// Where the worker replies, when asked.
    pub reply_to: Option<String>,
    /// How often the service is read.
    pub poll_interval: Duration,
    /// How long to wait for an outcome.
    pub timeout: Duration,
}

fn ours<'a>(state: &'a ServiceState, revision: &str) -> Option<&'a DeploymentState> {
    state
        .deployments
        .iter()
        .find(|d| d.task_definition == revision)
}

impl Follow {
    /// Follows the message until the worker's verdict (or the service's) is known, or `timeout` passed.
    pub async fn run(self) -> Result<u8, Failure> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut progress = ProgressLine::new();
        let mut revision: Option<String> = None;
        // The deployment the worker started, once its tag on the revision says which.
        let mut deployment: Option<String> = None;
        let mut history = History::default();
        let mut not_ours: HashSet<String> = HashSet::new();
        let mut trouble: Option<String> = None;
        loop {
            if Instant::now() >= deadline {
                progress.finish();
                return Err(Failure {
                    exit: EXIT_NO_OUTCOME,
                    message: format!(
                        "no outcome within --timeout ({}); message {} may still be deployed",
                        humantime::format_duration(self.timeout),
                        self.message_id
                    ),
                });
            }
            // The worker's own verdict, when it was asked to reply.
            if let Some(reply) = &self.reply_to {
                match self.replies(reply).await {
                    Ok(notices) => {
                        for notice in notices {
                            match notice.event {
                                Event::Started => revision = notice.new_task_definition.clone(),
                                Event::Waiting => {
                                    trouble = notice.reason.clone();
                                }
                                Event::Retrying => {
                                    trouble = Some(format!(
                                        "the worker will try again: {}",
                                        notice.reason.as_deref().unwrap_or("")
                                    ));
                                }
                                Event::Finished => {
                                    progress.finish();
                                    return outcome(&notice);
                                }
                            }
                        }
                    }
                    Err(e) if e.queue_missing() => {
                        progress.finish();
                        return Err(Failure::aws(format!("--reply-to: {e}")));
                    }
                    Err(e) => trouble = Some(e.to_string()),
                }
            } else {
                tokio::time::sleep(self.poll_interval).await;
            }
            let Some(service) = &self.service else {
                // Without a service to read (register-only, or an action that registers nothing), the
                // worker's reply is all there is to wait for.
                let what = if self.family.is_empty() {
                    "waiting for the worker's verdict on message"
                } else {
                    "waiting for the worker to register message"
                };
                progress.show(
                    &format!(
                        "{what} {} · {}s",
                        self.message_id,
                        started.elapsed().as_secs()
                    ),
                    what,
                );
                continue;
            };
            let state = match self
                .ecs
                .describe_services(std::slice::from_ref(service))
                .await
            {
                Ok(found) => match found.first() {
                    Some(s) => service_state(s),
                    None => {
                        progress.finish();
                        return Err(Failure::aws(format!(
                            "service '{service}' not found in cluster '{}'",
                            self.ecs.cluster()
                        )));
                    }
                },
                Err(e) => {
                    trouble = Some(e.to_string());
                    progress.show(&format!("{service}: {e}"), &e.to_string());
                    continue;
                }
            };
            if revision.is_none()
                && self.reply_to.is_none()
                && let Some(marked) = self.find_revision(&mut not_ours).await
            {
                // Its tags were just read: a deployment tag means the service was already updated.
                deployment = marked.deployment_id;
                revision = Some(marked.task_definition);
            }
            let line = progress_line(
                service,
                &state,
                revision.as_deref(),
                &self.message_id,
                trouble.take(),
            );
            // The clock ticks on a terminal; elsewhere only a change of the rest is news.
            progress.show(&format!("{line} · {}s", started.elapsed().as_secs()), &line);
            let Some(revision) = &revision else {
                continue;
            };
            // Tagged with the deployment the worker started: the tags are read again only while
            // neither they nor a read of the service has told.
            if deployment.is_none() && history.seen.is_none() && self.reply_to.is_none() {
                deployment = self.deployment_of(revision).await;
            }
            if self.reply_to.is_none() {
                let started_by = deployment.as_deref();
                match self
                    .judged(service, state, revision, started_by, &mut history)
                    .await
                {
                    Verdict::InProgress(_) => {}
                    Verdict::Done => {
                        progress.finish();
                        println!(
                            "deployed: service '{service}' runs {} ({}s)",
                            short_arn(revision),
                            started.elapsed().as_secs()
                        );
                        return Ok(EXIT_OK);
                    }
                    Verdict::Failed(why) => {
                        progress.finish();
                        return Err(Failure::no(format!(
                            "not deployed: {} to service '{service}': {}",
                            short_arn(revision),
                            why.reason()
                        )));
                    }
                }
            }
        }
    }

    /// The rollout of `revision` to `service` judged as the worker judges it (see
    /// [`crate::decide::rollout::judge`]): by ECS's record of the service deployment while the revision is
    /// the PRIMARY one, else by the service's deployments and, once ECS says they are done, its tasks.
    /// `started`: the deployment the worker started for it, as the revision's tag says.
    async fn judged(
        &self,
        service: &str,
        state: ServiceState,
        revision: &str,
        started: Option<&str>,
        history: &mut History,
    ) -> Verdict {
        if let Some(id) = started
            && history.seen.is_none()
        {
            history.seen = Some((id.to_owned(), None));
        }
        let primary = ours(&state, revision).filter(|d| d.status == "PRIMARY");
        let goal = Goal {
            deployment_id: started.map(str::to_owned),
            task_definition: revision.to_owned(),
            previous_task_definition: None,
            health_checked: self.health_checked(revision).await,
            previous_health_checked: Default::default(),
            service_deployment: primary
                .and(state.current_service_deployment.clone())
                .map(|arn| RecordOf {
                    arn,
                    task_definition: revision.to_owned(),
                }),
            ecs_rolls_back: false,
            fresh_tasks: false,
        };
        let record = match &goal.service_deployment {
            Some(of) => self
                .ecs
                .service_deployment_of_revision(&of.arn)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let mut observation = Observation {
            service: Some(state),
            tasks: None,
            deployment: record,
        };
        remember(history, &observation, &goal);
        if needs_tasks(&observation, &goal, history) {
            observation.tasks = self.ecs.running_tasks(service).await.ok();
        }
        judge(&observation, &goal, history)
    }

    /// The containers whose health check decides the tasks' health of `revision`; none when it cannot be
    /// read (RUNNING then counts).
    async fn health_checked(&self, revision: &str) -> BTreeSet<String> {
        self.ecs
            .task_definition_json(revision)
            .await
            .ok()
            .and_then(|json| described_members(&json).ok())
            .map(|members| health_checked(&members))
            .unwrap_or_default()
    }

    /// The replies to this message on the reply queue; others' replies are given back at once.
    async fn replies(&self, queue: &str) -> Result<Vec<Notice>, AwsError> {
        let wait = i32::try_from(self.poll_interval.as_secs().clamp(1, 20)).unwrap_or(1);
        let out = self
            .sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(wait)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| AwsError::new("ReceiveMessage", e))?;
        let mut notices = Vec::new();
        for message in out.messages() {
            let original = message
                .message_attributes()
                .and_then(|a| a.get(ORIGINAL_MESSAGE_ID_ATTRIBUTE))
                .and_then(|v| v.string_value());
            let Some(handle) = message.receipt_handle() else {
                continue;
            };
            if original != Some(self.message_id.as_str()) {
                // Someone else's reply on a shared queue: back to the queue for its reader.
                let _ = self
                    .sqs
                    .change_message_visibility()
                    .queue_url(queue)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await;
                continue;
            }
            if let Some(notice) = message
                .body()
                .and_then(|b| serde_json::from_str::<Notice>(b).ok())
            {
                notices.push(notice);
            }
            let _ = self
                .sqs
                .delete_message()
                .queue_url(queue)
                .receipt_handle(handle)
                .send()
                .await;
        }
        Ok(notices)
    }

    /// The revision the worker registered for this message, found by its marker tag among the family's
    /// newest revisions as the worker finds it; revisions found not to be it are remembered in `not_ours`.
    async fn find_revision(&self, not_ours: &mut HashSet<String>) -> Option<Marked> {
        self.ecs
            .find_marked_skipping(&self.family, &self.message_id, not_ours)
            .await
            .ok()
            .flatten()
    }

    /// The deployment the worker pointed the service at the revision with, once it did: it tags the
    /// revision with it once UpdateService answered.
    async fn deployment_of(&self, revision: &str) -> Option<String> {
        self.ecs
            .task_definition_tags(revision)
            .await
            .ok()
            .and_then(|tags| Marked::from_tags(revision, &tags, &self.message_id))
            .and_then(|m| m.deployment_id)
    }
}

/// One progress line, without the clock.
fn progress_line(
    service: &str,
    state: &ServiceState,
    revision: Option<&str>,
    message_id: &str,
    trouble: Option<String>,
) -> String {
    let mut line = match revision.and_then(|r| ours(state, r).map(|d| (r, d))) {
        Some((revision, d)) => format!(
            "{service}: {} {}, {}/{} running{}{}",
            short_arn(revision),
            d.rollout_state.as_deref().unwrap_or(&d.status),
            d.running_count,
            state.desired_count,
            if d.pending_count > 0 {
                format!(", {} pending", d.pending_count)
            } else {
                String::new()
            },
            if d.failed_tasks > 0 {
                format!(", {} failed", d.failed_tasks)
            } else {
                String::new()
            },
        ),
        None if revision.is_some() => format!("{service}: waiting for the worker's verdict"),
        None => format!("{service}: waiting for the worker to pick up message {message_id}"),
    };
    if let Some(trouble) = trouble {
        line.push_str(&format!(" ({trouble})"));
    }
    line
}

/// Prints the worker's verdict and gives the exit code.
fn outcome(notice: &Notice) -> Result<u8, Failure> {
    let took = notice
        .duration_ms
        .map(|ms| format!(" ({}s)", ms / 1000))
        .unwrap_or_default();
    if notice.success == Some(true) {
        println!("{}{took}", notice.headline());
        return Ok(EXIT_OK);
    }
    let mut message = format!("{}{took}", notice.headline());
    if let Some(reason) = &notice.reason {
        message.push_str(&format!(": {reason}"));
    }
    Err(Failure::no(message))
}

#[cfg(test)]
mod tests;
