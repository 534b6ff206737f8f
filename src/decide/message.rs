//! An SQS message read as a deployment request, or rejected with the reason why.
//!
//! The contract is the old script's: the body is the task definition, the `service` attribute names the
//! service (the literal `false` means register only), and the optional `commit_url` attribute travels with
//! the deployment into every log line and report. The optional `cluster` and `reply_to` attributes pick a
//! cluster other than `ECS_CLUSTER` and a queue for the outcome; the policy decides whether they may. The
//! optional `action` attribute says what the message does: `deploy` (the default, as above), `image` (the
//! body maps container names to images, set in the task definition the service runs) or `rollback` (an
//! existing revision, the `revision` attribute's or the one before, deployed again).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::decide::image_update::images_of;
use crate::decide::names::service_arn;
use crate::decide::task_definition::TaskDefinition;

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
/// The optional message attribute naming the revision a `rollback` goes back to (`web:12` or an ARN).
pub const REVISION_ATTRIBUTE: &str = "revision";
/// The actions a message may ask for.
pub const ACTIONS: [&str; 4] = ["deploy", "image", "redeploy", "rollback"];
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
}

/// Where a task definition goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Register it and roll this service (name or ARN) out to it.
    Service(String),
    /// Register it only (`service` = `false`).
    RegisterOnly,
}

/// A message, by its `action` attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// `deploy` (the default): the body is the task definition.
    Deploy(DeploymentRequest),
    /// `image`: new images (container name to image) for the task definition the service runs.
    Image(ServiceChange, BTreeMap<String, String>),
    /// `rollback`: an existing revision, deployed without registering anything: the one the `revision`
    /// attribute names, or the one recorded as running before the service's current one.
    Rollback(ServiceChange, Option<String>),
    /// `redeploy`: a new deployment of the revision the service runs, replacing every task (images are
    /// pulled again by tag); the body is ignored.
    Redeploy(ServiceChange),
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
        }
    }
}

impl Message {
    /// Its action, as the `action` attribute spells it.
    pub fn action(&self) -> &'static str {
        match self {
            Self::Deploy(_) => "deploy",
            Self::Image(..) => "image",
            Self::Rollback(..) => "rollback",
            Self::Redeploy(_) => "redeploy",
        }
    }

    /// The target the message names.
    pub fn target(&self) -> Target {
        match self {
            Self::Deploy(request) => request.target.clone(),
            Self::Image(change, _) | Self::Rollback(change, _) | Self::Redeploy(change) => {
                Target::Service(change.service.clone())
            }
        }
    }

    /// The cluster the message picks; `None` for `ECS_CLUSTER`.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Self::Deploy(request) => request.cluster.as_deref(),
            Self::Image(change, _) | Self::Rollback(change, _) | Self::Redeploy(change) => {
                change.cluster.as_deref()
            }
        }
    }
}

/// Reads a message of any action: its body and its String attributes (name -> value).
///
/// The error is the reason the message is rejected, naming the attribute or member at fault.
pub fn read(body: &str, attributes: &BTreeMap<String, String>) -> Result<Message, String> {
    let action = attributes
        .get(ACTION_ATTRIBUTE)
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .unwrap_or("deploy");
    let change = || -> Result<ServiceChange, String> {
        let (target, cluster, commit_url, reply_to) = read_attributes(attributes)?;
        let Target::Service(service) = target else {
            return Err(format!(
                "message attribute '{SERVICE_ATTRIBUTE}' is false, but action '{action}' changes what a service runs: name the service"
            ));
        };
        Ok(ServiceChange {
            service,
            cluster,
            commit_url,
            reply_to,
        })
    };
    match action {
        "deploy" => parse(body, attributes).map(Message::Deploy),
        "image" => Ok(Message::Image(change()?, images_of(body)?)),
        "redeploy" => Ok(Message::Redeploy(change()?)),
        "rollback" => {
            let revision = attributes
                .get(REVISION_ATTRIBUTE)
                .map(|r| r.trim())
                .filter(|r| !r.is_empty());
            if let Some(revision) = revision
                && !valid_revision(revision)
            {
                return Err(format!(
                    "message attribute '{REVISION_ATTRIBUTE}' ({}) is not a task definition revision: give family:revision (web:12) or its ARN",
                    shown(revision)
                ));
            }
            Ok(Message::Rollback(change()?, revision.map(str::to_owned)))
        }
        other => Err(format!(
            "message attribute '{ACTION_ATTRIBUTE}' ({}) is not one of {}",
            shown(other),
            ACTIONS.join(", ")
        )),
    }
}

/// Reads a `deploy` message: its body and its String attributes (name -> value).
///
/// The error is the reason the message is rejected, naming the attribute or member at fault.
pub fn parse(
    body: &str,
    attributes: &BTreeMap<String, String>,
) -> Result<DeploymentRequest, String> {
    let (target, cluster, commit_url, reply_to) = read_attributes(attributes)?;
    let task_definition = TaskDefinition::from_body(body)?;
    Ok(DeploymentRequest {
        target,
        cluster,
        commit_url,
        reply_to,
        task_definition,
    })
}

