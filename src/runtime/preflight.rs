//! The pre-flight checks carried out: the references of a task definition looked up a few at a time and at
//! a bounded pace, across every deployment of the worker, within a time bound; a missing one rejects the
//! message, and a check that cannot run is warned of once per kind.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::warn;

use crate::aws::lookups::Lookups;
use crate::decide::message::DeploymentRequest;
use crate::decide::outcome::Outcome;
use crate::decide::preflight::{Finding, Kind, Reference, Target, references, unchecked, verdict};
use crate::runtime::admission::NotAdmitted;

/// How long all the checks of one task definition may take together; what has not answered by then is
/// skipped as unchecked.
pub const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many lookups the worker has in flight at once, across every deployment: a task definition naming
/// hundreds of secrets must not fire hundreds of calls at IAM, SSM or Secrets Manager at once.
pub const LOOKUPS_AT_ONCE: usize = 4;
/// How many lookups of one kind (one API: ECR, IAM, SSM, Secrets Manager, CloudWatch Logs) the worker
/// starts per second at most, across every deployment: under the lowest of those APIs' own rate limits
/// (CloudWatch Logs' DescribeLogGroups allows 10 a second).
pub const LOOKUPS_PER_SECOND: u32 = 10;

/// Runs the pre-flight checks.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// The clients the checks ask.
    lookups: Lookups,
    /// The worker's account: roles of other accounts cannot be read, so they are not asked about.
    account: Option<String>,
    /// The kinds of check already warned of as unable to run, so the log says it once.
    warned: Arc<Mutex<BTreeSet<Kind>>>,
    /// The lookups in flight, at most [`LOOKUPS_AT_ONCE`].
    slots: Arc<Semaphore>,
    /// When the next lookup of each kind may start: one every 1/[`LOOKUPS_PER_SECOND`] of a second.
    next_start: Arc<tokio::sync::Mutex<BTreeMap<Kind, Instant>>>,
}

impl Verifier {
    /// Checks through `lookups`, for a worker in `account`.
    pub fn new(lookups: Lookups, account: Option<String>) -> Self {
        Self {
            lookups,
            account,
            warned: Arc::default(),
            slots: Arc::new(Semaphore::new(LOOKUPS_AT_ONCE)),
            next_start: Arc::default(),
        }
    }

    /// What each reference of `request` is found to be, in member order; a lookup that did not answer
    /// within [`PREFLIGHT_TIMEOUT`] is unchecked.
    pub async fn findings(&self, request: &Map<String, Value>) -> Vec<(Reference, Finding)> {
        let found = references(request, self.account.as_deref());
        let targets: BTreeSet<Target> = found.iter().map(|r| r.target.clone()).collect();
        let mut lookups = JoinSet::new();
        for target in targets {
            let clients = self.lookups.clone();
            let (slots, next_start) = (self.slots.clone(), self.next_start.clone());
            lookups.spawn(async move {
                let kind = target.kind();
                // A closed semaphore never happens; a lookup without a slot would only go faster.
                let _slot = match kind.asks_aws() {
                    true => slots.acquire_owned().await.ok(),
                    false => None,
                };
                if kind.asks_aws() {
                    let start = {
                        let mut next = next_start.lock().await;
                        let now = Instant::now();
                        let next = next.entry(kind).or_insert(now);
                        let start = (*next).max(now);
                        *next = start + Duration::from_secs(1) / LOOKUPS_PER_SECOND;
                        start
                    };
                    tokio::time::sleep_until(start).await;
                }
                let finding = clients.find(&target).await;
                (target, finding)
            });
        }
        let mut answers = BTreeMap::new();
        let gather = async {
            while let Some(answer) = lookups.join_next().await {
                if let Ok((target, finding)) = answer {
                    answers.insert(target, finding);
                }
            }
        };
        // Lookups still running at the deadline are dropped with the set, which aborts them.
        let _ = tokio::time::timeout(PREFLIGHT_TIMEOUT, gather).await;
        found
            .into_iter()
            .map(|r| {
                let finding = answers.get(&r.target).cloned().unwrap_or_else(|| {
                    Finding::Unchecked(format!("no answer within {}s", PREFLIGHT_TIMEOUT.as_secs()))
                });
                (r, finding)
            })
            .collect()
    }

    /// Checks `request`: the rejection reason when something it refers to is missing. Checks that cannot
    /// run are skipped, each kind warned of once.
    pub async fn check(&self, request: &Map<String, Value>) -> Result<(), String> {
        let findings = self.findings(request).await;
        for (kind, why) in unchecked(&findings) {
            let first = self
                .warned
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(kind);
            if first {
                warn!(check = kind.call(), reason = %why, "a pre-flight check cannot run: it is skipped, and not warned of again until the worker restarts");
            }
        }
        match verdict(&findings) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// Checks the task definition `request` would register: rejected when something it refers to is
    /// missing.
    pub async fn admit(&self, request: &DeploymentRequest) -> Result<(), NotAdmitted> {
        self.check(request.task_definition.request())
            .await
            .map_err(|reason| Outcome::Rejected { reason }.into())
    }
}
