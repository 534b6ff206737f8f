//! The read-only calls of the pre-flight checks: whether an ECR image, a role, an SSM parameter, a secret
//! or a log group that a task definition names exists, one call each.

use aws_sdk_ecr::config::Region;
use aws_sdk_ecr::types::ImageIdentifier;
use percent_encoding::percent_decode_str;

use crate::aws::error::AwsError;
use crate::decide::preflight::{ECS_TASKS, Finding, Target, trusts_ecs_tasks};

/// Error codes that say the thing looked up does not exist.
const NOT_FOUND: [&str; 5] = [
    "ImageNotFoundException",
    "RepositoryNotFoundException",
    "NoSuchEntity",
    "NoSuchEntityException",
    "ResourceNotFoundException",
];

/// The clients of the services the checks ask; each call may name another region.
#[derive(Debug, Clone)]
pub struct Lookups {
    /// For images (DescribeImages).
    pub ecr: aws_sdk_ecr::Client,
    /// For roles and their trust (GetRole).
    pub iam: aws_sdk_iam::Client,
    /// For parameters (GetParameters).
    pub ssm: aws_sdk_ssm::Client,
    /// For secrets (DescribeSecret).
    pub secrets: aws_sdk_secretsmanager::Client,
    /// For log groups (DescribeLogGroups).
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

/// A config override naming `region`, when given; an empty one keeps the client's region.
macro_rules! in_region {
    ($config:ty, $region:expr) => {{
        let mut config = <$config>::builder();
        if let Some(region) = $region {
            config = config.region(Region::new(region.clone()));
        }
        config
    }};
}

/// What a failed lookup means: not found is `Missing(what)`, anything else leaves it unchecked.
fn failed(error: &AwsError, what: String) -> Finding {
    if error
        .code
        .as_deref()
        .is_some_and(|c| NOT_FOUND.contains(&c))
    {
        Finding::Missing(what)
    } else {
        Finding::Unchecked(error.to_string())
    }
}

impl Lookups {
    /// Clients from the SDK's configuration.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            ecr: aws_sdk_ecr::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
        }
    }

    /// Looks `target` up.
    pub async fn find(&self, target: &Target) -> Finding {
        match target {
            Target::OtherImage => Finding::Unchecked(
                "the image is not in a private ECR registry, and only those are looked up"
                    .to_owned(),
            ),
            Target::Image {
                registry_id,
                region,
                repository,
                tag,
            } => {
                let id = match tag {
                    Ok(tag) => ImageIdentifier::builder().image_tag(tag).build(),
                    Err(digest) => ImageIdentifier::builder().image_digest(digest).build(),
                };
                let what = match tag {
                    Ok(tag) => format!("tag {tag} is not in ECR repository {repository}"),
                    Err(digest) => format!("digest {digest} is not in ECR repository {repository}"),
                };
                let client = &self.ecr;
                let answer = client
                    .describe_images()
                    .registry_id(registry_id)
                    .repository_name(repository)
                    .image_ids(id)
                    .customize()
                    .config_override(in_region!(aws_sdk_ecr::Config, Some(region)))
                    .send()
                    .await
                    .map_err(|e| AwsError::new("DescribeImages", e));
                match answer {
                    Ok(found) if !found.image_details().is_empty() => Finding::Present,
                    Ok(_) => Finding::Missing(what),
                    Err(e) => failed(&e, what),
                }
            }
            Target::Role { name } => {
                let client = &self.iam;
                let answer = client
                    .get_role()
                    .role_name(name)
                    .send()
                    .await
                    .map_err(|e| AwsError::new("GetRole", e));
                match answer {
                    Ok(found) => {
                        let document = found
                            .role()
                            .and_then(|r| r.assume_role_policy_document())
                            .unwrap_or_default();
                        let decoded = percent_decode_str(document).decode_utf8_lossy();
                        if trusts_ecs_tasks(&decoded) {
                            Finding::Present
                        } else {
                            Finding::Missing(format!(
                                "role {name} does not trust {ECS_TASKS} (its trust policy must allow sts:AssumeRole to that service)"
                            ))
                        }
                    }
                    Err(e) => failed(&e, format!("role {name} does not exist")),
                }
            }
            Target::Parameter { name, region } => {
                let client = &self.ssm;
                let answer = client
                    .get_parameters()
                    .names(name)
                    .customize()
                    .config_override(in_region!(aws_sdk_ssm::Config, region.as_ref()))
                    .send()
                    .await
                    .map_err(|e| AwsError::new("GetParameters", e));
                match answer {
                    Ok(found) if found.invalid_parameters().is_empty() => Finding::Present,
                    Ok(_) => Finding::Missing(format!("SSM parameter {name} does not exist")),
                    Err(e) => failed(&e, format!("SSM parameter {name} does not exist")),
                }
            }
            Target::Secret { id, region } => {
                let client = &self.secrets;
                let answer = client
                    .describe_secret()
                    .secret_id(id)
                    .customize()
                    .config_override(in_region!(aws_sdk_secretsmanager::Config, region.as_ref()))
                    .send()
                    .await
                    .map_err(|e| AwsError::new("DescribeSecret", e));
                match answer {
                    Ok(_) => Finding::Present,
                    Err(e) => failed(&e, format!("secret {id} does not exist")),
                }
            }
            Target::LogGroup { name, region } => {
                let client = &self.logs;
                let answer = client
                    .describe_log_groups()
                    .log_group_name_prefix(name)
                    .customize()
                    .config_override(in_region!(aws_sdk_cloudwatchlogs::Config, region.as_ref()))
                    .send()
                    .await
                    .map_err(|e| AwsError::new("DescribeLogGroups", e));
                let what = format!(
                    "log group {name} does not exist (or set awslogs-create-group to true)"
                );
                match answer {
                    Ok(found)
                        if found
                            .log_groups()
                            .iter()
                            .any(|g| g.log_group_name() == Some(name.as_str())) =>
                    {
                        Finding::Present
                    }
                    Ok(found) if found.next_token().is_some() => Finding::Unchecked(format!(
                        "more log groups begin with {name} than one page shows"
                    )),
                    Ok(_) => Finding::Missing(what),
                    Err(e) => failed(&e, what),
                }
            }
        }
    }
}
