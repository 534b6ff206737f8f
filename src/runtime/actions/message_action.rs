//! What every message action is: its name, how it is read from a message, what the guard judges of it
//! before any read of AWS, and its steps.

use std::collections::BTreeMap;
use std::future::Future;

use crate::decide::message::Asked;
use crate::decide::outcome::Outcome;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::{Delivery, Deployer, OnMilestone, Summary};

/// What every message action is.
pub trait MessageAction: Sized {
    /// Its name, as the `action` attribute spells it.
    const NAME: &'static str;
    /// Whether it deploys a revision that exists already (rather than one it registers), so that its
    /// record goes on that revision beside the record of the deployment that registered it.
    const REUSES_REVISION: bool;
    /// Whether it deploys anything, and so leaves a record on the revision for `history` (a one-off run
    /// does not: history is of the service's deployments).
    const RECORDED: bool = true;

    /// Reads a message that asks for it: its body and its String attributes (name -> value). The error is
    /// the reason the message is rejected, naming the attribute or member at fault.
    fn read(body: &str, attributes: &BTreeMap<String, String>) -> Result<Self, String>;

    /// What the guard judges of it before any read of AWS.
    fn asked(&self) -> Asked<'_>;

    /// Carries it out for `delivery`, writing what it did in `summary` and telling `on_event` of its
    /// milestones; gives how it ended, or why it was not admitted.
    fn run(
        &self,
        deployer: &Deployer,
        delivery: &Delivery,
        summary: &mut Summary,
        on_event: OnMilestone<'_>,
    ) -> impl Future<Output = Result<Outcome, NotAdmitted>> + Send;
}
