//! The guard: whether the policy admits a parsed message, judged against the revision its service runs now,
//! and if not, the rule that refuses it. Called after parsing and before anything is registered.
//!
//! A message may change what a service runs, never what the service may do. What no setting allows comes
//! first: the worker itself as a target, and services of another region, account or cluster. Then the
//! allowlists for services, clusters, commit URLs and reply queues, then the family, then everything the
//! task definition adds over the revision it replaces ([`crate::decide::escalation`]).

use serde_json::{Map, Value};

use crate::decide::escalation;
use crate::decide::members::Members;
use crate::decide::message::{Asked, DeploymentRequest, Target};
use crate::decide::names::{
    cluster_name, queue_endpoint_and_account, region_of_queue_url, service_arn, service_name,
};
use crate::decide::policy::{Identity, Policy, Privilege, Rules};
use crate::decide::refusal::{NOT_ALLOWED, Refusal, setting};

/// One message to judge.
#[derive(Debug, Clone, Copy)]
pub struct Case<'a> {
    /// The parsed message.
    pub request: &'a DeploymentRequest,
    /// The cluster it targets: its `cluster` attribute, or `ECS_CLUSTER`.
    pub cluster: &'a str,
    /// The revision it replaces, as RegisterTaskDefinition members: the one the service runs now, or for
    /// register-only the family's newest ACTIVE revision; `None` when there is none.
    pub baseline: Option<&'a Members>,
}

/// Judges `case` against `policy`; `identity` is the worker's own, which no message may target.
pub fn judge(policy: &Policy, identity: &Identity, case: &Case<'_>) -> Result<(), Refusal> {
    judge_target(policy, identity, case.request, case.cluster)?;
    let request = case.request;
    let family = request.task_definition.family();
    let (name, subject) = subject(&request.target, family);
    let rules = policy.rules_for(name);
    let refuse = |rule: &'static str, path: &str, what: String, allow: String| Refusal {
        rule,
        path: path.to_owned(),
        what,
        subject: subject.clone(),
        allow,
    };

    // The family and the task definition, compared with the revision they replace; a new family's first
    // revision with an empty one, so that everything it may do needs a setting.
    let empty = Members::from_iter([("family".to_owned(), Value::from(family))]);
    let baseline = match (&request.target, case.baseline) {
        (Target::Service(_), None) => {
            return Err(refuse(
                "no_current_revision",
                "message attribute 'service'",
                "the service runs no task definition to compare the message with".into(),
                NOT_ALLOWED.into(),
            ));
        }
        (Target::RegisterOnly, None) if !policy.new_families.matches(family) => {
            return Err(refuse(
                "new_family",
                "family",
                "the family has no ACTIVE revision to compare the message with, and new families are not allowed".into(),
                "ALLOW_NEW_FAMILIES".into(),
            ));
        }
        (Target::RegisterOnly, None) => &empty,
        (_, Some(baseline)) => baseline,
    };
    if let Target::Service(_) = &request.target {
        family_change(rules, family, baseline).map_err(|what| {
            refuse(
                Privilege::FamilyChange.label(),
                "family",
                what,
                setting(rules, "ALLOWED_PRIVILEGES"),
            )
        })?;
    }
    escalation::check(
        request.task_definition.request(),
        baseline,
        rules,
        identity,
        &subject,
    )
}

/// The part of [`judge`] that needs no revision to compare with: the target, the cluster, and the
/// allowlists of services, commit URLs and reply queues. The worker asks it before any call to ECS, so a
/// message for a cluster or service it may not touch causes none.
pub fn judge_target(
    policy: &Policy,
    identity: &Identity,
    request: &DeploymentRequest,
    cluster: &str,
) -> Result<(), Refusal> {
    let attributes = Attributes {
        target: &request.target,
        commit_url: request.commit_url.as_deref(),
        reply_to: request.reply_to.as_deref(),
        family: Some(request.task_definition.family()),
    };
    judge_attributes(policy, identity, &attributes, cluster)
}

