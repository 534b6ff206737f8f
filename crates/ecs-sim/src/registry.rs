//! Container image digests: taken from a reference pinned by digest, asked of an ECR endpoint (moto) for
//! an ECR image when one is configured, or else a stable digest of the image name.
//!
//! As ECS resolves tags since June 2024 ("container image resolution"): a container with
//! `versionConsistency` enabled (the default) gets its digest when its service deployment starts, and every
//! task of that deployment runs that digest; one with `versionConsistency` `disabled` pulls its tag when
//! each task starts. Either way a task keeps the digest it started with, so a tag moved later shows only
//! in tasks started later. A digest the registry cannot give stops the task with `CannotPullContainerError`.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::config::{BehaviorVersion, Credentials, Region};
use sha2::{Digest, Sha256};

use crate::deployment::Deployment;
use crate::service::Service;
use crate::state::State;
use crate::task::{ContainerSpec, TaskStatus};
use crate::task_definition::TaskDefinition;

/// An image in an ECR repository named by tag: what BatchGetImage needs to resolve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrTag {
    /// The account id in the registry host.
    pub registry_id: String,
    /// The region in the registry host.
    pub region: String,
    /// The repository, which may hold slashes.
    pub repository: String,
    /// The tag (`latest` when the image names none).
    pub tag: String,
}

