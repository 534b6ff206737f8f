//! The variables the worker reads, their defaults, and SQS's and the worker's limits on them.

use std::time::Duration;

use crate::ops::config::policy::POLICY_VARIABLES;
use crate::ops::notify;

/// `ECS_CLUSTER` when unset: the cluster ECS itself calls `default`.
pub const DEFAULT_CLUSTER: &str = "default";
/// `ECS_TIMEOUT` when unset: how long a rollout may take, as in the old script.
pub const DEFAULT_ECS_TIMEOUT: Duration = Duration::from_secs(300);
/// `ECS_POLL_INTERVAL` when unset: how often a rollout is checked.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// `SQS_WAIT_TIME` when unset: the longest long poll SQS allows.
pub const DEFAULT_WAIT_TIME: Duration = Duration::from_secs(20);
/// `SQS_VISIBILITY_TIMEOUT` when unset: how long a received message stays hidden before the worker extends it.
pub const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(60);
/// `SQS_MAX_HOLD` when unset: half an hour short of SQS's 12-hour limit.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(11 * 3600 + 30 * 60);
/// The shortest `SQS_MAX_HOLD`.
pub const MIN_HOLD: Duration = Duration::from_secs(60);
/// SQS keeps a received message hidden at most 12 hours from its receipt.
pub const SQS_VISIBILITY_LIMIT: Duration = Duration::from_secs(12 * 3600);
/// How long a deployment whose hold ended may take to settle its message.
pub const HOLD_SETTLING: Duration = Duration::from_secs(60);

/// `CONCURRENCY` when unset: deployments of different services in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 10;
/// `SHUTDOWN_GRACE` when unset: under the 30 seconds ECS waits between SIGTERM and SIGKILL.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// `UNHEALTHY_AFTER` when unset (unless twice the longest quiet time of a healthy worker is more).
pub const DEFAULT_UNHEALTHY_AFTER: Duration = Duration::from_secs(120);

/// The variables the configuration itself reads (besides the AWS SDK's own and `RUST_LOG`): the worker's
/// settings, and the one ECS sets for the task metadata. The notification sinks list theirs
/// ([`crate::ops::notify::variables`]) and the policy its own ([`POLICY_VARIABLES`]); [`variables`] gives
/// them all.
pub const CONFIG_VARIABLES: &[&str] = &[
    "SQS_URL",
    "ECS_CLUSTER",
    "ECS_TIMEOUT",
    "ECS_POLL_INTERVAL",
    "SQS_WAIT_TIME",
    "SQS_VISIBILITY_TIMEOUT",
    "SQS_MAX_HOLD",
    "ROLLBACK_ON_FAILURE",
    "VERIFY",
    "CONCURRENCY",
    "ECS_API_SHARE",
    "ECS_API_LIMITS",
    "KEEP_REVISIONS",
    "SHUTDOWN_GRACE",
    "LOG_FORMAT",
    "HTTP_LISTEN",
    "UNHEALTHY_AFTER",
    "LOG_TAIL_LINES",
    "WORKER_SERVICE",
    "ECS_CONTAINER_METADATA_URI_V4",
];

/// Every variable the worker reads: the configuration's, the notification sinks' and the policy's.
pub fn variables() -> impl Iterator<Item = &'static str> {
    CONFIG_VARIABLES
        .iter()
        .copied()
        .chain(notify::variables())
        .chain(POLICY_VARIABLES.iter().copied())
}

/// Whether the worker reads `name`.
pub fn is_variable(name: &str) -> bool {
    variables().any(|v| v == name)
}

/// The most lines `LOG_TAIL_LINES` asks for: GetLogEvents answers at most 10,000, and a report is no place
/// for more than a screenful.
pub const MAX_LOG_TAIL_LINES: usize = 100;

/// The most revisions `KEEP_REVISIONS` keeps: housekeeping reads a family's newest 100.
pub const MAX_KEEP_REVISIONS: usize = 99;
/// The most deployments one worker runs at once. The whole account's DescribeServices budget (20 calls a
/// second, ten services each) reads 1000 services every 5 s; past that every rollout is read less often
/// than the default `ECS_POLL_INTERVAL` even with the whole budget, and noticing the end of each takes
/// longer for all of them.
pub const MAX_CONCURRENCY: usize = 1000;
/// SQS caps a long poll at 20 seconds.
pub const MAX_WAIT_TIME: Duration = Duration::from_secs(20);
/// SQS caps a message's visibility timeout at 12 hours.
pub const MAX_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);
