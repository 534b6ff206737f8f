//! Pure decisions: what a message asks for, whether the policy admits it, whether a rollout is done, how a
//! deployment ended and what happens to its message, where a redelivery resumes, which message runs when.
//!
//! Nothing here calls AWS, waits or does I/O: no `aws_sdk_*`, no `tokio` (the `layout` test fails if a
//! module of this folder uses either). Every rule is a function of plain values with a table test; the
//! runtime gathers the values and carries out the verdict.

pub mod budget;
pub mod classes;
pub mod deadline;
pub mod digests;
pub mod ecs_verdict;
pub mod ending;
pub mod escalation;
pub mod evidence;
pub mod guard;
pub mod history;
pub mod housekeeping;
pub mod image_update;
pub mod ledger;
pub mod log_tail;
pub mod marker;
pub mod members;
pub mod message;
pub mod names;
pub mod one_off;
pub mod outcome;
pub mod policy;
pub mod preflight;
pub mod privilege;
pub mod promotion;
pub mod refusal;
pub mod resources;
pub mod revert;
pub mod rollout;
pub mod sameness;
pub mod schedule;
pub mod service;
pub mod task_definition;
