//! ecs-sim: a simulator of the Amazon ECS control plane for tests and local demos.
//!
//! It speaks the AWS JSON 1.1 protocol on one HTTP port, so aws-sdk-ecs and the `aws` CLI use it unchanged,
//! and it rolls deployments out over simulated time the way ECS does. Layout, each file one job, no file
//! importing one that imports it back (the worker's `layout` test checks it):
//!
//! - The HTTP side: [`server`] (the ECS endpoint, the ticker, and [`SimServer`] for tests),
//!   [`control_api`] (the `/_sim/` control API), [`shared`] (what they share, and one simulated second).
//! - The operations: [`api`] dispatches each validated request (ECS's request shapes come from the
//!   `ecs-model` crate) to one file per resource; [`request`] reads a request's common members.
//! - The control plane's data, each rendered as ECS renders it: [`state`], [`cluster`], [`service`],
//!   [`deployment`] (a `deployments[]` entry), [`task`], [`task_definition`], [`configuration`] (a
//!   `deploymentConfiguration`), [`service_revision`], [`service_deployment`] (ECS's record of a
//!   deployment), [`hook_run`]; [`identity`] (region and account), [`json`] (JSON helpers).
//! - Simulated time: [`tick`] (one second), [`task_lifecycle`] (a task's statuses), [`scheduler`] (what a
//!   cluster's second works with), [`rolling`] (the rolling update), [`lifecycle`] (a service deployment
//!   by its status), [`stages`] (the blue/green, linear and canary stages), [`hooks`] (lifecycle hooks),
//!   [`failure`] (failing and rolling back).
//! - Around it: [`registry`] (image digests, from an ECR endpoint when one is configured),
//!   [`behaviour`] (the `ecs-sim.behaviour` docker label that decides what tasks do), [`control`] (injected
//!   faults and call statistics), [`limits`] (ECS's API rate limits), [`lag`] (eventually consistent
//!   reads), [`error`] (ECS error codes and HTTP statuses).

pub mod api;
pub mod behaviour;
pub mod cluster;
pub mod configuration;
pub mod control;
pub mod control_api;
pub mod deployment;
pub mod error;
pub mod failure;
pub mod hook_run;
pub mod hooks;
pub mod identity;
pub mod json;
pub mod lag;
pub mod lifecycle;
pub mod limits;
pub mod logs;
pub mod registry;
pub mod request;
pub mod rolling;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod service_deployment;
pub mod service_revision;
pub mod shared;
pub mod stages;
pub mod state;
pub mod task;
pub mod task_definition;
pub mod task_lifecycle;
pub mod tick;

pub use identity::Identity;
pub use lag::StaleReads;
pub use server::{Config, SimServer, serve};
