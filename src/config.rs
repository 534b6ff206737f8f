//! The worker's configuration, read from the environment with the old script's variable names.
//!
//! Every variable is read as text by envy and then parsed here, so an error names the variable and says what
//! was wrong with its value: `ECS_TIMEOUT: expected a duration such as 300, 30s, 500ms or 5m, got "soon"`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

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

/// `CONCURRENCY` when unset: deployments of different services in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 10;
/// `SHUTDOWN_GRACE` when unset: under the 30 seconds ECS waits between SIGTERM and SIGKILL.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// `UNHEALTHY_AFTER` when unset (unless twice the longest quiet time of a healthy worker is more).
pub const DEFAULT_UNHEALTHY_AFTER: Duration = Duration::from_secs(120);

/// `SLACK_BOTNAME` when unset: the name Slack shows the notifications under.
pub const DEFAULT_SLACK_BOTNAME: &str = "ecs-deployment";

/// Every variable the worker reads (besides the AWS SDK's own and `RUST_LOG`).
pub const VARIABLES: [&str; 16] = [
    "SQS_URL",
    "ECS_CLUSTER",
    "ECS_TIMEOUT",
    "ECS_POLL_INTERVAL",
    "SQS_WAIT_TIME",
    "SQS_VISIBILITY_TIMEOUT",
    "ROLLBACK_ON_FAILURE",
    "CONCURRENCY",
    "SHUTDOWN_GRACE",
    "LOG_FORMAT",
    "SLACK_WEBHOOK",
    "SLACK_CHANNEL",
    "SLACK_BOTNAME",
    "SNS_TOPIC",
    "HTTP_LISTEN",
    "UNHEALTHY_AFTER",
];

/// The most deployments one worker runs at once: each holds a message and polls ECS.
const MAX_CONCURRENCY: usize = 100;
/// SQS caps a long poll at 20 seconds.
const MAX_WAIT_TIME: Duration = Duration::from_secs(20);
/// SQS caps a message's visibility timeout at 12 hours.
const MAX_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);

/// Everything the worker needs to know before its first AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// `ROLLBACK_ON_FAILURE`: whether a failed or timed-out rollout is rolled back to the task definition the
    /// service ran before.
    pub rollback_on_failure: bool,
    /// `CONCURRENCY`: how many deployments (each of a different service) run at once.
    pub concurrency: usize,
    /// `SHUTDOWN_GRACE`: after SIGTERM or SIGINT, how long deployments in flight may take to settle before
    /// their messages are released to another worker.
    pub shutdown_grace: Duration,
    /// `LOG_FORMAT`: human-readable text or one JSON object per line.
    pub log_format: LogFormat,
    /// `SLACK_WEBHOOK`, `SLACK_CHANNEL`, `SLACK_BOTNAME`: where Slack notifications go, when set.
    pub slack: Option<Slack>,
    /// `SNS_TOPIC`: the topic ARN notifications are published to as JSON, when set.
    pub sns_topic: Option<String>,
    /// `HTTP_LISTEN`: where `/healthz`, `/readyz` and `/metrics` are served, when set.
    pub http_listen: Option<SocketAddr>,
    /// `UNHEALTHY_AFTER`: how long the worker may go without reaching SQS before `/healthz` says it is
    /// unhealthy; by default 2 minutes, or twice the longest quiet time of a healthy worker if that is more.
    pub unhealthy_after: Duration,
}

/// A Slack incoming webhook, as the old script's variables name it.
#[derive(Clone, PartialEq, Eq)]
pub struct Slack {
    /// `SLACK_WEBHOOK`: the incoming webhook's URL. A secret: it is never logged.
    pub webhook: String,
    /// `SLACK_CHANNEL`: the channel to post in, when not the webhook's own.
    pub channel: Option<String>,
    /// `SLACK_BOTNAME`: the name the posts appear under.
    pub botname: String,
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack")
            .field("webhook", &"(secret)")
            .field("channel", &self.channel)
            .field("botname", &self.botname)
            .finish()
    }
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

