//! An SQS message's attributes read as a deployment request, or rejected with the reason why.
//!
//! The contract is the old script's: the body is the task definition, the `service` attribute names the
//! service (the literal `false` means register only), and the optional `commit_url` attribute travels with
//! the deployment into every log line and report. The optional `cluster` and `reply_to` attributes pick a
//! cluster other than `ECS_CLUSTER` and a queue for the outcome; the policy decides whether they may. The
//! optional `action` attribute says what the message does; each action reads the body and attributes its
//! own way (`crate::runtime::actions`), with the readers here.

use std::collections::BTreeMap;

use crate::decide::names::service_arn;
use crate::decide::one_off::OneOff;
use crate::decide::task_definition::TaskDefinition;

mod summary;

pub use summary::BodySummary;

/// The message attribute that names the service.
pub const SERVICE_ATTRIBUTE: &str = "service";
/// The optional message attribute with a link to the change being deployed.
pub const COMMIT_URL_ATTRIBUTE: &str = "commit_url";

/// The optional message attribute naming an SQS queue URL the outcome is sent to, as JSON.
pub const REPLY_TO_ATTRIBUTE: &str = "reply_to";
/// The optional message attribute naming the cluster of the service, when not `ECS_CLUSTER`.
pub const CLUSTER_ATTRIBUTE: &str = "cluster";
/// The optional message attribute saying what the message does with the service (default `deploy`).
pub const ACTION_ATTRIBUTE: &str = "action";
/// The optional message attribute of a `deploy` message naming a one-off task to run on the new revision
/// before the service is updated: `{"container": "app", "command": ["bin/migrate"]}`.
pub const BEFORE_ATTRIBUTE: &str = "before";
/// The optional message attribute naming the revision a `rollback` goes back to (`web:12` or an ARN).
pub const REVISION_ATTRIBUTE: &str = "revision";
/// The longest `commit_url` taken.
const MAX_COMMIT_URL: usize = 2048;
/// The longest service or cluster name ECS takes.
const MAX_NAME: usize = 255;
/// The longest service or task definition ARN taken: a partition, a region, an account and two names
/// of at most [`MAX_NAME`] each fit well within it.
const MAX_ARN: usize = 640;
/// The longest `reply_to` taken: an SQS queue URL (a queue name has at most 80 characters).
const MAX_QUEUE_URL: usize = 512;

/// What a message asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRequest {
    /// Where the task definition goes.
    pub target: Target,
    /// The cluster the message picks (its `cluster` attribute); `None` for `ECS_CLUSTER`.
    pub cluster: Option<String>,
    /// The producer's link to the change, for logs and reports.
    pub commit_url: Option<String>,
    /// The queue the producer asks the outcome to be sent to (its `reply_to` attribute).
    pub reply_to: Option<String>,
    /// The task definition to register.
    pub task_definition: TaskDefinition,
    /// The one-off task to run on the new revision before the service is updated (its `before`
    /// attribute); its failure leaves the service as it was.
    pub before: Option<OneOff>,
}

/// Where a task definition goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Register it and roll this service (name or ARN) out to it.
    Service(String),
    /// Register it only (`service` = `false`).
    RegisterOnly,
}

/// A message about a service that is resolved against what the service runs into a [`DeploymentRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceChange {
    /// The service (name or ARN).
    pub service: String,
    /// The cluster the message picks; `None` for `ECS_CLUSTER`.
    pub cluster: Option<String>,
    /// The producer's link to the change.
    pub commit_url: Option<String>,
    /// The queue the outcome is sent to.
    pub reply_to: Option<String>,
}

impl ServiceChange {
    /// The deployment of `task_definition`, the service's own with the images set.
    pub fn deploying(&self, task_definition: TaskDefinition) -> DeploymentRequest {
        DeploymentRequest {
            target: Target::Service(self.service.clone()),
            cluster: self.cluster.clone(),
            commit_url: self.commit_url.clone(),
            reply_to: self.reply_to.clone(),
            task_definition,
            before: None,
        }
    }
}

impl ServiceChange {
    /// Reads the attributes of a message whose action (`action`, as spelled) changes what a service runs:
    /// the `service` attribute must name one.
    ///
    /// The error is the reason the message is rejected, naming the attribute at fault.
    pub fn read(action: &str, attributes: &BTreeMap<String, String>) -> Result<Self, String> {
        let shared = SharedAttributes::read(attributes)?;
        let Target::Service(service) = shared.target else {
            return Err(format!(
                "message attribute '{SERVICE_ATTRIBUTE}' is false, but action '{action}' changes what a service runs: name the service"
            ));
        };
        Ok(Self {
            service,
            cluster: shared.cluster,
            commit_url: shared.commit_url,
            reply_to: shared.reply_to,
        })
    }
}

