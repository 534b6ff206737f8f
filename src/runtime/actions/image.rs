//! `image`: the body maps container names to images, set in the task definition the service runs and
//! deployed as a `deploy` message of that task definition would be.

use std::collections::BTreeMap;

use crate::decide::image_update::{images_of, with_images};
use crate::decide::message::{Asked, DeploymentRequest, ServiceChange};
use crate::decide::outcome::Outcome;
use crate::runtime::actions::message_action::MessageAction;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::{Delivery, Deployer, OnMilestone, Summary, rejected};

/// An `image` message: the service it changes, and the new image of each container it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// The service and the message's other attributes.
    pub change: ServiceChange,
    /// Container name -> the image it runs from now on.
    pub images: BTreeMap<String, String>,
}

impl MessageAction for Image {
    const NAME: &'static str = "image";
    const REUSES_REVISION: bool = false;

    fn read(body: &str, attributes: &BTreeMap<String, String>) -> Result<Self, String> {
        Ok(Self {
            change: ServiceChange::read(Self::NAME, attributes)?,
            images: images_of(body)?,
        })
    }

    fn asked(&self) -> Asked<'_> {
        Asked::ServiceChange(&self.change)
    }

    async fn run(
        &self,
        deployer: &Deployer,
        delivery: &Delivery,
        summary: &mut Summary,
        on_event: OnMilestone<'_>,
    ) -> Result<Outcome, NotAdmitted> {
        let request = self.resolve(deployer).await?;
        deployer
            .deploy_request(&request, delivery, summary, on_event)
            .await
    }
}

impl Image {
    /// The deployment it stands for: the service's task definition with the images set; a container it
    /// lacks rejects the message.
    async fn resolve(&self, deployer: &Deployer) -> Result<DeploymentRequest, NotAdmitted> {
        let current = deployer.service_of(&self.change).await?;
        let json = deployer
            .retrying(|| current.ecs.task_definition_json(&current.revision))
            .await?;
        let task_definition =
            with_images(&json, &current.revision, &self.images).map_err(rejected)?;
        Ok(self.change.deploying(task_definition))
    }
}
