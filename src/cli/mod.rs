//! The subcommands for producers and operators, beside the worker itself: [`validate`] a message body
//! offline, [`send`] one (and follow it with `--wait`), show a service's [`status`], [`diff`] a task
//! definition against the service's, answer a lifecycle hook a deployment waits at ([`proceed`], the
//! `continue` subcommand), show a service's deployments ([`history`]), [`promote`] what one service runs to another, and probe the worker's health
//! endpoint ([`healthcheck`]).
//!
//! They share their arguments ([`args`]), exit codes ([`exit`]) and progress line ([`progress`]), and take
//! every rule and AWS call from the modules the worker uses.

pub mod admit;
pub mod args;
pub mod diff;
pub mod exit;
pub mod follow;
pub mod healthcheck;
pub mod history;
pub mod proceed;
pub mod progress;
pub mod promote;
pub mod send;
pub mod status;
pub mod validate;

pub use exit::{EXIT_AWS, EXIT_NO, EXIT_NO_OUTCOME, EXIT_OK, EXIT_USAGE, Failure};