/// What a message asks for, as the guard judges it before any read of AWS: a task definition of its own,
/// or a change to what a service runs that is resolved against the service later.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Asked<'a> {
    /// The body is the task definition (or one made from it).
    TaskDefinition(&'a DeploymentRequest),
    /// A service's running revision is changed or deployed again.
    ServiceChange(&'a ServiceChange),
}

impl<'a> Asked<'a> {
    /// The target the message names.
    pub fn target(self) -> Target {
        match self {
            Self::TaskDefinition(request) => request.target.clone(),
            Self::ServiceChange(change) => Target::Service(change.service.clone()),
        }
    }

    /// The cluster the message picks; `None` for `ECS_CLUSTER`.
    pub fn cluster(self) -> Option<&'a str> {
        match self {
            Self::TaskDefinition(request) => request.cluster.as_deref(),
            Self::ServiceChange(change) => change.cluster.as_deref(),
        }
    }
}

/// The `action` attribute, trimmed; `None` when it is missing or empty (the default action).
pub fn action_attribute(attributes: &BTreeMap<String, String>) -> Option<&str> {
    attributes
        .get(ACTION_ATTRIBUTE)
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
}

/// The rejection of an `action` attribute that names none of `known`.
pub fn unknown_action(action: &str, known: &[&str]) -> String {
    format!(
        "message attribute '{ACTION_ATTRIBUTE}' ({}) is not one of {}",
        shown(action),
        known.join(", ")
    )
}

/// The `revision` attribute, when given: `family:revision` or a task definition ARN.
///
/// The error is the reason the message is rejected, naming the attribute.
pub fn revision_attribute(attributes: &BTreeMap<String, String>) -> Result<Option<String>, String> {
    let revision = attributes
        .get(REVISION_ATTRIBUTE)
        .map(|r| r.trim())
        .filter(|r| !r.is_empty());
    match revision {
        Some(revision) if !valid_revision(revision) => Err(format!(
            "message attribute '{REVISION_ATTRIBUTE}' ({}) is not a task definition revision: give family:revision (web:12) or its ARN",
            shown(revision)
        )),
        revision => Ok(revision.map(str::to_owned)),
    }
}

/// Reads a `deploy` message: its body and its String attributes (name -> value).
///
/// The error is the reason the message is rejected, naming the attribute or member at fault.
pub fn parse(
    body: &str,
    attributes: &BTreeMap<String, String>,
) -> Result<DeploymentRequest, String> {
    let shared = SharedAttributes::read(attributes)?;
    let task_definition = TaskDefinition::from_body(body)?;
    let before = attributes
        .get(BEFORE_ATTRIBUTE)
        .filter(|b| !b.trim().is_empty())
        .map(|b| {
            OneOff::read(b).map_err(|e| format!("message attribute '{BEFORE_ATTRIBUTE}': {e}"))
        })
        .transpose()?;
    if before.is_some() && shared.target == Target::RegisterOnly {
        return Err(format!(
            "message attribute '{BEFORE_ATTRIBUTE}' runs a task before a service is updated, but '{SERVICE_ATTRIBUTE}' is false: name the service"
        ));
    }
    Ok(DeploymentRequest {
        target: shared.target,
        cluster: shared.cluster,
        commit_url: shared.commit_url,
        reply_to: shared.reply_to,
        task_definition,
        before,
    })
}

/// The attributes every action reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedAttributes {
    /// The `service` attribute: a service, or register-only (`false`).
    pub target: Target,
    /// The `cluster` attribute; `None` for `ECS_CLUSTER`.
    pub cluster: Option<String>,
    /// The `commit_url` attribute.
    pub commit_url: Option<String>,
    /// The `reply_to` attribute.
    pub reply_to: Option<String>,
}

impl SharedAttributes {
    /// Reads them from a message's String attributes (name -> value); the error names the one at fault.
    pub fn read(attributes: &BTreeMap<String, String>) -> Result<Self, String> {
        read_shared(attributes)
    }
}

