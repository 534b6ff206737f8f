//! An `image` message turned into the deployment it stands for: the service's task definition, read from
//! ECS, with the message's images set; judged by the guard's attribute rules before any call to ECS.

use tokio::time::Instant;

use crate::aws::ecs::Ecs;
use crate::decide::guard::Attributes;
use crate::decide::image_update::with_images;
use crate::decide::message::{DeploymentRequest, ImageRequest, Target};
use crate::decide::outcome::Outcome;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::Deployer;

impl Deployer {
    /// The deployment an `image` message stands for; a service that is missing or cannot be deployed, or a
    /// container its task definition lacks, rejects the message.
    pub(super) async fn resolve_image(
        &self,
        image: &ImageRequest,
    ) -> Result<DeploymentRequest, NotAdmitted> {
        let cluster = image.cluster.as_deref().unwrap_or(&self.cluster);
        let target = Target::Service(image.service.clone());
        self.guard.attributes(
            &Attributes {
                target: &target,
                commit_url: image.commit_url.as_deref(),
                reply_to: image.reply_to.as_deref(),
                family: None,
            },
            cluster,
        )?;
        let ecs = Ecs::new(self.client.clone(), cluster);
        let deadline = Instant::now() + self.settings.timeout;
        let current = self
            .retrying(deadline, || ecs.describe_service(&image.service))
            .await?;
        let rejected = |reason: String| NotAdmitted::from(Outcome::Rejected { reason });
        let Some(current) = current else {
            return Err(rejected(format!(
                "service '{}' not found in cluster '{cluster}'",
                image.service
            )));
        };
        if let Some(reason) = current.state.not_deployable(&image.service, cluster) {
            return Err(rejected(reason));
        }
        let Some(revision) = current.task_definition else {
            return Err(rejected(format!(
                "service '{}' runs no task definition to set the images in",
                image.service
            )));
        };
        let json = self
            .retrying(deadline, || ecs.task_definition_json(&revision))
            .await?;
        let task_definition = with_images(&json, &revision, &image.images).map_err(rejected)?;
        Ok(image.deploying(task_definition))
    }
}