/// What [`judge`] decides of a message without reading AWS: its target and attributes, and for a task
/// definition the rules that need no revision to compare with. The worker asks it before a message joins
/// its service's schedule, so that a message refused by it never waits for, or displaces, another.
pub fn judge_before_schedule(
    policy: &Policy,
    identity: &Identity,
    asked: Asked<'_>,
    cluster: &str,
) -> Result<(), Refusal> {
    match asked {
        Asked::TaskDefinition(request) => {
            judge_target(policy, identity, request, cluster)?;
            let family = request.task_definition.family();
            let (name, subject) = subject(&request.target, family);
            escalation::check_alone(
                request.task_definition.request(),
                policy.rules_for(name),
                identity,
                &subject,
            )
        }
        Asked::ServiceChange(change) => {
            let target = Target::Service(change.service.clone());
            let attributes = Attributes {
                target: &target,
                commit_url: change.commit_url.as_deref(),
                reply_to: change.reply_to.as_deref(),
                family: None,
            };
            judge_attributes(policy, identity, &attributes, cluster)
        }
    }
}

/// What [`judge_target`] judges of a message: its attributes, and its family when the body names one (an
/// `image` message's family is the service's, known only once its task definition is read).
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    /// The service, or register-only.
    pub target: &'a Target,
    /// The `commit_url` attribute.
    pub commit_url: Option<&'a str>,
    /// The `reply_to` attribute.
    pub reply_to: Option<&'a str>,
    /// The task definition's family, when known.
    pub family: Option<&'a str>,
}

/// [`judge_target`] of a message's attributes; the family's own rule is left to the full [`judge`] when
/// the family is not known yet.
pub fn judge_attributes(
    policy: &Policy,
    identity: &Identity,
    request: &Attributes<'_>,
    cluster: &str,
) -> Result<(), Refusal> {
    let family = request.family.unwrap_or_default();
    let (name, subject) = subject(request.target, family);
    let refuse = |rule: &'static str, path: &str, what: String, allow: String| Refusal {
        rule,
        path: path.to_owned(),
        what,
        subject: subject.clone(),
        allow,
    };

    // The target: the worker itself, and other regions, accounts and clusters, can never be allowed.
    if let Target::Service(service) = &request.target {
        target(identity, cluster, service).map_err(|(rule, what)| {
            refuse(
                rule,
                "message attribute 'service'",
                what,
                NOT_ALLOWED.into(),
            )
        })?;
    }
    if request.family.is_some() && identity.family.as_deref() == Some(family) {
        return Err(refuse(
            "own_family",
            "family",
            format!("{family} is the worker's own task definition family"),
            NOT_ALLOWED.into(),
        ));
    }

    // The allowlists.
    if !policy.clusters.matches(cluster) {
        return Err(refuse(
            "cluster",
            "message attribute 'cluster'",
            format!("the cluster {} is not allowed", cluster),
            "ALLOWED_CLUSTERS".into(),
        ));
    }
    if *request.target == Target::RegisterOnly && !policy.register_only.matches(family) {
        return Err(refuse(
            "register_only",
            "message attribute 'service'",
            "registering without deploying (service = false) is not allowed into this family"
                .into(),
            "ALLOW_REGISTER_ONLY".into(),
        ));
    }
    let what = match request.target {
        Target::Service(_) => "deployments",
        Target::RegisterOnly => "registrations",
    };
    if policy.denied_services.matches(name) {
        return Err(refuse(
            "service_denied",
            "message attribute 'service'",
            format!("{what} are denied"),
            "DENIED_SERVICES".into(),
        ));
    }
    if !policy.services.matches(name) {
        return Err(refuse(
            "service_not_allowed",
            "message attribute 'service'",
            format!("{what} are not allowed"),
            "ALLOWED_SERVICES".into(),
        ));
    }
    if let Some(url) = request.commit_url
        && !policy.commit_urls.is_empty()
        && !policy
            .commit_urls
            .iter()
            .any(|p| url.starts_with(p.as_str()))
    {
        return Err(refuse(
            "commit_url",
            "message attribute 'commit_url'",
            format!("{url} does not start with an allowed prefix"),
            "ALLOWED_COMMIT_URLS".into(),
        ));
    }
    if let Some(queue) = request.reply_to
        && own_queue(identity, queue)
    {
        return Err(refuse(
            "own_queue",
            "message attribute 'reply_to'",
            format!("{queue} is the worker's own deployment queue or its dead-letter queue"),
            NOT_ALLOWED.into(),
        ));
    }
    if let Some(queue) = request.reply_to
        && !reply_allowed(policy, identity, queue)
    {
        return Err(refuse(
            "reply_to",
            "message attribute 'reply_to'",
            format!("{queue} is not a queue in the worker's own region and account"),
            "ALLOWED_REPLY_QUEUES".into(),
        ));
    }
    Ok(())
}