fn read_shared(attributes: &BTreeMap<String, String>) -> Result<SharedAttributes, String> {
    let service = attributes
        .get(SERVICE_ATTRIBUTE)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            format!(
                "message attribute '{SERVICE_ATTRIBUTE}' is missing or empty; set it to the ECS service name, or to false to register the task definition only"
            )
        })?;
    let target = if service == "false" {
        Target::RegisterOnly
    } else if valid_service_arn(service) || valid_name(service) {
        Target::Service(service.to_owned())
    } else {
        return Err(format!(
            "message attribute '{SERVICE_ATTRIBUTE}' ({}) is not a service name (1 to {MAX_NAME} letters, \
             digits, hyphens and underscores) or a service ARN of at most {MAX_ARN} characters with such \
             names",
            shown(service)
        ));
    };
    let attribute = |name: &str| {
        attributes
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let cluster = attribute(CLUSTER_ATTRIBUTE);
    if let Some(cluster) = &cluster
        && !valid_name(cluster)
    {
        return Err(format!(
            "message attribute '{CLUSTER_ATTRIBUTE}' ({}) is not a cluster name (1 to {MAX_NAME} letters, \
             digits, hyphens and underscores)",
            shown(cluster)
        ));
    }
    let commit_url = attribute(COMMIT_URL_ATTRIBUTE);
    if let Some(url) = &commit_url
        && !valid_url(url, MAX_COMMIT_URL)
    {
        return Err(format!(
            "message attribute '{COMMIT_URL_ATTRIBUTE}' ({}) is not an http(s) URL of at most \
             {MAX_COMMIT_URL} characters",
            shown(url)
        ));
    }
    let reply_to = attribute(REPLY_TO_ATTRIBUTE);
    if let Some(queue) = &reply_to
        && !valid_url(queue, MAX_QUEUE_URL)
    {
        return Err(format!(
            "message attribute '{REPLY_TO_ATTRIBUTE}' ({}) is not an SQS queue URL of at most \
             {MAX_QUEUE_URL} characters",
            shown(queue)
        ));
    }
    Ok(SharedAttributes {
        target,
        cluster,
        commit_url,
        reply_to,
    })
}

/// The `commit_url` attribute when it is one the worker takes (an http(s) URL of at most 2048 printable
/// characters): what reports and notifications show of it, even for a message rejected for another reason.
pub fn commit_url_of(attributes: &BTreeMap<String, String>) -> Option<String> {
    attributes
        .get(COMMIT_URL_ATTRIBUTE)
        .map(|s| s.trim())
        .filter(|url| valid_url(url, MAX_COMMIT_URL))
        .map(str::to_owned)
}

/// The `service` attribute as reports, logs and notifications show it: as given when it names a service
/// (or is `false`), otherwise quoted with its control characters escaped and cut short, so that no text of
/// a rejected message's choosing reaches them.
pub fn service_of(attributes: &BTreeMap<String, String>) -> String {
    let service = attributes
        .get(SERVICE_ATTRIBUTE)
        .map(|s| s.trim())
        .unwrap_or_default();
    if service.is_empty() || service == "false" || valid_name(service) || valid_service_arn(service)
    {
        service.to_owned()
    } else {
        shown(service)
    }
}

/// The `reply_to` attribute when it is one the worker takes (an http(s) URL of at most 512 printable
/// characters); whether the policy lets replies go there is the guard's to say.
pub fn reply_to_of(attributes: &BTreeMap<String, String>) -> Option<&str> {
    attributes
        .get(REPLY_TO_ATTRIBUTE)
        .map(|s| s.trim())
        .filter(|url| valid_url(url, MAX_QUEUE_URL))
}

/// Whether `url` is an http(s) URL of at most `max` printable ASCII characters.
fn valid_url(url: &str, max: usize) -> bool {
    url.len() <= max
        && (url.starts_with("https://") || url.starts_with("http://"))
        && url.chars().all(|c| c.is_ascii_graphic())
}

