//! The subcommands for producers and operators, beside the worker itself: [`validate`] a message body
//! offline, [`send`] one (and follow it with `--wait`), show a service's [`status`], [`diff`] a task
//! definition against the service's, and probe the worker's health endpoint ([`healthcheck`]).
//!
//! Every subcommand exits with one of the codes below, so scripts can tell "no" from "could not ask".

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::config::region_of_queue_url;
use crate::error::AwsError;

pub mod diff;
pub mod healthcheck;
pub mod send;
pub mod status;
pub mod validate;

/// Success: valid, sent, deployed, shown, no differences, healthy.
pub const EXIT_OK: u8 = 0;
/// The answer is no: invalid message, failed deployment, differences found, unhealthy worker.
pub const EXIT_NO: u8 = 1;
/// Wrong usage: a bad or missing argument, variable or file.
pub const EXIT_USAGE: u8 = 2;
/// AWS could not be reached or refused (unreachable endpoint, missing queue or service, access denied).
pub const EXIT_AWS: u8 = 3;
/// `send --wait` gave up: no outcome within `--timeout`.
pub const EXIT_NO_OUTCOME: u8 = 4;

/// How long connecting to an AWS endpoint may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much longer than its long-poll wait (if any) one attempt of an AWS call may take.
pub const ATTEMPT_MARGIN: Duration = Duration::from_secs(20);

/// Why a subcommand stopped, and the exit code that says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// One of the `EXIT_*` codes.
    pub exit: u8,
    /// What went wrong, naming the argument, variable, file or AWS call.
    pub message: String,
}

impl Failure {
    /// A wrong argument, variable or file.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// The answer is no.
    pub fn no(message: impl Into<String>) -> Self {
        Self {
            exit: EXIT_NO,
            message: message.into(),
        }
    }

    /// AWS could not be reached or refused.
    pub fn aws(message: impl Into<String>) -> Self {
        Self {
            exit: EXIT_AWS,
            message: message.into(),
        }
    }
}

impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Self {
        Self::aws(e.to_string())
    }
}

/// The queue, from `--queue-url` or `SQS_URL`, as the worker takes it.
#[derive(Debug, Clone, clap::Args)]
pub struct QueueArg {
    /// The deployment queue's URL.
    #[arg(long, env = "SQS_URL", value_name = "URL")]
    pub queue_url: Option<String>,
}

impl QueueArg {
    /// The queue URL, or a usage error naming both ways to give it.
    pub fn required(&self) -> Result<&str, Failure> {
        self.queue_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Failure::usage("no queue: give --queue-url or set SQS_URL"))
    }
}

/// The cluster, from `--cluster` or `ECS_CLUSTER`, as the worker takes it.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArg {
    /// The ECS cluster.
    #[arg(long, env = "ECS_CLUSTER", default_value = crate::config::DEFAULT_CLUSTER, value_name = "NAME")]
    pub cluster: String,
}

/// Reads FILE, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<String, Failure> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

/// The FILE argument every body-taking subcommand has.
pub type InputFile = PathBuf;

/// The SDK's configuration from its standard chain (environment, profile, container or instance role),
/// every call attempt bounded by the longest long poll (`long_poll`, zero for none) plus
/// [`ATTEMPT_MARGIN`], so no call can hang; without a region anywhere, the one in `queue_url`.
pub async fn sdk_config(
    queue_url: Option<&str>,
    long_poll: Duration,
) -> Result<SdkConfig, Failure> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(long_poll + ATTEMPT_MARGIN)
        .build();
    // Stalled-stream protection would watch a long poll, silent by design, with a 100 ms timer: ten
    // wake-ups a second while the worker is idle. Every attempt is already bounded by the timeout above.
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if std::env::var_os("AWS_REGION").is_none()
        && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        && let Some(region) = queue_url.and_then(region_of_queue_url)
    {
        // Profiles and instance metadata may still give a region; the queue URL's is the fallback.
        loader = loader.region(
            aws_config::meta::region::RegionProviderChain::default_provider()
                .or_else(Region::new(region)),
        );
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(Failure::usage(
            "AWS_REGION: is not set, and no queue URL names a region; set AWS_REGION or a profile's region",
        ));
    }
    Ok(sdk)
}

/// A line of progress on standard error: rewritten in place on a terminal, printed when it changes
/// otherwise.
#[derive(Debug, Default)]
pub struct ProgressLine {
    /// The last line shown.
    last: String,
    /// Whether standard error is a terminal.
    terminal: bool,
    /// Whether a line is on the screen without its newline.
    open: bool,
}

impl ProgressLine {
    /// A progress line for this process's standard error.
    pub fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            ..Self::default()
        }
    }

    /// Shows `line`; `changed` is what counts as news (the part without a ticking clock).
    pub fn show(&mut self, line: &str, changed: &str) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            self.open = true;
        } else if changed != self.last {
            let _ = writeln!(err, "{line}");
        }
        self.last = changed.to_owned();
    }

    /// Ends the line in place, so what follows starts on a fresh one.
    pub fn finish(&mut self) {
        if self.open {
            let _ = writeln!(std::io::stderr());
            self.open = false;
        }
    }
}