/// The ECR repository and tag of `image`, when it is an ECR image named by tag
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG]`).
pub fn ecr_tag(image: &str) -> Option<EcrTag> {
    if image.contains('@') {
        return None;
    }
    let (host, path) = image.split_once('/')?;
    let mut labels = host.split('.');
    let registry_id = labels.next()?;
    let (Some("dkr"), Some(ecr), Some(region), Some("amazonaws")) =
        (labels.next(), labels.next(), labels.next(), labels.next())
    else {
        return None;
    };
    if !ecr.starts_with("ecr") || registry_id.is_empty() || region.is_empty() || path.is_empty() {
        return None;
    }
    let (repository, tag) = match path.rsplit_once(':') {
        Some((repository, tag)) => (repository, tag),
        None => (path, "latest"),
    };
    Some(EcrTag {
        registry_id: registry_id.to_owned(),
        region: region.to_owned(),
        repository: repository.to_owned(),
        tag: tag.to_owned(),
    })
}

/// A stable digest per image name, as a registry would give one.
pub fn image_digest(image: &str) -> String {
    let digest = Sha256::digest(image.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The digest of `image` when it is known without asking a registry: the one it is pinned to, or, where
/// no registry answers for it, a stable digest of its name. `None`: ask the registry.
pub fn known_digest(image: &str, registry: bool) -> Option<String> {
    if let Some((_, digest)) = image.split_once('@') {
        return Some(digest.to_owned());
    }
    if registry && ecr_tag(image).is_some() {
        return None;
    }
    Some(image_digest(image))
}

/// An ECR endpoint that resolves tags to digests.
#[derive(Debug, Clone)]
pub struct Registry {
    /// A client of ECR's API where it is served (moto's server in tests and the demo); each call names
    /// the region of its image.
    client: aws_sdk_ecr::Client,
}

impl Registry {
    /// A registry served at `endpoint`.
    pub fn new(endpoint: &str) -> Self {
        let config = aws_sdk_ecr::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "ecs-sim", "ecs-sim", None, None, "ecs-sim",
            ))
            .endpoint_url(endpoint)
            .build();
        Self {
            client: aws_sdk_ecr::Client::from_conf(config),
        }
    }

    /// What the tag of `image` points to now, or why it cannot be pulled, in ECS's words.
    pub async fn resolve(&self, image: &str) -> Result<String, String> {
        let Some(reference) = ecr_tag(image) else {
            return known_digest(image, false).ok_or_else(|| format!("{image}: not an image"));
        };
        let answer = self
            .client
            .batch_get_image()
            .registry_id(&reference.registry_id)
            .repository_name(&reference.repository)
            .image_ids(
                aws_sdk_ecr::types::ImageIdentifier::builder()
                    .image_tag(&reference.tag)
                    .build(),
            )
            .customize()
            .config_override(aws_sdk_ecr::Config::builder().region(Region::new(reference.region)))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "CannotPullContainerError: pull image manifest has been retried 1 time(s): \
                     failed to resolve ref {image}: {}",
                    aws_sdk_ecr::error::DisplayErrorContext(e)
                )
            })?;
        answer
            .images()
            .iter()
            .find_map(|i| i.image_id().and_then(|id| id.image_digest()))
            .map(str::to_owned)
            .ok_or_else(|| {
                format!(
                    "CannotPullContainerError: pull image manifest has been retried 1 time(s): \
                     failed to resolve ref {image}: not found"
                )
            })
    }
}

/// The containers of a new task of `deployment`: a version-consistent one runs the digest of the
/// deployment's service revision, any other the one its tag gives now (asked of the ECR endpoint when
/// `registry`).
pub fn containers_for(
    service: &Service,
    deployment: &Deployment,
    definition: &TaskDefinition,
    registry: bool,
) -> Vec<ContainerSpec> {
    let revision = service
        .revisions
        .iter()
        .find(|r| r.arn == deployment.revision);
    definition
        .containers()
        .into_iter()
        .map(|mut c| {
            c.digest = if c.consistent {
                revision
                    .and_then(|r| r.images.iter().find(|i| i.name == c.name))
                    .and_then(|i| i.digest.clone())
            } else {
                known_digest(&c.image, registry)
            };
            c
        })
        .collect()
}

impl State {
    /// The images whose digests are still to be asked of the registry: of service revisions that are
    /// being deployed, and of tasks still provisioning.
    pub fn unresolved_images(&self) -> BTreeSet<String> {
        let mut images = BTreeSet::new();
        for cluster in self.clusters.values() {
            for service in cluster.services.values() {
                let deployed = |arn: &str| service.deployments.iter().any(|d| d.revision == arn);
                for revision in service.revisions.iter().filter(|r| deployed(&r.arn)) {
                    images.extend(
                        revision
                            .images
                            .iter()
                            .filter(|c| c.consistent && c.digest.is_none())
                            .map(|c| c.image.clone()),
                    );
                }
            }
            for task in cluster.tasks.values() {
                if task.last_status == TaskStatus::Provisioning {
                    images.extend(
                        task.containers
                            .iter()
                            .filter(|c| !c.consistent && c.digest.is_none())
                            .map(|c| c.image.clone()),
                    );
                }
            }
        }
        images
    }

    /// Gives revisions and provisioning tasks the digests `resolved`; a task whose image could not be
    /// resolved is marked to fail its pull.
    pub fn apply_digests(&mut self, resolved: &BTreeMap<String, Result<String, String>>) {
        for cluster in self.clusters.values_mut() {
            for service in cluster.services.values_mut() {
                for revision in &mut service.revisions {
                    for c in revision.images.iter_mut().filter(|c| c.digest.is_none()) {
                        if let Some(Ok(digest)) = resolved.get(&c.image).filter(|_| c.consistent) {
                            c.digest = Some(digest.clone());
                        }
                    }
                }
            }
            let services = &cluster.services;
            for task in cluster.tasks.values_mut() {
                if task.last_status != TaskStatus::Provisioning {
                    continue;
                }
                let revision = services
                    .get(&task.service)
                    .and_then(|s| s.revisions.iter().find(|r| r.arn == task.revision));
                for c in task.containers.iter_mut().filter(|c| c.digest.is_none()) {
                    let answer = if c.consistent {
                        revision
                            .and_then(|r| r.images.iter().find(|i| i.name == c.name))
                            .and_then(|i| i.digest.clone())
                            .map(Ok)
                            .or_else(|| resolved.get(&c.image).filter(|r| r.is_err()).cloned())
                    } else {
                        resolved.get(&c.image).cloned()
                    };
                    match answer {
                        Some(Ok(digest)) => c.digest = Some(digest),
                        Some(Err(reason)) => task.pull_error = Some(reason),
                        None => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_images_by_tag_are_recognised() {
        let cases = [
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web:prod",
                Some(("123456789012", "eu-west-1", "team/web", "prod")),
            ),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/web",
                Some(("123456789012", "us-east-1", "web", "latest")),
            ),
            (
                "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/web:1",
                Some(("123456789012", "us-east-1", "web", "1")),
            ),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:abc",
                None,
            ),
            ("nginx:1.27", None),
            ("public.ecr.aws/nginx/nginx:1", None),
            ("localhost:5000/web:1", None),
        ];
        for (image, expected) in cases {
            let got = ecr_tag(image);
            let got = got.as_ref().map(|r| {
                (
                    r.registry_id.as_str(),
                    r.region.as_str(),
                    r.repository.as_str(),
                    r.tag.as_str(),
                )
            });
            assert_eq!(got, expected, "{image}");
        }
    }

    #[test]
    fn digests_known_without_a_registry() {
        let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:prod";
        assert_eq!(
            known_digest("web@sha256:abc", true).as_deref(),
            Some("sha256:abc")
        );
        assert_eq!(known_digest(ecr, true), None);
        assert_eq!(known_digest(ecr, false), Some(image_digest(ecr)));
        assert_eq!(known_digest("nginx:1", true), Some(image_digest("nginx:1")));
    }
}