/// The variables as text, before parsing; envy maps each field to the upper-case variable of its name.
#[derive(Debug, Default, Deserialize)]
struct RawEnv {
    sqs_url: Option<String>,
    ecs_cluster: Option<String>,
    ecs_timeout: Option<String>,
    ecs_poll_interval: Option<String>,
    sqs_wait_time: Option<String>,
    sqs_visibility_timeout: Option<String>,
    rollback_on_failure: Option<String>,
    concurrency: Option<String>,
    shutdown_grace: Option<String>,
    log_format: Option<String>,
    slack_webhook: Option<String>,
    slack_channel: Option<String>,
    slack_botname: Option<String>,
    sns_topic: Option<String>,
    http_listen: Option<String>,
    unhealthy_after: Option<String>,
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
        // Only variables of ours reach envy, so a malformed unrelated one cannot fail it.
        let raw: RawEnv = envy::from_iter(
            vars.into_iter()
                .filter(|(k, _)| VARIABLES.contains(&k.as_str())),
        )
        .map_err(|e| ConfigError::new("environment", e.to_string()))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawEnv) -> Result<Self, ConfigError> {
        let queue_url = non_empty(raw.sqs_url).ok_or_else(|| {
            ConfigError::new(
                "SQS_URL",
                "is not set; give the URL of the deployment queue",
            )
        })?;
        check_queue_url(&queue_url).map_err(|p| ConfigError::new("SQS_URL", p))?;
        let cluster = non_empty(raw.ecs_cluster).unwrap_or_else(|| DEFAULT_CLUSTER.to_owned());

        let rollout_timeout = duration("ECS_TIMEOUT", raw.ecs_timeout, DEFAULT_ECS_TIMEOUT)?;
        if rollout_timeout.is_zero() {
            return Err(ConfigError::new("ECS_TIMEOUT", "must be more than 0"));
        }
        let poll_interval = duration(
            "ECS_POLL_INTERVAL",
            raw.ecs_poll_interval,
            DEFAULT_POLL_INTERVAL,
        )?;
        if poll_interval.is_zero() {
            return Err(ConfigError::new("ECS_POLL_INTERVAL", "must be more than 0"));
        }
        let wait_time = duration("SQS_WAIT_TIME", raw.sqs_wait_time, DEFAULT_WAIT_TIME)?;
        if wait_time > MAX_WAIT_TIME || wait_time.subsec_nanos() != 0 {
            return Err(ConfigError::new(
                "SQS_WAIT_TIME",
                "must be whole seconds from 0 to 20 (SQS's long-poll limit)",
            ));
        }
        let visibility_timeout = duration(
            "SQS_VISIBILITY_TIMEOUT",
            raw.sqs_visibility_timeout,
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
        let rollback_on_failure = match non_empty(raw.rollback_on_failure) {
            None => true,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                ConfigError::new(
                    "ROLLBACK_ON_FAILURE",
                    format!("expected true or false, got {v:?}"),
                )
            })?,
        };
        let concurrency = match non_empty(raw.concurrency) {
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
        let shutdown_grace =
            duration("SHUTDOWN_GRACE", raw.shutdown_grace, DEFAULT_SHUTDOWN_GRACE)?;
        let log_format = match non_empty(raw.log_format)
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
        let slack = match non_empty(raw.slack_webhook) {
            None => None,
            Some(webhook) => {
                check_http_url(&webhook).map_err(|p| ConfigError::new("SLACK_WEBHOOK", p))?;
                Some(Slack {
                    webhook,
                    channel: non_empty(raw.slack_channel),
                    botname: non_empty(raw.slack_botname)
                        .unwrap_or_else(|| DEFAULT_SLACK_BOTNAME.to_owned()),
                })
            }
        };
        let sns_topic = match non_empty(raw.sns_topic) {
            None => None,
            Some(topic) => {
                check_topic_arn(&topic).map_err(|p| ConfigError::new("SNS_TOPIC", p))?;
                Some(topic)
            }
        };
        let http_listen = non_empty(raw.http_listen)
            .map(|v| parse_listen(&v))
            .transpose()?;
        // A healthy worker reaches SQS at least every long poll, or every heartbeat while it is too busy to
        // receive.
        let quiet = wait_time.max(visibility_timeout / 3);
        let unhealthy_after = match non_empty(raw.unhealthy_after) {
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
        Ok(Self {
            queue_url,
            cluster,
            rollout_timeout,
            poll_interval,
            wait_time,
            visibility_timeout,
            rollback_on_failure,
            concurrency,
            shutdown_grace,
            log_format,
            slack,
            sns_topic,
            http_listen,
            unhealthy_after,
        })
    }

    /// The AWS region named by the queue's URL (`https://sqs.eu-west-1.amazonaws.com/...`), used when the
    /// SDK's chain gives none.
    pub fn queue_region(&self) -> Option<String> {
        region_of_queue_url(&self.queue_url)
    }
}

/// The AWS region an SQS queue URL names (`https://sqs.eu-west-1.amazonaws.com/...` or the legacy
/// `https://eu-west-1.queue.amazonaws.com/...`).
pub fn region_of_queue_url(queue_url: &str) -> Option<String> {
    let host = queue_url.split("://").nth(1)?.split(['/', ':']).next()?;
    let mut labels = host.split('.');
    match (labels.next(), labels.next()) {
        (Some("sqs"), Some(region)) if host.contains(".amazonaws.com") => Some(region.to_owned()),
        (Some(region), Some("queue")) if host.contains(".amazonaws.com") => Some(region.to_owned()),
        _ => None,
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn check_queue_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("expected a queue URL starting with https://, got {url:?}"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() || path.trim_matches('/').is_empty() || url.contains(char::is_whitespace) {
        return Err(format!(
            "expected a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/deployments, got {url:?}"
        ));
    }
    Ok(())
}

/// Reads `HTTP_LISTEN`: `host:port`, `:port` or a bare port (both meaning every interface).
pub fn parse_listen(text: &str) -> Result<SocketAddr, ConfigError> {
    let text = text.trim();
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        ConfigError::new(
            "HTTP_LISTEN",
            format!("expected an address such as 0.0.0.0:8080, :8080 or 8080, got {text:?}"),
        )
    })
}