/// Whether `text` is a service ARN whose names ECS would take, of at most [`MAX_ARN`] characters.
fn valid_service_arn(text: &str) -> bool {
    text.len() <= MAX_ARN
        && text.chars().all(|c| c.is_ascii_graphic())
        && service_arn(text).is_some_and(|arn| {
            valid_name(arn.name)
                && arn.cluster.is_none_or(valid_name)
                && (1..=12).contains(&arn.account.len())
                && arn.account.chars().all(|c| c.is_ascii_digit())
                && !arn.region.is_empty()
                && arn
                    .region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// Whether `revision` names a task definition revision: `family:revision` or a task definition ARN.
fn valid_revision(revision: &str) -> bool {
    if revision.len() > MAX_ARN || !revision.chars().all(|c| c.is_ascii_graphic()) {
        return false;
    }
    let short = match revision.split_once(":task-definition/") {
        Some((prefix, short)) => {
            if !prefix.starts_with("arn:") {
                return false;
            }
            short
        }
        None => revision,
    };
    short.split_once(':').is_some_and(|(family, number)| {
        valid_name(family) && !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())
    })
}

/// Whether `name` is a valid ECS service or cluster name.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// An attribute's value as a rejection quotes it: debug-quoted, and cut short.
fn shown(value: &str) -> String {
    const SHOWN: usize = 80;
    match value.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{:?}...", &value[..at]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str =
        r#"{"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx"}]}"#;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_old_contract_is_read() {
        let r = parse(
            BODY,
            &attrs(&[("service", "web"), ("commit_url", "https://x/commit/1")]),
        )
        .expect("valid");
        assert_eq!(r.target, Target::Service("web".into()));
        assert_eq!(r.commit_url.as_deref(), Some("https://x/commit/1"));
        assert_eq!(r.task_definition.family(), "web");
        assert_eq!((r.cluster, r.reply_to), (None, None));

        let r = parse(
            BODY,
            &attrs(&[
                ("service", "arn:aws:ecs:eu-west-1:1:service/prod/web"),
                ("cluster", "prod"),
                (
                    "reply_to",
                    " https://sqs.eu-west-1.amazonaws.com/1/replies ",
                ),
            ]),
        )
        .expect("valid");
        assert_eq!(r.cluster.as_deref(), Some("prod"));
        assert_eq!(
            r.reply_to.as_deref(),
            Some("https://sqs.eu-west-1.amazonaws.com/1/replies")
        );

        let r = parse(BODY, &attrs(&[("service", "false")])).expect("valid");
        assert_eq!(r.target, Target::RegisterOnly);
        assert_eq!(r.commit_url, None);
    }

    #[test]
    fn rejections_name_what_is_wrong() {
        for (body, attributes, named) in [
            (BODY, attrs(&[]), "'service'"),
            (BODY, attrs(&[("service", " ")]), "'service'"),
            (BODY, attrs(&[("service", "my web")]), "'service'"),
            (BODY, attrs(&[("service", "web.prod")]), "'service'"),
            (BODY, attrs(&[("service", &"w".repeat(256))]), "'service'"),
            (
                BODY,
                attrs(&[("service", "arn:aws:ecs:eu-west-1:1:task/prod/abc")]),
                "'service'",
            ),
            (
                BODY,
                attrs(&[("service", "web"), ("cluster", "prod/x")]),
                "'cluster'",
            ),
            (
                BODY,
                attrs(&[("service", "web"), ("commit_url", "javascript:alert(1)")]),
                "'commit_url'",
            ),
            (
                BODY,
                attrs(&[
                    ("service", "web"),
                    ("commit_url", &format!("https://x/{}", "c".repeat(2048))),
                ]),
                "'commit_url'",
            ),
            ("{", attrs(&[("service", "web")]), "not JSON"),
            (
                r#"{"family": "web"}"#,
                attrs(&[("service", "web")]),
                "containerDefinitions",
            ),
        ] {
            let err = parse(body, &attributes).expect_err("rejected");
            assert!(err.contains(named), "{err} should name {named}");
        }
    }

    #[test]
    fn a_deploy_may_name_a_task_to_run_before_the_update() {
        let with = |before: &str, service: &str| {
            parse(BODY, &attrs(&[("service", service), ("before", before)]))
        };
        let request =
            with(r#"{"container": "web", "command": ["bin/migrate"]}"#, "web").expect("valid");
        assert_eq!(
            request.before.map(|b| (b.container, b.command)),
            Some(("web".to_owned(), vec!["bin/migrate".to_owned()]))
        );
        for (before, service, says) in [
            ("{", "web", "message attribute 'before': not JSON"),
            (
                r#"{"container": "web"}"#,
                "web",
                "message attribute 'before': member 'command'",
            ),
            (
                r#"{"container": "web", "command": ["x"]}"#,
                "false",
                "'service' is false",
            ),
        ] {
            let err = with(before, service).expect_err(before);
            assert!(err.contains(says), "{err} should say {says}");
        }
        assert_eq!(with(" ", "web").map(|r| r.before), Ok(None));
    }
}