/// The attributes every action reads: the target, the cluster, `commit_url` and `reply_to`.
type Common = (Target, Option<String>, Option<String>, Option<String>);

fn read_attributes(attributes: &BTreeMap<String, String>) -> Result<Common, String> {
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
    Ok((target, cluster, commit_url, reply_to))
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

/// What the logs say of a body instead of the body itself, which may hold secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySummary {
    /// The task definition's family, when the body names one.
    pub family: Option<String>,
    /// The body's length in bytes.
    pub bytes: usize,
    /// The body's SHA-256, hex, to match it with what the producer sent.
    pub sha256: String,
}

impl BodySummary {
    /// Summarizes `body`, whatever it holds.
    pub fn of(body: &str) -> Self {
        let value: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let family = value.as_ref().and_then(|v| {
            v.get("family")
                .or_else(|| v.get("taskDefinition").and_then(|t| t.get("family")))
                .and_then(serde_json::Value::as_str)
                .map(|f| f.chars().take(MAX_NAME).collect())
        });
        Self {
            family,
            bytes: body.len(),
            sha256: format!("{:x}", Sha256::digest(body.as_bytes())),
        }
    }
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
    fn a_body_is_summarized_without_its_content() {
        let summary = BodySummary::of(
            r#"{"family": "web", "containerDefinitions": [{"environment": [{"name": "TOKEN", "value": "s3cr3t"}]}]}"#,
        );
        assert_eq!(summary.family.as_deref(), Some("web"));
        assert_eq!(summary.sha256.len(), 64);
        assert!(!format!("{summary:?}").contains("s3cr3t"));
        let wrapped = BodySummary::of(r#"{"taskDefinition": {"family": "api"}}"#);
        assert_eq!(wrapped.family.as_deref(), Some("api"));
        let junk = BodySummary::of("not json");
        assert_eq!((junk.family, junk.bytes), (None, 8));
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
    fn the_action_attribute_picks_what_a_message_does() {
        let deploy = read(BODY, &attrs(&[("service", "web")])).expect("valid");
        assert!(matches!(deploy, Message::Deploy(_)), "{deploy:?}");
        let explicit = read(BODY, &attrs(&[("service", "web"), ("action", " deploy ")]));
        assert_eq!(explicit, Ok(deploy));

        let image = read(
            r#"{"web": "nginx:1.28"}"#,
            &attrs(&[("service", "web"), ("action", "image"), ("cluster", "prod")]),
        )
        .expect("valid");
        let Message::Image(_, images) = &image else {
            panic!("{image:?}");
        };
        assert_eq!(images["web"], "nginx:1.28");
        assert_eq!(
            (image.target(), image.cluster()),
            (Target::Service("web".into()), Some("prod"))
        );

        let cases = [
            (
                r#"{"web": "nginx"}"#,
                vec![("service", "false"), ("action", "image")],
                "action 'image' changes what a service runs",
            ),
            (
                BODY,
                vec![("service", "web"), ("action", "image")],
                "the image must be a string",
            ),
            (
                BODY,
                vec![("service", "web"), ("action", "promote")],
                "message attribute 'action' (\"promote\") is not one of deploy, image, redeploy, rollback",
            ),
            (
                r#"{"web": "nginx"}"#,
                vec![("action", "image")],
                "message attribute 'service' is missing",
            ),
        ];
        let rollback = |revision: &str| {
            read(
                "{}",
                &attrs(&[
                    ("service", "web"),
                    ("action", "rollback"),
                    ("revision", revision),
                ]),
            )
        };
        for good in ["web:12", "arn:aws:ecs:us-east-1:1:task-definition/web:12"] {
            let Ok(Message::Rollback(_, Some(named))) = rollback(good) else {
                panic!("{good}");
            };
            assert_eq!(named, good);
        }
        assert!(matches!(rollback(" "), Ok(Message::Rollback(_, None))));
        let redeploy = read(
            "ignored",
            &attrs(&[("service", "web"), ("action", "redeploy")]),
        );
        assert!(matches!(redeploy, Ok(Message::Redeploy(_))), "{redeploy:?}");
        for bad in [
            "web",
            "web:x",
            "arn:aws:ecs:us-east-1:1:service/web:1",
            ":3",
            "a b:1",
        ] {
            let err = rollback(bad).expect_err(bad);
            assert!(err.contains("message attribute 'revision'"), "{bad}: {err}");
        }
        for (body, attributes, part) in cases {
            let err = read(body, &attrs(&attributes)).expect_err(part);
            assert!(err.contains(part), "{attributes:?}: {err}");
        }
    }
}
