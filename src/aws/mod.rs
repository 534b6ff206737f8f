//! Thin adapters over the AWS SDK: the SDK's configuration, ECS, SQS and SNS calls turned into plain values,
//! AWS errors classified by what happens next, and the service poller every watched rollout shares.
//!
//! Each adapter makes one kind of call and decides nothing: what a call's answer means is for
//! [`crate::decide`], and when to call again is for [`crate::runtime`].

pub mod attempts;
pub mod body;
pub mod ecr;
pub mod ecs;
pub mod error;
pub mod identity;
pub mod limiter;
pub mod logs;
pub mod lookups;
pub mod poller;
pub mod sdk;
pub mod sns;
pub mod sqs;
