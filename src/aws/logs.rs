//! The CloudWatch Logs call that reads the last lines of a failed task's log stream (GetLogEvents).

use aws_sdk_cloudwatchlogs::config::Region;

use crate::aws::error::AwsError;
use crate::decide::log_tail::LogStream;

/// Reads log streams' last lines.
#[derive(Debug, Clone)]
pub struct LogTail {
    /// The CloudWatch Logs client; a stream's own region overrides its region.
    client: aws_sdk_cloudwatchlogs::Client,
}

impl LogTail {
    /// Reads through `client`.
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> Self {
        Self { client }
    }

    /// The last `limit` lines of `stream`, oldest first.
    pub async fn last_lines(
        &self,
        stream: &LogStream,
        limit: usize,
    ) -> Result<Vec<String>, AwsError> {
        let mut config = aws_sdk_cloudwatchlogs::config::Builder::default();
        if let Some(region) = &stream.region {
            config = config.region(Region::new(region.clone()));
        }
        let out = self
            .client
            .get_log_events()
            .log_group_name(&stream.group)
            .log_stream_name(&stream.stream)
            .start_from_head(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .customize()
            .config_override(config)
            .send()
            .await
            .map_err(|e| AwsError::new("GetLogEvents", e))?;
        Ok(out
            .events()
            .iter()
            .filter_map(|e| e.message().map(str::to_owned))
            .collect())
    }
}
