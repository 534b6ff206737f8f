//! The pre-flight checks' rules: what a task definition refers to outside ECS (ECR images, roles, SSM
//! parameters, secrets, log groups), and whether what the checks found rejects the message.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::decide::digests::ecr_tag;

/// The service a task or execution role must trust.
pub const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";

/// What kind of thing a reference names: one kind is one AWS API, whose failures are warned of once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// An ECR image (ECR DescribeImages).
    Image,
    /// A task or execution role (IAM GetRole).
    Role,
    /// An SSM parameter (SSM GetParameters).
    Parameter,
    /// A Secrets Manager secret (Secrets Manager DescribeSecret).
    Secret,
    /// An awslogs log group (CloudWatch Logs DescribeLogGroups).
    LogGroup,
    /// An image in another registry than ECR, which is not looked up.
    OtherRegistry,
}

impl Kind {
    /// Whether checking it asks AWS at all (an image in another registry is not looked up).
    pub fn asks_aws(self) -> bool {
        self != Self::OtherRegistry
    }

    /// The AWS call that checks it, for logs and reasons.
    pub fn call(self) -> &'static str {
        match self {
            Self::Image => "ecr:DescribeImages",
            Self::Role => "iam:GetRole",
            Self::Parameter => "ssm:GetParameters",
            Self::Secret => "secretsmanager:DescribeSecret",
            Self::LogGroup => "logs:DescribeLogGroups",
            Self::OtherRegistry => "none: only ECR images are looked up",
        }
    }
}

/// Something outside ECS that a task definition member names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    /// The member that names it (`containerDefinitions[0].secrets[1].valueFrom`).
    pub member: String,
    /// What it names, as given.
    pub value: String,
    /// Which kind it is, and how to look it up.
    pub target: Target,
}

/// How to look a reference up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// An image in ECR: repository in a registry and region, by tag or by digest.
    Image {
        /// The registry's account id.
        registry_id: String,
        /// The registry's region.
        region: String,
        /// The repository.
        repository: String,
        /// `Ok(tag)` or `Err(digest)`.
        tag: Result<String, String>,
    },
    /// A role by name (IAM's GetRole takes the name, not the path).
    Role {
        /// The role's name.
        name: String,
    },
    /// An SSM parameter: its name, and its region when an ARN names one.
    Parameter {
        /// The parameter's name (`/path/name` or `name`).
        name: String,
        /// The region of its ARN.
        region: Option<String>,
    },
    /// A Secrets Manager secret: its ARN or name without a `:json-key:...` suffix.
    Secret {
        /// The secret's id.
        id: String,
        /// The region of its ARN.
        region: Option<String>,
    },
    /// An image in another registry than ECR: nothing to ask, so never checked.
    OtherImage,
    /// A CloudWatch Logs log group.
    LogGroup {
        /// Its name.
        name: String,
        /// `awslogs-region`, when given.
        region: Option<String>,
    },
}

impl Target {
    /// The kind of thing it is.
    pub fn kind(&self) -> Kind {
        match self {
            Self::Image { .. } => Kind::Image,
            Self::Role { .. } => Kind::Role,
            Self::Parameter { .. } => Kind::Parameter,
            Self::Secret { .. } => Kind::Secret,
            Self::LogGroup { .. } => Kind::LogGroup,
            Self::OtherImage => Kind::OtherRegistry,
        }
    }
}

/// What a check found about one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// It exists (and a role trusts ECS tasks).
    Present,
    /// It does not exist, or a role does not trust ECS tasks: what is wrong.
    Missing(String),
    /// The check could not run (access denied, throttled, timed out, another account): why.
    Unchecked(String),
}

/// Everything a task definition's request refers to outside ECS, in member order. Roles of accounts other
/// than `account` (when known) are left out: GetRole cannot read them. Images of other registries than
/// ECR are listed, to be reported as not checked.
pub fn references(request: &Map<String, Value>, account: Option<&str>) -> Vec<Reference> {
    let mut found = Vec::new();
    for member in ["taskRoleArn", "executionRoleArn"] {
        if let Some(arn) = request.get(member).and_then(Value::as_str)
            && let Some(name) = role_name(arn, account)
        {
            found.push(reference(member.to_owned(), arn, Target::Role { name }));
        }
    }
    let containers = request
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, container) in containers.iter().enumerate() {
        let at = format!("containerDefinitions[{i}]");
        if let Some(image) = container.get("image").and_then(Value::as_str) {
            let target = image_target(image).unwrap_or(Target::OtherImage);
            found.push(reference(format!("{at}.image"), image, target));
        }
        for (path, list) in [
            ("secrets", container.get("secrets")),
            (
                "logConfiguration.secretOptions",
                container
                    .get("logConfiguration")
                    .and_then(|l| l.get("secretOptions")),
            ),
        ] {
            let items = list.and_then(Value::as_array).map(Vec::as_slice);
            for (j, secret) in items.unwrap_or_default().iter().enumerate() {
                if let Some(value_from) = secret.get("valueFrom").and_then(Value::as_str) {
                    let member = format!("{at}.{path}[{j}].valueFrom");
                    found.push(reference(member, value_from, secret_target(value_from)));
                }
            }
        }
        if let Some((name, region)) = container.get("logConfiguration").and_then(log_group) {
            let member = format!("{at}.logConfiguration.options.awslogs-group");
            let target = Target::LogGroup {
                name: name.to_owned(),
                region: region.map(str::to_owned),
            };
            found.push(reference(member, name, target));
        }
    }
    found
}

