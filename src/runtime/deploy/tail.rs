//! The last log lines of a failed task: the awslogs streams of its essential containers, read with
//! GetLogEvents within a few seconds, bounded in lines (`LOG_TAIL_LINES`) and bytes.

use std::time::Duration;

use serde_json::{Map, Value};
use tracing::warn;

use crate::aws::ecs::{Ecs, StoppedTask};
use crate::decide::log_tail::{MAX_BYTES, bounded, streams};
use crate::decide::task_definition::described_members;
use crate::runtime::deploy::Deployer;

/// How long reading one log stream (or the task definition naming it) may take: the report waits for it.
const LOG_READ_TIMEOUT: Duration = Duration::from_secs(5);

impl Deployer {
    /// The last lines (`LOG_TAIL_LINES` of each) that the essential containers of `task` logged with the
    /// awslogs driver, bounded in bytes; a stream that cannot be read is named in their place.
    pub(crate) async fn log_tail(&self, members: &Map<String, Value>, task: &str) -> Vec<String> {
        let wanted = self.settings.log_tail_lines;
        if wanted == 0 {
            return Vec::new();
        }
        let task_id = task.rsplit('/').next().unwrap_or(task);
        let mut tail = Vec::new();
        let mut left = MAX_BYTES;
        for stream in streams(members, task_id) {
            let read =
                tokio::time::timeout(LOG_READ_TIMEOUT, self.logs.last_lines(&stream, wanted));
            let lines = match read.await {
                Ok(Ok(lines)) => bounded(&stream.container, &lines, left),
                Ok(Err(e)) => {
                    warn!(group = %stream.group, stream = %stream.stream, error = %e, "a failed task's log stream could not be read");
                    vec![format!(
                        "[{}] log stream {} of {} not read: {e}",
                        stream.container, stream.stream, stream.group
                    )]
                }
                Err(_) => vec![format!(
                    "[{}] log stream {} of {} not read within {LOG_READ_TIMEOUT:?}",
                    stream.container, stream.stream, stream.group
                )],
            };
            left = left.saturating_sub(lines.iter().map(String::len).sum());
            tail.extend(lines);
        }
        tail
    }

    /// The last log lines of a rollout's failed `task`, its log streams read from its task definition.
    pub(crate) async fn failed_task_logs(&self, ecs: &Ecs, task: &StoppedTask) -> Vec<String> {
        if self.settings.log_tail_lines == 0 {
            return Vec::new();
        }
        let read = tokio::time::timeout(
            LOG_READ_TIMEOUT,
            ecs.task_definition_json(&task.task_definition),
        );
        let members = match read.await {
            Ok(Ok(json)) => described_members(&json).unwrap_or_default(),
            Ok(Err(e)) => {
                warn!(task_definition = %task.task_definition, error = %e, "cannot read the failed task's task definition for its logs");
                return Vec::new();
            }
            Err(_) => return Vec::new(),
        };
        self.log_tail(&members, &task.arn).await
    }
}
