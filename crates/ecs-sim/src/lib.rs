//! ecs-sim: a simulator of the Amazon ECS control plane for tests and local demos.
//!
//! It speaks the AWS JSON 1.1 protocol on one HTTP port, so aws-sdk-ecs and the `aws` CLI use it unchanged,
//! and it rolls deployments out over simulated time the way ECS does. Layout:
//!
//! - [`server`]: the HTTP endpoint, the `/_sim/` control API, the ticker, and [`SimServer`] for tests.
//! - [`api`]: one function per ECS operation, on validated requests.
//! - request validation comes from the `ecs-model` crate (ECS request shapes from botocore's model).
//! - [`state`]: clusters, task definitions, services, deployments and tasks, rendered as ECS renders them.
//! - [`rollout`]: the per-second task lifecycle and rolling-update scheduler, circuit breaker included.
//! - [`behaviour`]: the `ecs-sim.behaviour` docker label that decides what tasks do.
//! - [`control`]: injected faults and call statistics.
//! - [`lag`]: eventually consistent reads, which may see the state of a few simulated seconds ago.
//! - [`error`]: ECS error codes and HTTP statuses.

pub mod api;
pub mod behaviour;
pub mod control;
pub mod error;
pub mod lag;
pub mod rollout;
pub mod server;
pub mod state;

pub use server::{Config, SimServer, StaleReads, serve};
pub use state::Identity;
