//! The runtime that wires the decisions, the AWS adapters and operations together: start-up, the receive
//! loop, running deployments at once, one job's run and settlement, the heartbeat, a deployment's steps,
//! the watch and its rollback, and the drain on stop.

pub mod actions;
pub mod admission;
pub mod clients;
pub mod deploy;
pub mod deployments;
pub mod drain;
pub mod housekeeping;
pub mod identity;
pub mod inflight;
pub mod job;
pub mod ledger;
pub mod preflight;
pub mod receive;
pub mod register;
pub mod retry;
pub mod shutdown;
pub mod startup;
pub mod watch;
pub mod worker;

pub use clients::Clients;
pub use drain::Stop;
pub use shutdown::{Shutdown, StopSender};
pub use startup::WorkerError;
pub use worker::run;
