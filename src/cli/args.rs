//! The arguments several subcommands share, read as the worker reads its variables: the queue, the
//! cluster, a FILE to read, and durations.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_ecs::types::Service;

use crate::aws::ecs::Ecs;
use crate::cli::exit::Failure;
use crate::ops::config::parse_duration;

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
    /// The ECS cluster [default: default]. A message sent to the queue names it (attribute `cluster`)
    /// when given, so the worker deploys where the command looks.
    #[arg(long = "cluster", env = "ECS_CLUSTER", value_name = "NAME")]
    pub given: Option<String>,
}

impl ClusterArg {
    /// The cluster given, or `default` as the worker takes it.
    pub fn name(&self) -> &str {
        self.given
            .as_deref()
            .unwrap_or(crate::ops::config::DEFAULT_CLUSTER)
    }
}

/// The service named on the command line, as ECS describes it in `ecs`'s cluster; a missing one is an
/// error naming both.
pub async fn described_service(ecs: &Ecs, service: &str) -> Result<Service, Failure> {
    ecs.describe_services(&[service.to_owned()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Failure::aws(format!(
                "service '{service}' not found in cluster '{}'",
                ecs.cluster()
            ))
        })
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

/// Reads a duration argument as the worker reads its variables: `300`, `30s`, `500ms`, `5m`.
pub fn duration_arg(text: &str) -> Result<Duration, String> {
    parse_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("expected a duration such as 30s, 500ms or 5m, got {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_workers() {
        assert_eq!(duration_arg("90"), Ok(Duration::from_secs(90)));
        assert_eq!(duration_arg("500ms"), Ok(Duration::from_millis(500)));
        assert!(duration_arg("0").is_err());
        assert!(duration_arg("soon").is_err());
    }
}
