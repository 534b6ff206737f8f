//! ecs-deployment: deploys Amazon ECS services from an Amazon SQS queue.
//!
//! A message's body is a task definition and its `service` attribute names the service. The worker
//! registers the task definition, points the service at it, watches the rollout until the service's running
//! tasks have really adopted it (or it failed, or `ECS_TIMEOUT` passed, in which case it rolls back), and only
//! then deletes the message. Layout:
//!
//! - [`config`]: the environment variables, their defaults, and one-line errors naming a bad one.
//! - [`message`] and [`task_definition`]: a message read as a deployment request, or the reason it is
//!   rejected; the body checked against ECS's request shape and passed on unchanged.
//! - [`rollout`]: the pure judgement of one observation: done, in progress, or failed and why.
//! - [`outcome`]: how a deployment ended and the pure decision of what happens to its message.
//! - [`marker`]: the tags that mark a registered revision with its message, and the pure decision of where
//!   a redelivered message resumes.
//! - [`schedule`]: the pure decision of which message runs when (one per service, in the order sent).
//! - [`deploy`]: one deployment's steps, its watch and its rollback; [`poller`]: the DescribeServices
//!   calls every watched rollout shares.
//! - [`worker`]: the receive loop, concurrency, settling, graceful stop and the final log line;
//!   [`inflight`]: the messages held and the heartbeat that keeps them hidden; [`shutdown`]: stop requests.
//! - [`notify`]: Slack, SNS and reply notifications that never hold a deployment up; [`metrics`] and
//!   [`http`]: the counters, `/metrics`, `/healthz` and `/readyz`.
//! - [`cli`]: the subcommands for producers and operators (validate, send, status, diff, healthcheck).
//! - [`ecs`] and [`sqs`]: thin adapters over the AWS SDK; [`error`]: AWS errors classified by what
//!   happens next.

pub mod cli;
pub mod config;
pub mod deploy;
pub mod ecs;
pub mod error;
pub mod http;
pub mod inflight;
pub mod marker;
pub mod message;
pub mod metrics;
pub mod notify;
pub mod outcome;
pub mod poller;
pub mod rollout;
pub mod schedule;
pub mod shutdown;
pub mod sqs;
pub mod task_definition;
pub mod worker;

pub use config::Config;
pub use shutdown::{Shutdown, StopSender};
pub use worker::{Clients, Report, Stop, run};
