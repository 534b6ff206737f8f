//! The actions a message may ask for, each a file of its own, listed once in the `actions!` call below.
//!
//! A message's `action` attribute (`deploy` when missing) is read once into an [`Action`]; what every
//! action is asked (its name, what the guard judges before the service's schedule, its steps) is the
//! [`MessageAction`] trait, and [`Action`] dispatches to it with one match per question. Adding an action
//! is a new file here that implements the trait, one line in the list, and its section in
//! `docs/messages.md`.

use std::collections::BTreeMap;

use crate::decide::message::{Asked, Target, action_attribute, unknown_action};
use crate::decide::outcome::Outcome;
use crate::runtime::admission::NotAdmitted;
use crate::runtime::deploy::{Delivery, Deployer, OnMilestone, Summary};

mod message_action;

pub use message_action::MessageAction;

/// Declares the actions, each `Variant in file`: the file's module, its type, the [`Action`] enum with a
/// variant of each, and its dispatch.
macro_rules! actions {
    ($($variant:ident in $file:ident),+ $(,)?) => {
        $(mod $file;)+
        $(pub use $file::$variant;)+

        /// A message's action and what it carries, read once from the message.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Action {
            $(
                #[doc = concat!("The action of [`", stringify!($variant), "`].")]
                $variant($variant),
            )+
        }

        impl Action {
            /// Every action's name, as the `action` attribute spells it.
            pub const NAMES: &[&str] = &[$($variant::NAME),+];

            /// The action named `name`, read from the message; `None` when no action has that name.
            fn read_named(
                name: &str,
                body: &str,
                attributes: &BTreeMap<String, String>,
            ) -> Option<Result<Self, String>> {
                $(
                    if name == $variant::NAME {
                        return Some($variant::read(body, attributes).map(Self::$variant));
                    }
                )+
                None
            }

            /// Its name, as the `action` attribute spells it.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $variant::NAME,)+
                }
            }

            /// Whether it deploys a revision that exists already.
            pub fn reuses_revision(&self) -> bool {
                match self {
                    $(Self::$variant(_) => $variant::REUSES_REVISION,)+
                }
            }

            /// Whether it leaves a record on the revision for `history`.
            pub fn recorded(&self) -> bool {
                match self {
                    $(Self::$variant(_) => $variant::RECORDED,)+
                }
            }

            /// What the guard judges of it before any read of AWS.
            pub fn asked(&self) -> Asked<'_> {
                match self {
                    $(Self::$variant(action) => action.asked(),)+
                }
            }

            /// Carries out its steps (see [`MessageAction::run`]).
            async fn steps(
                &self,
                deployer: &Deployer,
                delivery: &Delivery,
                summary: &mut Summary,
                on_event: OnMilestone<'_>,
            ) -> Result<Outcome, NotAdmitted> {
                match self {
                    $(Self::$variant(action) => action.run(deployer, delivery, summary, on_event).await,)+
                }
            }
        }
    };
}

actions! {
    Deploy in deploy,
    Image in image,
    Redeploy in redeploy,
    Rollback in rollback,
    Run in run,
}

impl Action {
    /// Carries out the message with `deployer` and says how it ended; never panics, never returns early
    /// without an outcome. `on_event` hears when the service points at the new revision, before the
    /// rollout is watched, and when ECS waits at a lifecycle hook.
    pub async fn run(
        &self,
        deployer: &Deployer,
        delivery: &Delivery,
        on_event: OnMilestone<'_>,
    ) -> Summary {
        let mut summary = Summary::untouched(Outcome::Deployed, None);
        summary.outcome = match self.steps(deployer, delivery, &mut summary, on_event).await {
            Ok(outcome) => outcome,
            Err(not_admitted) => {
                summary.refused_by = not_admitted.rule;
                not_admitted.outcome
            }
        };
        summary
    }

    /// Reads a message of any action: its body and its String attributes (name -> value). A message with
    /// no `action` attribute asks for [`Deploy`], the old script's contract.
    ///
    /// The error is the reason the message is rejected, naming the attribute or member at fault.
    pub fn read(body: &str, attributes: &BTreeMap<String, String>) -> Result<Self, String> {
        let name = action_attribute(attributes).unwrap_or(Deploy::NAME);
        Self::read_named(name, body, attributes)
            .unwrap_or_else(|| Err(unknown_action(name, Self::NAMES)))
    }

    /// The target the message names.
    pub fn target(&self) -> Target {
        self.asked().target()
    }

    /// The cluster the message picks; `None` for `ECS_CLUSTER`.
    pub fn cluster(&self) -> Option<&str> {
        self.asked().cluster()
    }
}

#[cfg(test)]
mod tests;
