//! The worker's configuration, read from the environment with the old script's variable names.
//!
//! Every variable is read as text ([`crate::ops::vars::Vars`]) and then parsed here, or by the notification
//! sink that reads it, so an error names the variable and says what was wrong with its value:
//! `ECS_TIMEOUT: expected a duration such as 300, 30s, 500ms or 5m, got "soon"`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::decide::budget::Budget;
use crate::decide::log_tail::DEFAULT_LINES;
use crate::decide::names::region_of_queue_url;
use crate::decide::policy::Policy;
use crate::ops::notify;
use crate::ops::vars::Vars;

mod budget;
pub mod hold;
pub mod policy;
pub mod values;
mod variables;

pub use budget::DEFAULT_API_SHARE;
pub use policy::POLICY_VARIABLES;
pub use variables::*;

pub use values::parse_duration;
use values::{check_queue_url, listen_address, non_empty, parse_bool};

/// Everything the worker needs to know before its first AWS call.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `SQS_URL`: the queue deployment requests arrive on. Required.
    pub queue_url: String,
    /// `ECS_CLUSTER`: the cluster whose services are deployed.
    pub cluster: String,
    /// `ECS_TIMEOUT`: how long a rollout (and, separately, a rollback) may take before it counts as failed.
    pub rollout_timeout: Duration,
    /// `ECS_POLL_INTERVAL`: how often a rollout's state is read from ECS.
    pub poll_interval: Duration,
    /// `SQS_WAIT_TIME`: how long one ReceiveMessage call waits for a message (long polling), whole seconds.
    pub wait_time: Duration,
    /// `SQS_VISIBILITY_TIMEOUT`: how long a message in progress stays hidden from other receivers; the
    /// worker extends it by this much every third of it for as long as the deployment runs.
    pub visibility_timeout: Duration,
    /// `SQS_MAX_HOLD`: how long one delivery of a message may be held from its receipt; a rollout still
    /// going then is given back for the next delivery to watch, as SQS keeps a message hidden at most 12
    /// hours.
    pub max_hold: Duration,
    /// `ROLLBACK_ON_FAILURE`: whether a failed or timed-out rollout is rolled back to the task definition the
    /// service ran before.
    pub rollback_on_failure: bool,
    /// `VERIFY`: whether the pre-flight checks look up what a task definition refers to (ECR images,
    /// roles, SSM parameters, secrets, log groups) before registering it, rejecting what is missing.
    pub verify: bool,
    /// `CONCURRENCY`: how many deployments (each of a different service) run at once.
    pub concurrency: usize,
    /// `ECS_API_SHARE` and `ECS_API_LIMITS`: the worker's share of each of the account's ECS API rate
    /// limits, which every ECS call waits its turn in.
    pub api_budget: Budget,
    /// `KEEP_REVISIONS`: after a deployment settles, its family's ACTIVE revisions past the newest N are
    /// deregistered (never one a service runs or would roll back to); unset keeps them all.
    pub keep_revisions: Option<usize>,
    /// `SHUTDOWN_GRACE`: after SIGTERM or SIGINT, how long deployments in flight may take to settle before
    /// their messages are released to another worker.
    pub shutdown_grace: Duration,
    /// `LOG_FORMAT`: human-readable text or one JSON object per line.
    pub log_format: LogFormat,
    /// The notification sinks' variables (`SLACK_*`, `SNS_*`, `TEAMS_WEBHOOK`, `WEBHOOK_*`), each read by
    /// its sink ([`crate::ops::notify`]).
    pub notify: notify::Settings,
    /// `HTTP_LISTEN`: where `/healthz`, `/readyz` and `/metrics` are served, when set.
    pub http_listen: Option<SocketAddr>,
    /// `LOG_TAIL_LINES`: how many of the last log lines of a failed task's essential containers (a
    /// one-off task's, or a failed rollout's last failed task's) its report carries (0: none).
    pub log_tail_lines: usize,
    /// `UNHEALTHY_AFTER`: how long the worker may go without reaching SQS before `/healthz` says it is
    /// unhealthy; by default 2 minutes, or twice the longest quiet time of a healthy worker if that is more.
    pub unhealthy_after: Duration,
    /// `ECS_CONTAINER_METADATA_URI_V4`, which ECS sets in every task: where the worker learns which task,
    /// service and family are its own.
    pub task_metadata_uri: Option<String>,
    /// `WORKER_SERVICE`: the worker's own service (a name in `ECS_CLUSTER`, or an ARN), when it cannot
    /// learn it from ECS's task metadata; no message may deploy it.
    pub worker_service: Option<String>,
    /// The admission policy: `ALLOWED_*`, `DENIED_SERVICES`, `ALLOW_REGISTER_ONLY`, `REQUIRE_IMAGE_DIGEST`
    /// and `POLICY_FILE`.
    pub policy: Policy,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` text for a terminal.
    Text,
    /// One JSON object per line, for CloudWatch Logs and other collectors.
    Json,
}

/// A variable that is missing or has a value the worker cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable, as the user spells it.
    pub variable: &'static str,
    /// What is wrong with it and what is expected.
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the configuration from the given variables (for tests and embedding).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::read(&Vars::new(vars))
    }

    /// Reads the configuration from `vars`.
    pub fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let queue_url = vars.get("SQS_URL").ok_or_else(|| {
            ConfigError::new(
                "SQS_URL",
                "is not set; give the URL of the deployment queue",
            )
        })?;
        check_queue_url(&queue_url).map_err(|p| ConfigError::new("SQS_URL", p))?;
        let cluster = vars
            .get("ECS_CLUSTER")
            .unwrap_or_else(|| DEFAULT_CLUSTER.to_owned());

        let rollout_timeout =
            duration("ECS_TIMEOUT", vars.get("ECS_TIMEOUT"), DEFAULT_ECS_TIMEOUT)?;
        if rollout_timeout.is_zero() {
            return Err(ConfigError::new("ECS_TIMEOUT", "must be more than 0"));
        }
        let poll_interval = duration(
            "ECS_POLL_INTERVAL",
            vars.get("ECS_POLL_INTERVAL"),
            DEFAULT_POLL_INTERVAL,
        )?;
        if poll_interval.is_zero() {
            return Err(ConfigError::new("ECS_POLL_INTERVAL", "must be more than 0"));
        }
        let wait_time = duration(
            "SQS_WAIT_TIME",
            vars.get("SQS_WAIT_TIME"),
            DEFAULT_WAIT_TIME,
        )?;
        if wait_time > MAX_WAIT_TIME || wait_time.subsec_nanos() != 0 {
            return Err(ConfigError::new(
                "SQS_WAIT_TIME",
                "must be whole seconds from 0 to 20 (SQS's long-poll limit)",
            ));
        }
        let visibility_timeout = duration(
            "SQS_VISIBILITY_TIMEOUT",
            vars.get("SQS_VISIBILITY_TIMEOUT"),
            DEFAULT_VISIBILITY_TIMEOUT,
        )?;
        if visibility_timeout < Duration::from_secs(1)
            || visibility_timeout > MAX_VISIBILITY_TIMEOUT
            || visibility_timeout.subsec_nanos() != 0
        {
            return Err(ConfigError::new(
                "SQS_VISIBILITY_TIMEOUT",
                "must be whole seconds from 1s to 12h (SQS's limits)",
            ));
        }
        let max_hold = hold::max_hold(vars.get("SQS_MAX_HOLD"))
            .map_err(|(variable, problem)| ConfigError::new(variable, problem))?;
        let rollback_on_failure = match vars.get("ROLLBACK_ON_FAILURE") {
            None => true,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                ConfigError::new(
                    "ROLLBACK_ON_FAILURE",
                    format!("expected true or false, got {v:?}"),
                )
            })?,
        };
        let verify = match vars.get("VERIFY") {
            None => true,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                ConfigError::new(
                    "VERIFY",
                    format!("expected on or off (true or false), got {v:?}"),
                )
            })?,
        };
        let concurrency = match vars.get("CONCURRENCY") {
            None => DEFAULT_CONCURRENCY,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
                .ok_or_else(|| {
                    ConfigError::new(
                        "CONCURRENCY",
                        format!("expected a whole number from 1 to {MAX_CONCURRENCY}, got {v:?}"),
                    )
                })?,
        };
        let api_budget = budget::read(vars.get("ECS_API_SHARE"), vars.get("ECS_API_LIMITS"))
            .map_err(|(variable, problem)| ConfigError::new(variable, problem))?;
        let keep_revisions = match vars.get("KEEP_REVISIONS") {
            None => None,
            Some(v) => Some(
                v.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_KEEP_REVISIONS).contains(n))
                    .ok_or_else(|| {
                        ConfigError::new(
                            "KEEP_REVISIONS",
                            format!(
                                "expected a whole number from 1 to {MAX_KEEP_REVISIONS} (unset keeps every revision), got {v:?}"
                            ),
                        )
                    })?,
            ),
        };
        let shutdown_grace = duration(
            "SHUTDOWN_GRACE",
            vars.get("SHUTDOWN_GRACE"),
            DEFAULT_SHUTDOWN_GRACE,
        )?;
        let log_format = match vars
            .get("LOG_FORMAT")
            .as_deref()
            .map(str::to_ascii_lowercase)
        {
            None => LogFormat::Text,
            Some(f) if f == "text" => LogFormat::Text,
            Some(f) if f == "json" => LogFormat::Json,
            Some(f) => {
                return Err(ConfigError::new(
                    "LOG_FORMAT",
                    format!("expected text or json, got {f:?}"),
                ));
            }
        };
        let notify = notify::Settings::read(vars)
            .map_err(|(variable, problem)| ConfigError::new(variable, problem))?;
        let http_listen = vars
            .get("HTTP_LISTEN")
            .map(|v| parse_listen(&v))
            .transpose()?;
        // A healthy worker reaches SQS at least every long poll, or every heartbeat while it is too busy to
        // receive.
        let quiet = wait_time.max(visibility_timeout / 3);
        let unhealthy_after = match vars.get("UNHEALTHY_AFTER") {
            None => DEFAULT_UNHEALTHY_AFTER.max(2 * quiet),
            Some(v) => {
                let after = duration("UNHEALTHY_AFTER", Some(v), Duration::ZERO)?;
                if after <= quiet {
                    return Err(ConfigError::new(
                        "UNHEALTHY_AFTER",
                        format!(
                            "must be more than SQS_WAIT_TIME and a third of SQS_VISIBILITY_TIMEOUT ({}), or a healthy worker would look unhealthy",
                            humantime::format_duration(quiet)
                        ),
                    ));
                }
                after
            }
        };
        let policy = policy::read(
            &vars.pairs(|name| POLICY_VARIABLES.contains(&name)),
            &cluster,
        )
        .map_err(|(variable, problem)| ConfigError::new(variable, problem))?;
        let log_tail_lines = match vars.get("LOG_TAIL_LINES") {
            None => DEFAULT_LINES,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= MAX_LOG_TAIL_LINES)
                .ok_or_else(|| {
                    ConfigError::new(
                        "LOG_TAIL_LINES",
                        format!(
                            "expected a whole number from 0 to {MAX_LOG_TAIL_LINES}, got {v:?}"
                        ),
                    )
                })?,
        };
        let worker_service = vars.get("WORKER_SERVICE");
        let task_metadata_uri = vars.get("ECS_CONTAINER_METADATA_URI_V4");
        Ok(Self {
            queue_url,
            cluster,
            rollout_timeout,
            poll_interval,
            wait_time,
            visibility_timeout,
            max_hold,
            rollback_on_failure,
            verify,
            concurrency,
            api_budget,
            keep_revisions,
            shutdown_grace,
            log_format,
            notify,
            http_listen,
            unhealthy_after,
            log_tail_lines,
            task_metadata_uri,
            worker_service,
            policy,
        })
    }

    /// The AWS region named by the queue's URL (`https://sqs.eu-west-1.amazonaws.com/...`), used when the
    /// SDK's chain gives none.
    pub fn queue_region(&self) -> Option<String> {
        region_of_queue_url(&self.queue_url)
    }
}

/// Reads `HTTP_LISTEN`: `host:port`, `:port` or a bare port (both meaning every interface).
pub fn parse_listen(text: &str) -> Result<SocketAddr, ConfigError> {
    listen_address(text).map_err(|problem| ConfigError::new("HTTP_LISTEN", problem))
}

/// Parses a variable's duration, or gives `default` when it is unset or empty.
fn duration(
    variable: &'static str,
    value: Option<String>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match non_empty(value) {
        None => Ok(default),
        Some(v) => parse_duration(&v).ok_or_else(|| {
            ConfigError::new(
                variable,
                format!("expected a duration such as 300, 30s, 500ms or 5m, got {v:?}"),
            )
        }),
    }
}

#[cfg(test)]
mod tests;
