//! The log lines that explain a failed task: which CloudWatch Logs streams its essential containers wrote
//! to (the `awslogs` driver's `prefix/container/task-id`), and the last lines of them, bounded.

use serde_json::{Map, Value};

/// `LOG_TAIL_LINES` when unset: the last lines shown of each failed container.
pub const DEFAULT_LINES: usize = 20;
/// The most bytes of log lines one report carries: a Slack attachment or an SNS message stays small.
pub const MAX_BYTES: usize = 4096;
/// The most bytes of one line; a longer one is cut, and says so.
const MAX_LINE: usize = 512;

/// The log stream a container of a task wrote to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStream {
    /// The container.
    pub container: String,
    /// `awslogs-group`.
    pub group: String,
    /// `awslogs-stream-prefix/container/task-id`.
    pub stream: String,
    /// `awslogs-region`, when given.
    pub region: Option<String>,
}

/// The log streams of task `task_id`'s essential containers that use the `awslogs` driver with a stream
/// prefix (without one, the stream is named by a container id that ECS does not report).
pub fn streams(members: &Map<String, Value>, task_id: &str) -> Vec<LogStream> {
    members
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("essential").and_then(Value::as_bool) != Some(false))
        .filter_map(|c| {
            let config = c.get("logConfiguration")?;
            if config.get("logDriver").and_then(Value::as_str) != Some("awslogs") {
                return None;
            }
            let option = |name: &str| {
                config
                    .get("options")
                    .and_then(|o| o.get(name))
                    .and_then(Value::as_str)
            };
            let container = c.get("name").and_then(Value::as_str)?;
            Some(LogStream {
                container: container.to_owned(),
                group: option("awslogs-group")?.to_owned(),
                stream: format!("{}/{container}/{task_id}", option("awslogs-stream-prefix")?),
                region: option("awslogs-region").map(str::to_owned),
            })
        })
        .collect()
}

/// The last of `lines` (oldest first) that fit in `max_bytes`, each prefixed with its container and cut
/// at `MAX_LINE` bytes.
pub fn bounded(container: &str, lines: &[String], max_bytes: usize) -> Vec<String> {
    let mut kept = Vec::new();
    let mut used = 0;
    for line in lines.iter().rev() {
        let line = line.trim_end();
        let cut = match line.char_indices().nth(MAX_LINE) {
            Some((at, _)) => format!("[{container}] {}...", &line[..at]),
            None => format!("[{container}] {line}"),
        };
        if used + cut.len() > max_bytes {
            break;
        }
        used += cut.len();
        kept.push(cut);
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_essential_awslogs_container_with_a_prefix_has_a_stream() {
        let members = json!({"containerDefinitions": [
            {"name": "app", "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/web", "awslogs-stream-prefix": "web", "awslogs-region": "eu-west-1"}}},
            {"name": "sidecar", "essential": false, "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/web", "awslogs-stream-prefix": "web"}}},
            {"name": "no-prefix", "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/web"}}},
            {"name": "splunk", "logConfiguration": {"logDriver": "splunk"}}
        ]});
        let members = members.as_object().cloned().unwrap_or_default();
        assert_eq!(
            streams(&members, "abc123"),
            [LogStream {
                container: "app".into(),
                group: "/ecs/web".into(),
                stream: "web/app/abc123".into(),
                region: Some("eu-west-1".into()),
            }]
        );
    }

    #[test]
    fn the_last_lines_are_kept_within_the_bytes() {
        let lines: Vec<String> = (1..=10).map(|i| format!("line {i}")).collect();
        assert_eq!(
            bounded("app", &lines, 40),
            ["[app] line 8", "[app] line 9", "[app] line 10"]
        );
        let long = vec!["x".repeat(600)];
        let cut = bounded("app", &long, MAX_BYTES);
        assert!(
            cut[0].ends_with("...") && cut[0].len() < 530,
            "{}",
            cut[0].len()
        );
        assert!(bounded("app", &[], MAX_BYTES).is_empty());
    }
}
