//! Operations, what the people running the worker set and see: its configuration from the environment,
//! notifications to Slack, SNS and reply queues, metrics, and the health and metrics endpoint.

pub mod config;
pub mod health;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod vars;
