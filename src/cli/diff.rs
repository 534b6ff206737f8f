//! `ecs-deployment diff`: what would change between a service's current task definition and a file, as a
//! unified diff of the JSON.

use std::io::IsTerminal;

use serde_json::{Map, Value};
use similar::TextDiff;

use crate::aws::ecs::Ecs;
use crate::aws::sdk::sdk_config;
use crate::cli::args::{ClusterArg, InputFile, described_service, read_input};
use crate::cli::exit::{EXIT_NO, EXIT_OK, Failure};
use crate::decide::marker::TAG_PREFIX;
use crate::decide::names::short_arn;
use crate::decide::task_definition::{TaskDefinition, described_members};

/// Lines of context around each change.
const CONTEXT_LINES: usize = 3;

/// Show what would change between the service's current task definition and FILE.
///
/// Both sides are read as the worker reads a message body (read-only members dropped) and shown as
/// JSON with sorted members. Values ECS fills in by default (an empty list, `essential: true`, a
/// container's `cpu: 0`, a port mapping's `protocol: tcp`) and the worker's own `ecs-deployment:` tags
/// are left out, so only real changes show.
///
/// Exit codes: 0 no changes, 1 changes, 2 wrong usage or invalid FILE, 3 AWS unreachable or refused
/// (or no such service).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The ECS service (name or ARN) whose task definition is compared.
    #[arg(long, value_name = "SERVICE")]
    pub service: String,
    #[command(flatten)]
    pub cluster: ClusterArg,
    /// The task definition to compare, as a message body; `-` reads standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub file: InputFile,
}

/// A task definition as the diff shows it: defaults and the worker's tags left out, members sorted.
pub fn comparable(request: &Map<String, Value>) -> Value {
    let mut request = request.clone();
    if let Some(Value::Array(tags)) = request.get_mut("tags") {
        tags.retain(|t| {
            !t.get("key")
                .and_then(Value::as_str)
                .is_some_and(|k| k.starts_with(TAG_PREFIX))
        });
        tags.sort_by(|a, b| {
            a.get("key")
                .map(Value::to_string)
                .cmp(&b.get("key").map(Value::to_string))
        });
    }
    if let Some(Value::Array(containers)) = request.get_mut("containerDefinitions") {
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            if container.get("essential") == Some(&Value::Bool(true)) {
                container.remove("essential");
            }
            if container.get("cpu").and_then(Value::as_i64) == Some(0) {
                container.remove("cpu");
            }
            if let Some(Value::Array(ports)) = container.get_mut("portMappings") {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    if port.get("protocol").and_then(Value::as_str) == Some("tcp") {
                        port.remove("protocol");
                    }
                }
            }
        }
    }
    tidy(Value::Object(request)).unwrap_or(Value::Object(Map::new()))
}

/// Drops nulls, empty lists and empty objects; sorts object members.
fn tidy(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().filter_map(tidy).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(members) => {
            let mut sorted: Vec<(String, Value)> = members
                .into_iter()
                .filter_map(|(k, v)| Some((k, tidy(v)?)))
                .collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            (!sorted.is_empty()).then(|| Value::Object(sorted.into_iter().collect()))
        }
        other => Some(other),
    }
}

/// The unified diff from `old` to `new` (empty when they are the same).
pub fn diff(old: &Value, new: &Value, old_name: &str, new_name: &str) -> String {
    let old = serde_json::to_string_pretty(old).unwrap_or_default() + "\n";
    let new = serde_json::to_string_pretty(new).unwrap_or_default() + "\n";
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(old_name, new_name)
        .to_string()
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    let body = read_input(&args.file)?;
    let new = TaskDefinition::from_body(&body)
        .map_err(|reason| Failure::usage(format!("{}: invalid: {reason}", args.file.display())))?;
    let sdk = sdk_config(None).await?;
    let ecs = Ecs::new(aws_sdk_ecs::Client::new(&sdk), args.cluster.name());
    let service = described_service(&ecs, &args.service).await?;
    let Some(current) = service.task_definition() else {
        return Err(Failure::aws(format!(
            "service '{}' has no task definition",
            args.service
        )));
    };
    let json = ecs.task_definition_json(current).await?;
    let old = comparable(&described_members(&json).map_err(Failure::aws)?);
    let text = diff(
        &old,
        &comparable(new.request()),
        &format!("service {} ({})", args.service, short_arn(current)),
        &args.file.display().to_string(),
    );
    if text.is_empty() {
        println!(
            "no changes: {} matches service {} ({})",
            args.file.display(),
            args.service,
            short_arn(current)
        );
        return Ok(EXIT_OK);
    }
    let color = std::io::stdout().is_terminal();
    for line in text.lines() {
        match (color, line.chars().next()) {
            (true, Some('+')) if !line.starts_with("+++") => println!("\x1b[32m{line}\x1b[0m"),
            (true, Some('-')) if !line.starts_with("---") => println!("\x1b[31m{line}\x1b[0m"),
            (true, Some('@')) => println!("\x1b[36m{line}\x1b[0m"),
            _ => println!("{line}"),
        }
    }
    Ok(EXIT_NO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn defaults_and_marker_tags_are_not_changes() {
        let described = request(json!({
            "family": "web",
            "volumes": [],
            "containerDefinitions": [{"name": "web", "image": "nginx:1", "cpu": 0, "essential": true,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}], "environment": [],
                "mountPoints": []}],
            "tags": [{"key": "ecs-deployment:message-id", "value": "m"}, {"key": "team", "value": "a"}],
        }));
        let file = request(json!({
            "containerDefinitions": [{"image": "nginx:1", "name": "web",
                "portMappings": [{"containerPort": 80}]}],
            "family": "web",
            "tags": [{"key": "team", "value": "a"}],
        }));
        assert_eq!(comparable(&described), comparable(&file));
        assert_eq!(
            diff(&comparable(&described), &comparable(&file), "a", "b"),
            ""
        );
    }

    #[test]
    fn a_changed_image_shows_as_one_changed_line() {
        let old = comparable(&request(json!({"family": "web",
            "containerDefinitions": [{"name": "web", "image": "nginx:1"}]})));
        let new = comparable(&request(json!({"family": "web",
            "containerDefinitions": [{"name": "web", "image": "nginx:2"}]})));
        let text = diff(&old, &new, "service web (web:4)", "taskdef.json");
        assert!(
            text.starts_with("--- service web (web:4)\n+++ taskdef.json\n"),
            "{text}"
        );
        assert!(
            text.contains("-      \"image\": \"nginx:1\",")
                || text.contains("-      \"image\": \"nginx:1\""),
            "{text}"
        );
        assert!(text.contains("+      \"image\": \"nginx:2\""), "{text}");
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                .count(),
            1
        );
    }
}
