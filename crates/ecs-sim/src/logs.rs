//! Task output in CloudWatch Logs: what the containers that use the `awslogs` log driver write, sent to a
//! CloudWatch Logs endpoint (moto's server) in each container's log stream.
//!
//! The developer guide's "Using the awslogs log driver": `awslogs-group` names the log group,
//! `awslogs-stream-prefix` the stream's prefix, the stream being "prefix-name/container-name/ecs-task-id";
//! `awslogs-create-group` "creates the log group automatically". *Inferred:* what a simulated container
//! writes: a line when it starts, and one with its exit code when it exits.

use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use serde_json::Value;

/// Where a container's output goes, read from its `logConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsLogs {
    /// `awslogs-group`.
    pub group: String,
    /// `awslogs-stream-prefix`; `ecs-sim` when not given.
    pub prefix: String,
    /// `awslogs-region`; the simulator's region when not given.
    pub region: Option<String>,
    /// `awslogs-create-group` is `true`.
    pub create_group: bool,
}

impl AwsLogs {
    /// The awslogs configuration of a container definition, if it uses that driver.
    pub fn of(definition: &Value) -> Option<Self> {
        let config = definition.get("logConfiguration")?;
        if config.get("logDriver").and_then(Value::as_str) != Some("awslogs") {
            return None;
        }
        let option = |name: &str| {
            config
                .get("options")
                .and_then(|o| o.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(Self {
            group: option("awslogs-group")?,
            prefix: option("awslogs-stream-prefix").unwrap_or_else(|| "ecs-sim".to_owned()),
            region: option("awslogs-region"),
            create_group: option("awslogs-create-group").as_deref() == Some("true"),
        })
    }
}

/// One line a container wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Where it goes.
    pub logs: AwsLogs,
    /// The log stream: `prefix/container/task-id`.
    pub stream: String,
    /// The line.
    pub message: String,
    /// When, epoch milliseconds.
    pub timestamp_ms: i64,
}

/// A CloudWatch Logs endpoint the lines are sent to.
#[derive(Debug, Clone)]
pub struct LogSink {
    /// A client of CloudWatch Logs where it is served; each call names its line's region.
    client: aws_sdk_cloudwatchlogs::Client,
}

impl LogSink {
    /// A sink served at `endpoint`.
    pub fn new(endpoint: &str) -> Self {
        let config = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "ecs-sim", "ecs-sim", None, None, "ecs-sim",
            ))
            .endpoint_url(endpoint)
            .build();
        Self {
            client: aws_sdk_cloudwatchlogs::Client::from_conf(config),
        }
    }

    /// Writes `lines`, each into its stream (made when missing, and its group too where the container asks
    /// for that); a line that cannot be written is dropped, as a container's output is when its log group
    /// is gone.
    pub async fn write(&self, lines: Vec<LogLine>, default_region: &str) {
        for line in lines {
            let region = line
                .logs
                .region
                .clone()
                .unwrap_or_else(|| default_region.to_owned());
            let config =
                aws_sdk_cloudwatchlogs::Config::builder().region(Region::new(region.clone()));
            if line.logs.create_group {
                let _ = self
                    .client
                    .create_log_group()
                    .log_group_name(&line.logs.group)
                    .customize()
                    .config_override(config.clone())
                    .send()
                    .await;
            }
            let _ = self
                .client
                .create_log_stream()
                .log_group_name(&line.logs.group)
                .log_stream_name(&line.stream)
                .customize()
                .config_override(config.clone())
                .send()
                .await;
            let Ok(event) = InputLogEvent::builder()
                .message(&line.message)
                .timestamp(line.timestamp_ms)
                .build()
            else {
                continue;
            };
            let _ = self
                .client
                .put_log_events()
                .log_group_name(&line.logs.group)
                .log_stream_name(&line.stream)
                .log_events(event)
                .customize()
                .config_override(config)
                .send()
                .await;
        }
    }
}