/// The name the policy knows a message by (its service, or for register-only its family), and how a
/// refusal says it.
fn subject<'a>(target: &'a Target, family: &'a str) -> (&'a str, String) {
    match target {
        Target::Service(service) => (
            service_name(service),
            format!("service {}", service_name(service)),
        ),
        Target::RegisterOnly => (family, format!("family {family}")),
    }
}

/// Where the worker sends a message's notifications: its `reply_to` queue when the policy allows it.
pub fn reply_queue<'a>(
    policy: &Policy,
    identity: &Identity,
    reply_to: Option<&'a str>,
) -> Option<&'a str> {
    reply_to
        .map(str::trim)
        .filter(|q| !q.is_empty() && reply_allowed(policy, identity, q))
}

/// A service to deploy: not the worker's own, and in the worker's region and account and the message's
/// cluster when given as an ARN. The error is the rule and what is wrong.
fn target(identity: &Identity, cluster: &str, service: &str) -> Result<(), (&'static str, String)> {
    if let Some(arn) = service_arn(service) {
        let mismatch = |what: &str, theirs: &str, ours: Option<&str>| match ours {
            Some(ours) if ours == theirs => Ok(()),
            Some(ours) => Err((
                "foreign_service",
                format!("the service ARN is in {what} {theirs}, not the worker's {ours}"),
            )),
            None => Err((
                "foreign_service",
                format!(
                    "the worker's {what} is unknown, so a service ARN cannot be checked; send the name"
                ),
            )),
        };
        mismatch("region", arn.region, identity.region.as_deref())?;
        mismatch("account", arn.account, identity.account.as_deref())?;
        if let Some(theirs) = arn.cluster
            && theirs != cluster
        {
            return Err((
                "foreign_service",
                format!("the service ARN is in cluster {theirs}, not {cluster}"),
            ));
        }
    }
    if let Some((own_cluster, own_service)) = &identity.service
        && cluster_name(own_cluster) == cluster
        && own_service == service_name(service)
    {
        return Err((
            "own_service",
            format!("{own_service} is the worker's own service"),
        ));
    }
    Ok(())
}

/// A family other than the service's, unless the rules allow it.
fn family_change(rules: &Rules, family: &str, current: &Map<String, Value>) -> Result<(), String> {
    let current = current.get("family").and_then(Value::as_str).unwrap_or("");
    if current == family || rules.privileges.contains(&Privilege::FamilyChange) {
        return Ok(());
    }
    Err(format!(
        "the family {family} is not the service's ({current})"
    ))
}

/// Whether `queue` is the deployment queue or its dead-letter queue, by region, account and name where
/// the URLs say them (one queue has several URLs), else as written.
fn own_queue(identity: &Identity, queue: &str) -> bool {
    let key = |url: &str| {
        let url = url.trim().trim_end_matches('/');
        let name = url.rsplit('/').next().unwrap_or(url).to_owned();
        match (region_of_queue_url(url), queue_endpoint_and_account(url)) {
            (Some(region), Some((_, account))) => format!("{region}/{account}/{name}"),
            _ => url.to_ascii_lowercase(),
        }
    };
    let theirs = key(queue);
    [&identity.queue_url, &identity.dead_letter_queue_url]
        .into_iter()
        .flatten()
        .any(|ours| key(ours) == theirs)
}

/// Whether notifications may go to `queue`: a queue of the same SQS endpoint (so region) and account as
/// the deployment queue, or one `ALLOWED_REPLY_QUEUES` allows; never the worker's own queues.
fn reply_allowed(policy: &Policy, identity: &Identity, queue: &str) -> bool {
    if own_queue(identity, queue) {
        return false;
    }
    if policy.reply_queues.matches(queue) {
        return true;
    }
    let ours = identity
        .queue_url
        .as_deref()
        .and_then(queue_endpoint_and_account);
    match (
        ours,
        queue_endpoint_and_account(queue),
        identity.account.as_deref(),
    ) {
        (Some((endpoint, _)), Some((their_endpoint, their_account)), Some(account)) => {
            // The same endpoint, or two of AWS's names for one region's (sqs.R.amazonaws.com, R.queue...).
            let same_region = match (
                region_of_queue_url(endpoint),
                region_of_queue_url(their_endpoint),
            ) {
                (Some(ours), Some(theirs)) => ours == theirs,
                _ => endpoint == their_endpoint,
            };
            same_region && account == their_account
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