fn reference(member: String, value: &str, target: Target) -> Reference {
    Reference {
        member,
        value: value.to_owned(),
        target,
    }
}

/// The name of the role an ARN names (`arn:aws:iam::ACCOUNT:role/path/name`), unless it is another
/// account's.
fn role_name(arn: &str, account: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, "iam", _, owner, resource] = parts.as_slice() else {
        return None;
    };
    if account.is_some_and(|a| a != *owner) {
        return None;
    }
    let path = resource.strip_prefix("role/")?;
    path.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// How to find an ECR image (by tag or digest); `None` for any other registry.
fn image_target(image: &str) -> Option<Target> {
    if let Some((name, digest)) = image.split_once('@') {
        let tag = ecr_tag(name)?;
        return Some(Target::Image {
            registry_id: tag.registry_id,
            region: tag.region,
            repository: tag.repository,
            tag: Err(digest.to_owned()),
        });
    }
    let tag = ecr_tag(image)?;
    Some(Target::Image {
        registry_id: tag.registry_id,
        region: tag.region,
        repository: tag.repository,
        tag: Ok(tag.tag),
    })
}

/// Where a `valueFrom` points: a Secrets Manager secret by ARN (any `:json-key:version-stage:version-id`
/// suffix dropped), an SSM parameter by ARN, or else an SSM parameter by name.
fn secret_target(value_from: &str) -> Target {
    let parts: Vec<&str> = value_from.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "secretsmanager", region, _, "secret", ..] if parts.len() >= 7 => {
            Target::Secret {
                id: parts[..7].join(":"),
                region: Some((*region).to_owned()),
            }
        }
        ["arn", _, "ssm", region, _, resource] => {
            let path = resource.strip_prefix("parameter").unwrap_or(resource);
            // A hierarchical name begins with a slash, which its ARN does not repeat.
            let name = match path.strip_prefix('/') {
                Some(rest) if rest.contains('/') => path.to_owned(),
                Some(rest) => rest.to_owned(),
                None => path.to_owned(),
            };
            Target::Parameter {
                name,
                region: Some((*region).to_owned()),
            }
        }
        _ => Target::Parameter {
            name: value_from.to_owned(),
            region: None,
        },
    }
}

/// The awslogs log group (name, `awslogs-region`) a log configuration needs to exist (not when
/// `awslogs-create-group` is true).
fn log_group(configuration: &Value) -> Option<(&str, Option<&str>)> {
    if configuration.get("logDriver").and_then(Value::as_str) != Some("awslogs") {
        return None;
    }
    let options = configuration.get("options")?;
    let option = |name: &str| options.get(name).and_then(Value::as_str);
    if option("awslogs-create-group").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    Some((option("awslogs-group")?, option("awslogs-region")))
}

/// Whether a role's trust policy (IAM's AssumeRolePolicyDocument, decoded) lets ECS tasks assume it.
pub fn trusts_ecs_tasks(document: &str) -> bool {
    let Ok(policy) = serde_json::from_str::<Value>(document) else {
        return false;
    };
    let statements = match policy.get("Statement") {
        Some(Value::Array(all)) => all.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    let strings = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(all)) => all
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && strings(s.get("Action"))
                .iter()
                .any(|a| matches!(a.as_str(), "sts:AssumeRole" | "sts:*" | "*"))
            && strings(s.get("Principal").and_then(|p| p.get("Service")))
                .iter()
                .any(|p| p == ECS_TASKS)
    })
}

/// The rejection reason when any check found something missing, naming each member and what is missing
/// and how to deploy without the checks; `None` when nothing is missing.
pub fn verdict(findings: &[(Reference, Finding)]) -> Option<String> {
    let missing: Vec<String> = findings
        .iter()
        .filter_map(|(r, f)| match f {
            // An image is named whole: the reason says which image was never pushed.
            Finding::Missing(what) if r.target.kind() == Kind::Image => {
                Some(format!("{} {}: {what}", r.member, r.value))
            }
            Finding::Missing(what) => Some(format!("{}: {what}", r.member)),
            Finding::Present | Finding::Unchecked(_) => None,
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "pre-flight check: {}; nothing was registered (VERIFY=off deploys without the checks)",
        missing.join("; ")
    ))
}

/// The kinds whose checks could not run among `findings`, each with the first reason: logged once per
/// kind by whoever keeps count.
pub fn unchecked(findings: &[(Reference, Finding)]) -> Vec<(Kind, String)> {
    let mut seen = BTreeSet::new();
    findings
        .iter()
        .filter_map(|(r, f)| match f {
            Finding::Unchecked(why) if seen.insert(r.target.kind()) => {
                Some((r.target.kind(), why.clone()))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
