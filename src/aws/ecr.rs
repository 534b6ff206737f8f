//! The ECR call the worker and `status` make: what image tags point to now (BatchGetImage), for the digest
//! check of a redeploy.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::config::Region;
use aws_sdk_ecr::types::ImageIdentifier;

use crate::aws::error::AwsError;
use crate::decide::digests::{EcrTag, Resolved, ecr_tag};

/// Most image ids one BatchGetImage call takes.
const MAX_IMAGE_IDS: usize = 100;
/// Most BatchGetImage calls one check makes: a redeploy names one task definition's images.
const MAX_CALLS: usize = 10;

/// ECR, through one client whose calls each name the region of the image they ask about.
#[derive(Debug, Clone)]
pub struct Ecr {
    /// The ECR client; `AWS_ENDPOINT_URL_ECR` points it elsewhere (moto's server locally).
    client: aws_sdk_ecr::Client,
}

impl Ecr {
    /// ECR through `client`.
    pub fn new(client: aws_sdk_ecr::Client) -> Self {
        Self { client }
    }

    /// What each of `images` that is an ECR image by tag points to now, by image. Images of one repository
    /// are asked in one call; a call that fails answers [`Resolved::Unknown`] for its images.
    pub async fn resolve(&self, images: &BTreeSet<String>) -> BTreeMap<String, Resolved> {
        let mut by_repository: BTreeMap<(String, String, String), Vec<(String, EcrTag)>> =
            BTreeMap::new();
        for image in images {
            if let Some(tag) = ecr_tag(image) {
                let key = (
                    tag.region.clone(),
                    tag.registry_id.clone(),
                    tag.repository.clone(),
                );
                by_repository
                    .entry(key)
                    .or_default()
                    .push((image.clone(), tag));
            }
        }
        let mut resolved = BTreeMap::new();
        let batches = by_repository
            .into_iter()
            .flat_map(|(key, tags)| {
                tags.chunks(MAX_IMAGE_IDS)
                    .map(|chunk| (key.clone(), chunk.to_vec()))
                    .collect::<Vec<_>>()
            })
            .take(MAX_CALLS);
        for ((region, registry_id, repository), tags) in batches {
            let answer = self
                .batch_get_image(&region, &registry_id, &repository, &tags)
                .await;
            match answer {
                Ok(digests) => {
                    for (image, tag) in tags {
                        let found = digests
                            .get(&tag.tag)
                            .map_or(Resolved::NotFound, |d| Resolved::Digest(d.clone()));
                        resolved.insert(image, found);
                    }
                }
                Err(e) => {
                    for (image, _) in tags {
                        resolved.insert(image, Resolved::Unknown(e.message.clone()));
                    }
                }
            }
        }
        resolved
    }

    /// The digests of the tags of `tags` in one repository, by tag; a tag ECR lacks is absent.
    async fn batch_get_image(
        &self,
        region: &str,
        registry_id: &str,
        repository: &str,
        tags: &[(String, EcrTag)],
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let ids = tags
            .iter()
            .map(|(_, t)| ImageIdentifier::builder().image_tag(&t.tag).build())
            .collect();
        let answer = self
            .client
            .batch_get_image()
            .registry_id(registry_id)
            .repository_name(repository)
            .set_image_ids(Some(ids))
            .customize()
            .config_override(aws_sdk_ecr::Config::builder().region(Region::new(region.to_owned())))
            .send()
            .await
            .map_err(|e| AwsError::new("BatchGetImage", e))?;
        Ok(answer
            .images()
            .iter()
            .filter_map(|i| i.image_id())
            .filter_map(|id| Some((id.image_tag()?.to_owned(), id.image_digest()?.to_owned())))
            .collect())
    }
}
