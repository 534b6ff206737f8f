//! Asking the guard about a message: first its target, before any call to ECS; then, once what it replaces
//! is read from ECS (the service's current revision, or for register-only the family's newest), the whole
//! message. A refusal rejects the message, naming its rule.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::aws::ecs::Ecs;
use crate::decide::guard::{
    Attributes, Case, judge, judge_attributes, judge_before_schedule, judge_target,
};
use crate::decide::members::Members;
use crate::decide::message::{Asked, DeploymentRequest};
use crate::decide::outcome::Outcome;
use crate::decide::policy::{Identity, Policy};
use crate::decide::refusal::Refusal;
use crate::decide::task_definition::{described_members, health_checked};
use crate::runtime::retry::Retry;

/// The policy and the worker's identity, shared by every deployment; cheap to clone.
#[derive(Debug, Clone)]
pub struct Guard {
    /// What messages may do.
    pub policy: Arc<Policy>,
    /// Who the worker is, which no message may target.
    pub identity: Arc<Identity>,
}

/// Why a message goes no further: its outcome, and the policy's rule when the policy refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAdmitted {
    /// Rejected (by the policy, or ECS refusing a read), or given back for later.
    pub outcome: Outcome,
    /// The rule, for `ecs_deployment_policy_refusals_total`.
    pub rule: Option<&'static str>,
}

impl From<Outcome> for NotAdmitted {
    fn from(outcome: Outcome) -> Self {
        Self {
            outcome,
            rule: None,
        }
    }
}

impl From<Refusal> for NotAdmitted {
    fn from(refusal: Refusal) -> Self {
        Self {
            rule: Some(refusal.rule),
            outcome: Outcome::Rejected {
                reason: refusal.to_string(),
            },
        }
    }
}

impl Guard {
    /// The target, the cluster and the allowlists, which need no read of ECS.
    pub fn target(&self, request: &DeploymentRequest, cluster: &str) -> Result<(), NotAdmitted> {
        judge_target(&self.policy, &self.identity, request, cluster).map_err(NotAdmitted::from)
    }

    /// What needs no read of AWS, asked before a message joins its service's schedule.
    pub fn before_schedule(&self, asked: Asked<'_>, cluster: &str) -> Result<(), NotAdmitted> {
        judge_before_schedule(&self.policy, &self.identity, asked, cluster)
            .map_err(NotAdmitted::from)
    }

    /// The same rules for a message whose family is not known until ECS is read (an `image` message).
    pub fn attributes(
        &self,
        attributes: &Attributes<'_>,
        cluster: &str,
    ) -> Result<(), NotAdmitted> {
        judge_attributes(&self.policy, &self.identity, attributes, cluster)
            .map_err(NotAdmitted::from)
    }

    /// The whole message, against `current`, the revision the service runs now (read here), if any; gives
    /// that revision's health-checked containers, by which a rollback to it is judged.
    pub async fn service(
        &self,
        ecs: &Ecs,
        retry: Retry,
        request: &DeploymentRequest,
        current: Option<&str>,
    ) -> Result<BTreeSet<String>, NotAdmitted> {
        let json = match current {
            None => None,
            Some(revision) => Some(retry.call(|| ecs.task_definition_json(revision)).await?),
        };
        self.against(ecs, request, json.as_deref())
    }

    /// The whole message, against the revision the service runs as already read (`current`, as
    /// DescribeTaskDefinition answered), if any; gives that revision's health-checked containers.
    pub fn against(
        &self,
        ecs: &Ecs,
        request: &DeploymentRequest,
        current: Option<&str>,
    ) -> Result<BTreeSet<String>, NotAdmitted> {
        let baseline = current.map(readable).transpose()?;
        self.judge(ecs, request, baseline.as_ref())?;
        Ok(baseline.as_ref().map(health_checked).unwrap_or_default())
    }

    /// A register-only message, against its family's newest ACTIVE revision (read here), if any.
    pub async fn registration(
        &self,
        ecs: &Ecs,
        retry: Retry,
        request: &DeploymentRequest,
    ) -> Result<(), NotAdmitted> {
        let family = request.task_definition.family();
        let json = retry.call(|| ecs.latest_revision_json(family)).await?;
        let baseline = json.as_deref().map(readable).transpose()?;
        self.judge(ecs, request, baseline.as_ref())
    }

    fn judge(
        &self,
        ecs: &Ecs,
        request: &DeploymentRequest,
        baseline: Option<&Members>,
    ) -> Result<(), NotAdmitted> {
        let case = Case {
            request,
            cluster: ecs.cluster(),
            baseline,
        };
        judge(&self.policy, &self.identity, &case).map_err(NotAdmitted::from)
    }
}

/// A described revision's members; one that cannot be read cannot be compared, so the message is refused.
fn readable(json: &str) -> Result<Members, NotAdmitted> {
    described_members(json).map_err(|e| {
        NotAdmitted::from(Outcome::Rejected {
            reason: format!(
                "policy: the revision the message replaces cannot be read to compare it with ({e})"
            ),
        })
    })
}
