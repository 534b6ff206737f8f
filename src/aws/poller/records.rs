//! The service deployments' records the poller reads for the rollouts that ask: twenty per call, a
//! refused batch asked again record by record, each record bound to the task definition of the revision it
//! deploys.

use std::collections::{BTreeMap, BTreeSet};

use tracing::warn;

use crate::aws::ecs::{DESCRIBE_SERVICE_DEPLOYMENTS_BATCH, Ecs};
use crate::aws::error::AwsError;
use crate::decide::service::ServiceDeploymentState;

/// Error codes that mean the service-deployment APIs cannot be used at all here (the IAM policy lacks
/// them, or the endpoint does not serve them): the poller stops asking and rollouts are judged by the
/// service's deployments alone.
const UNAVAILABLE_CODES: [&str; 3] = [
    "AccessDeniedException",
    "UnknownOperationException",
    "UnrecognizedClientException",
];

/// Reads service deployments' records for the rollouts that ask, as long as ECS lets it, each with the
/// task definition its target revision runs.
#[derive(Debug, Default)]
pub(super) struct Records {
    /// Why the service-deployment APIs cannot be used, once a call said so: then they are not called
    /// again, and every rollout is judged by its service's deployments.
    pub(super) unavailable: Option<String>,
    /// Why service revisions cannot be read, once a call said so: records are then bound to their
    /// rollouts by ARN alone.
    revisions_unavailable: Option<String>,
    /// Task definitions of the service revisions read so far (revisions never change).
    revisions: BTreeMap<String, String>,
    /// Records ECS refused to describe by ARN (a malformed one): asked for no more, so that they do not
    /// blind the others of their batch.
    refused: BTreeSet<String>,
    /// The last error of a call that may work next time, so each new one is logged once.
    last_error: Option<String>,
    /// Whether ECS ever described a record: a refusal after that is of the records named (IAM refuses a
    /// whole call when one resource it names is not allowed), not of the API.
    read_any: bool,
    /// Records denied one at a time while none was ever read: from [`DENIED_TO_GIVE_UP`] on, the API is
    /// taken as not allowed at all.
    denied_alone: usize,
}

/// How many records denied alone, with none ever read, mean the policy does not allow the API at all
/// (one might be a resource the policy leaves out).
const DENIED_TO_GIVE_UP: usize = 2;

/// Most service revisions remembered before the memory starts again.
const MAX_REMEMBERED_REVISIONS: usize = 10_000;

impl Records {
    /// The records of `wanted` that ECS gave, twenty per call; none while the APIs are unavailable. A
    /// batch ECS refuses whole is asked again one record at a time, so one bad ARN blinds only its own
    /// rollout.
    pub(super) async fn read(
        &mut self,
        ecs: &Ecs,
        wanted: BTreeSet<String>,
    ) -> BTreeMap<String, ServiceDeploymentState> {
        let mut found = BTreeMap::new();
        if self.unavailable.is_some() || wanted.is_empty() {
            return found;
        }
        let wanted: Vec<String> = wanted
            .into_iter()
            .filter(|arn| !self.refused.contains(arn))
            .collect();
        for batch in wanted.chunks(DESCRIBE_SERVICE_DEPLOYMENTS_BATCH) {
            match ecs.describe_service_deployments(batch).await {
                Ok(records) => {
                    self.last_error = None;
                    self.read_any = true;
                    found.extend(records.into_iter().map(|r| (r.arn.clone(), r)));
                }
                Err(e) if (e.rejects_request || unavailable(&e)) && batch.len() > 1 => {
                    let mut denied = Vec::new();
                    for arn in batch {
                        match self.read_one(ecs, arn).await {
                            Ok(record) => found.extend(record),
                            Err(e) => denied.push((arn, e)),
                        }
                    }
                    // Denied one by one, and never read: the APIs are not allowed at all.
                    if denied.len() == batch.len() && !self.read_any {
                        let error = denied.first().map(|(_, e)| e.clone()).unwrap_or_default();
                        self.not_allowed(&error);
                        return BTreeMap::new();
                    }
                    for (arn, error) in denied {
                        self.refuse(arn, &error);
                    }
                }
                Err(e) if unavailable(&e) && !self.read_any => {
                    self.denied_alone += 1;
                    if self.denied_alone >= DENIED_TO_GIVE_UP {
                        self.not_allowed(&e.to_string());
                        return BTreeMap::new();
                    }
                    self.refuse(&batch[0], &e.to_string());
                }
                Err(e) if e.rejects_request || unavailable(&e) => {
                    self.refuse(&batch[0], &e.to_string());
                }
                Err(e) => self.failed(&e.to_string()),
            }
        }
        self.bind(ecs, &mut found).await;
        found
    }

