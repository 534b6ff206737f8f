//! An SQS message read as a deployment request, or rejected with the reason why.
//!
//! The contract is the old script's: the body is the task definition, the `service` attribute names the
//! service (the literal `false` means register only), and the optional `commit_url` attribute travels with
//! the deployment into every log line and report.

use std::collections::BTreeMap;

use crate::decide::task_definition::TaskDefinition;

/// The message attribute that names the service.
pub const SERVICE_ATTRIBUTE: &str = "service";
/// The optional message attribute with a link to the change being deployed.
pub const COMMIT_URL_ATTRIBUTE: &str = "commit_url";

/// The optional message attribute naming an SQS queue URL the outcome is sent to, as JSON.
pub const REPLY_TO_ATTRIBUTE: &str = "reply_to";

/// What a message asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRequest {
    /// Where the task definition goes.
    pub target: Target,
    /// The producer's link to the change, for logs and reports.
    pub commit_url: Option<String>,
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

/// Reads a message: its body and its String attributes (name -> value).
///
/// The error is the reason the message is rejected, naming the attribute or member at fault.
pub fn parse(
    body: &str,
    attributes: &BTreeMap<String, String>,
) -> Result<DeploymentRequest, String> {
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
    } else if service.contains(char::is_whitespace) {
        return Err(format!(
            "message attribute '{SERVICE_ATTRIBUTE}' ({service:?}) is not a service name or ARN"
        ));
    } else {
        Target::Service(service.to_owned())
    };
    let commit_url = attributes
        .get(COMMIT_URL_ATTRIBUTE)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let task_definition = TaskDefinition::from_body(body)?;
    Ok(DeploymentRequest {
        target,
        commit_url,
        task_definition,
    })
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
}
