//! ecs-sim: a simulator of the Amazon ECS control plane for tests and local demos.
//!
//! It speaks the AWS JSON 1.1 protocol on one HTTP port, so aws-sdk-ecs and the `aws` CLI use it unchanged,
//! and it rolls deployments out over simulated time the way ECS does. Layout:
//!
//! - [`server`]: the HTTP endpoint, the `/_sim/` control API, the ticker, and [`SimServer`] for tests.
//! - [`api`]: one function per ECS operation, on validated requests; [`deployment_api`]: the
//!   service-deployment ones.
//! - request validation comes from the `ecs-model` crate (ECS request shapes from botocore's model).
//! - [`state`]: clusters, task definitions, services, deployments and tasks, rendered as ECS renders them.
//! - [`rollout`]: the per-second task lifecycle and rolling-update scheduler, circuit breaker included.
//! - [`configuration`]: a service's `deploymentConfiguration`: strategy, bake times, hooks, alarms.
//! - [`service_deployment`]: service revisions and service deployments, ECS's record of each deployment.
//! - [`lifecycle`]: how each service deployment goes, stage by stage, and how it fails and rolls back;
//!   [`hooks`]: its lifecycle hooks.
//! - [`registry`]: image digests, resolved by an ECR endpoint when one is configured.
//! - [`behaviour`]: the `ecs-sim.behaviour` docker label that decides what tasks do.
//! - [`control`]: injected faults and call statistics; [`limits`]: ECS's API rate limits.
//! - [`lag`]: eventually consistent reads, which may see the state of a few simulated seconds ago.
//! - [`error`]: ECS error codes and HTTP statuses.

pub mod api;
pub mod behaviour;
pub mod configuration;
pub mod control;
pub mod deployment_api;
pub mod error;
pub mod hooks;
pub mod lag;
pub mod lifecycle;
pub mod limits;
pub mod registry;
pub mod rollout;
pub mod server;
pub mod service_deployment;
pub mod state;

pub use server::{Config, SimServer, StaleReads, serve};
pub use state::Identity;