    /// One record, asked alone after its batch was refused; the error when ECS refused or denied it.
    async fn read_one(
        &mut self,
        ecs: &Ecs,
        arn: &str,
    ) -> Result<Option<(String, ServiceDeploymentState)>, String> {
        match ecs.describe_service_deployment(arn).await {
            Ok(record) => {
                self.read_any = true;
                Ok(record.map(|r| (r.arn.clone(), r)))
            }
            Err(e) if e.rejects_request || unavailable(&e) => Err(e.to_string()),
            Err(e) => {
                self.failed(&e.to_string());
                Ok(None)
            }
        }
    }

    /// Calls the service-deployment APIs no more: the policy does not allow them (`error`).
    fn not_allowed(&mut self, error: &str) {
        warn!(%error, "ECS's service deployments cannot be read, so rollouts are judged by the service's deployments alone and ECS's own verdict (blue/green, linear and canary stages, alarms, hooks) is not seen; allow ecs:DescribeServiceDeployments to use it");
        self.unavailable = Some(error.to_owned());
    }

    /// Asks for `arn` no more: ECS refused it.
    fn refuse(&mut self, arn: &str, error: &str) {
        warn!(service_deployment = %arn, %error, "ECS refuses to describe this service deployment; its rollout is judged by the service's deployments");
        self.refused.insert(arn.to_owned());
    }

    /// Notes a failed call that may work next time, logging each new error once.
    fn failed(&mut self, error: &str) {
        if self.last_error.as_deref() != Some(error) {
            warn!(%error, "cannot read ECS's service deployments; judging by the service's deployments until it answers");
            self.last_error = Some(error.to_owned());
        }
    }

    /// Gives each record the task definition of the revision it deploys, read once per revision.
    async fn bind(&mut self, ecs: &Ecs, found: &mut BTreeMap<String, ServiceDeploymentState>) {
        let unknown: BTreeSet<String> = found
            .values()
            .filter_map(|r| r.target_revision.clone())
            .filter(|r| !self.revisions.contains_key(r))
            .collect();
        if self.revisions_unavailable.is_none() && !unknown.is_empty() {
            if self.revisions.len() + unknown.len() > MAX_REMEMBERED_REVISIONS {
                self.revisions.clear();
            }
            let unknown: Vec<String> = unknown.into_iter().collect();
            for batch in unknown.chunks(DESCRIBE_SERVICE_DEPLOYMENTS_BATCH) {
                match ecs.revision_task_definitions(batch).await {
                    Ok(read) => self.revisions.extend(read),
                    Err(e) if unavailable(&e) => {
                        warn!(error = %e, "ECS's service revisions cannot be read, so a service deployment's record is taken for a rollout's by its ARN alone, not checked against the task definition it deploys; allow ecs:DescribeServiceRevisions to check it");
                        self.revisions_unavailable = Some(e.to_string());
                        break;
                    }
                    Err(e) => self.failed(&e.to_string()),
                }
            }
        }
        for record in found.values_mut() {
            record.target_task_definition = record
                .target_revision
                .as_ref()
                .and_then(|r| self.revisions.get(r))
                .cloned();
        }
    }
}

/// Whether `error` says the API cannot be used here at all.
fn unavailable(error: &AwsError) -> bool {
    error
        .code
        .as_deref()
        .is_some_and(|c| UNAVAILABLE_CODES.contains(&c))
}