/// An `http://` or `https://` URL with a host.
fn check_http_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(())
        }
        // The URL is a secret: say what is wrong without repeating it.
        _ => Err("expected an https:// URL of a Slack incoming webhook".to_owned()),
    }
}

/// An SNS topic ARN: `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
fn check_topic_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "sns"
        && parts.iter().all(|p| !p.is_empty())
        && !arn.contains(char::is_whitespace)
    {
        Ok(())
    } else {
        Err(format!(
            "expected a topic ARN such as arn:aws:sns:us-east-1:123456789012:deployments, got {arn:?}"
        ))
    }
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

/// A bare number of seconds (`300`, `0.5`) or a number with a unit (`500ms`, `30s`, `5m`, `1h 30m`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    humantime::parse_duration(text).ok()
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/deployments";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let c = config(&[("SQS_URL", QUEUE), ("PATH", "/bin")]).expect("valid");
        assert_eq!(c.queue_url, QUEUE);
        assert_eq!(c.cluster, "default");
        assert_eq!(c.rollout_timeout, Duration::from_secs(300));
        assert_eq!(c.poll_interval, Duration::from_secs(5));
        assert_eq!(c.wait_time, Duration::from_secs(20));
        assert_eq!(c.visibility_timeout, Duration::from_secs(60));
        assert!(c.rollback_on_failure);
        assert_eq!(c.concurrency, 10);
        assert_eq!(c.shutdown_grace, Duration::from_secs(25));
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.slack, None);
        assert_eq!(c.sns_topic, None);
        assert_eq!(c.http_listen, None);
        assert_eq!(c.unhealthy_after, Duration::from_secs(120));
        let long = config(&[("SQS_URL", QUEUE), ("SQS_VISIBILITY_TIMEOUT", "12h")]).expect("valid");
        assert_eq!(long.unhealthy_after, Duration::from_secs(8 * 60 * 60));
    }

    #[test]
    fn every_variable_is_read() {
        let c = config(&[
            ("SQS_URL", QUEUE),
            ("ECS_CLUSTER", "prod"),
            ("ECS_TIMEOUT", "5m"),
            ("ECS_POLL_INTERVAL", "500ms"),
            ("SQS_WAIT_TIME", "0"),
            ("SQS_VISIBILITY_TIMEOUT", "2m"),
            ("ROLLBACK_ON_FAILURE", "false"),
            ("CONCURRENCY", "3"),
            ("SHUTDOWN_GRACE", "0"),
            ("LOG_FORMAT", "JSON"),
            (
                "SLACK_WEBHOOK",
                "https://hooks.slack.com/services/T0/B0/xyzzy",
            ),
            ("SLACK_CHANNEL", "#deploys"),
            (
                "SNS_TOPIC",
                "arn:aws:sns:eu-west-1:123456789012:deployments",
            ),
            ("HTTP_LISTEN", ":9090"),
        ])
        .expect("valid");
        assert_eq!(c.cluster, "prod");
        assert_eq!(c.rollout_timeout, Duration::from_secs(300));
        assert_eq!(c.poll_interval, Duration::from_millis(500));
        assert_eq!(c.wait_time, Duration::ZERO);
        assert_eq!(c.visibility_timeout, Duration::from_secs(120));
        assert!(!c.rollback_on_failure);
        assert_eq!(c.concurrency, 3);
        assert_eq!(c.shutdown_grace, Duration::ZERO);
        assert_eq!(c.log_format, LogFormat::Json);
        let slack = c.slack.expect("slack");
        assert_eq!(slack.channel.as_deref(), Some("#deploys"));
        assert_eq!(slack.botname, DEFAULT_SLACK_BOTNAME);
        assert!(
            !format!("{slack:?}").contains("xyzzy"),
            "the webhook is never shown"
        );
        assert_eq!(
            c.sns_topic.as_deref(),
            Some("arn:aws:sns:eu-west-1:123456789012:deployments")
        );
        assert_eq!(c.http_listen, Some(SocketAddr::from(([0, 0, 0, 0], 9090))));
    }

    #[test]
    fn http_listen_takes_an_address_or_a_port() {
        for (text, expected) in [
            ("8080", "0.0.0.0:8080"),
            (":8080", "0.0.0.0:8080"),
            ("127.0.0.1:9000", "127.0.0.1:9000"),
            ("[::1]:9000", "[::1]:9000"),
        ] {
            let parsed = parse_listen(text).expect(text);
            assert_eq!(parsed.to_string(), expected, "{text}");
        }
        for text in ["", "localhost", "host:port", "1.2.3.4:99999"] {
            assert_eq!(parse_listen(text).expect_err(text).variable, "HTTP_LISTEN");
        }
    }

    #[test]
    fn durations_accept_seconds_and_units() {
        for (text, expected) in [
            ("300", Duration::from_secs(300)),
            ("0.5", Duration::from_millis(500)),
            ("500ms", Duration::from_millis(500)),
            ("30s", Duration::from_secs(30)),
            ("5m", Duration::from_secs(300)),
            ("1h 30m", Duration::from_secs(5400)),
            (" 7s ", Duration::from_secs(7)),
        ] {
            assert_eq!(parse_duration(text), Some(expected), "{text}");
        }
        for text in ["", "soon", "-1", "5 parsecs", "NaN", "1e400"] {
            assert_eq!(parse_duration(text), None, "{text}");
        }
    }

    #[test]
    fn each_error_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "SQS_URL"),
            (&[("SQS_URL", "  ")], "SQS_URL"),
            (&[("SQS_URL", "deployments")], "SQS_URL"),
            (&[("SQS_URL", "https://sqs.amazonaws.com")], "SQS_URL"),
            (
                &[("SQS_URL", QUEUE), ("ECS_TIMEOUT", "soon")],
                "ECS_TIMEOUT",
            ),
            (&[("SQS_URL", QUEUE), ("ECS_TIMEOUT", "0")], "ECS_TIMEOUT"),
            (
                &[("SQS_URL", QUEUE), ("ECS_POLL_INTERVAL", "0s")],
                "ECS_POLL_INTERVAL",
            ),
            (
                &[("SQS_URL", QUEUE), ("SQS_WAIT_TIME", "21")],
                "SQS_WAIT_TIME",
            ),
            (
                &[("SQS_URL", QUEUE), ("SQS_WAIT_TIME", "500ms")],
                "SQS_WAIT_TIME",
            ),
            (
                &[("SQS_URL", QUEUE), ("SQS_VISIBILITY_TIMEOUT", "13h")],
                "SQS_VISIBILITY_TIMEOUT",
            ),
            (
                &[("SQS_URL", QUEUE), ("SQS_VISIBILITY_TIMEOUT", "0")],
                "SQS_VISIBILITY_TIMEOUT",
            ),
            (
                &[("SQS_URL", QUEUE), ("ROLLBACK_ON_FAILURE", "maybe")],
                "ROLLBACK_ON_FAILURE",
            ),
            (&[("SQS_URL", QUEUE), ("CONCURRENCY", "0")], "CONCURRENCY"),
            (
                &[("SQS_URL", QUEUE), ("CONCURRENCY", "many")],
                "CONCURRENCY",
            ),
            (&[("SQS_URL", QUEUE), ("CONCURRENCY", "101")], "CONCURRENCY"),
            (
                &[("SQS_URL", QUEUE), ("SHUTDOWN_GRACE", "later")],
                "SHUTDOWN_GRACE",
            ),
            (&[("SQS_URL", QUEUE), ("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (
                &[("SQS_URL", QUEUE), ("SLACK_WEBHOOK", "hooks.slack.com/x")],
                "SLACK_WEBHOOK",
            ),
            (
                &[("SQS_URL", QUEUE), ("SNS_TOPIC", "deployments")],
                "SNS_TOPIC",
            ),
            (
                &[
                    ("SQS_URL", QUEUE),
                    ("SNS_TOPIC", "arn:aws:sqs:us-east-1:1:q"),
                ],
                "SNS_TOPIC",
            ),
            (&[("SQS_URL", QUEUE), ("HTTP_LISTEN", "x")], "HTTP_LISTEN"),
            (
                &[("SQS_URL", QUEUE), ("UNHEALTHY_AFTER", "20s")],
                "UNHEALTHY_AFTER",
            ),
        ];
        for (vars, variable) in cases {
            let err = config(vars).expect_err("invalid");
            assert_eq!(err.variable, *variable, "{vars:?}");
            assert!(err.to_string().starts_with(variable), "{err}");
        }
    }

    #[test]
    fn region_comes_from_an_aws_queue_url() {
        let region = |url: &str| config(&[("SQS_URL", url)]).expect("valid").queue_region();
        assert_eq!(region(QUEUE).as_deref(), Some("eu-west-1"));
        assert_eq!(
            region("https://ap-south-1.queue.amazonaws.com/1/q").as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(region("http://127.0.0.1:5000/123456789012/q"), None);
    }
}
