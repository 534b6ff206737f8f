//! `deploy`, the default action and the old script's contract: the body is the task definition, registered
//! and rolled out to the service the `service` attribute names (or only registered, when it is `false`).

use std::collections::BTreeMap;

use crate::decide::message::{Asked, DeploymentRequest, parse};
use crate::decide::outcome::Outcome;
use crate::runtime::actions::message_action::MessageAction;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::{Delivery, Deployer, OnMilestone, Summary};

/// A `deploy` message: the deployment its body and attributes ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct Deploy(pub DeploymentRequest);

impl MessageAction for Deploy {
    const NAME: &'static str = "deploy";
    const REUSES_REVISION: bool = false;

    fn read(body: &str, attributes: &BTreeMap<String, String>) -> Result<Self, String> {
        parse(body, attributes).map(Self)
    }

    fn asked(&self) -> Asked<'_> {
        Asked::TaskDefinition(&self.0)
    }

    async fn run(
        &self,
        deployer: &Deployer,
        delivery: &Delivery,
        summary: &mut Summary,
        on_event: OnMilestone<'_>,
    ) -> Result<Outcome, NotAdmitted> {
        deployer
            .deploy_request(&self.0, delivery, summary, on_event)
            .await
    }
}
