//! A one-off task: the container and command a message asks to run on a revision, and whether the task
//! succeeded once it stopped (every essential container exited 0).

use std::collections::BTreeSet;

use serde_json::Value;

/// The most bytes of a command: ECS allows "a total of 8192 characters" for a task's overrides.
const MAX_COMMAND: usize = 8192;

/// What a one-off task runs: a container of the revision, with its command overridden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOff {
    /// The container whose command is overridden.
    pub container: String,
    /// The command it runs instead of its own.
    pub command: Vec<String>,
}

impl OneOff {
    /// Reads `{"container": "app", "command": ["bin/migrate"]}`; the error names the member at fault.
    pub fn read(body: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(body).map_err(|e| {
            format!("not JSON ({e}): give {{\"container\": NAME, \"command\": [WORDS...]}}")
        })?;
        Self::from_value(&value)
    }

    /// [`OneOff::read`] of a parsed body.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let container = value
            .get("container")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or("member 'container' is missing or not a container name")?;
        let command: Vec<String> = value
            .get("command")
            .and_then(Value::as_array)
            .ok_or("member 'command' is missing or not a list of strings")?
            .iter()
            .map(|word| word.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("member 'command' must be a list of strings")?;
        if command.is_empty() {
            return Err("member 'command' is empty: give the command to run".into());
        }
        if command.iter().map(String::len).sum::<usize>() > MAX_COMMAND {
            return Err(format!(
                "member 'command' is longer than ECS takes ({MAX_COMMAND} characters)"
            ));
        }
        if let Some(key) = value.as_object().and_then(|o| {
            o.keys()
                .find(|k| !matches!(k.as_str(), "container" | "command"))
        }) {
            return Err(format!(
                "member '{key}' is not one a one-off task takes: only 'container' and 'command'"
            ));
        }
        Ok(Self {
            container: container.to_owned(),
            command,
        })
    }
}

/// The essential containers of a task definition's request members (`essential` is true unless `false`).
pub fn essential_containers(request: &serde_json::Map<String, Value>) -> BTreeSet<String> {
    request
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("essential").and_then(Value::as_bool) != Some(false))
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Whether the task definition's request members have a container named `name`.
pub fn has_container(request: &serde_json::Map<String, Value>, name: &str) -> bool {
    request
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

/// A one-off task as DescribeTasks showed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskEnd {
    /// Its lastStatus.
    pub last_status: String,
    /// ECS's stopCode, once stopped.
    pub stop_code: Option<String>,
    /// ECS's stoppedReason, once stopped.
    pub stopped_reason: Option<String>,
    /// Each container's name, exit code (once it exited) and reason.
    pub containers: Vec<(String, Option<i32>, Option<String>)>,
}

/// How a one-off task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Not stopped yet.
    Running,
    /// Every essential container exited 0.
    Succeeded,
    /// Something else: the reason, naming the container, its exit code and ECS's words.
    Failed(String),
}

/// Whether the task `end` shows succeeded: stopped, with every container in `essential` exited 0. A
/// container that never exited failed to start (ECS's stop reason says why).
pub fn judge(end: &TaskEnd, essential: &BTreeSet<String>) -> Ended {
    if end.last_status != "STOPPED" {
        return Ended::Running;
    }
    let ecs_said = end
        .stopped_reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    for (name, exit, reason) in end
        .containers
        .iter()
        .filter(|(n, ..)| essential.contains(n))
    {
        let why = reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        match exit {
            Some(0) => {}
            Some(code) => {
                return Ended::Failed(format!(
                    "container {name} exited with code {code}{why}{ecs_said}"
                ));
            }
            None => {
                return Ended::Failed(format!(
                    "container {name} did not run to its end{why}{ecs_said}"
                ));
            }
        }
    }
    Ended::Succeeded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_off_names_a_container_and_a_command() {
        assert_eq!(
            OneOff::read(r#"{"container": "app", "command": ["bin/rake", "db:migrate"]}"#),
            Ok(OneOff {
                container: "app".into(),
                command: vec!["bin/rake".into(), "db:migrate".into()],
            })
        );
        for (body, says) in [
            ("nope", "not JSON"),
            (r#"{"command": ["x"]}"#, "'container'"),
            (r#"{"container": " ", "command": ["x"]}"#, "'container'"),
            (r#"{"container": "app"}"#, "'command'"),
            (
                r#"{"container": "app", "command": "bin/migrate"}"#,
                "'command'",
            ),
            (r#"{"container": "app", "command": [1]}"#, "'command'"),
            (r#"{"container": "app", "command": []}"#, "empty"),
            (
                r#"{"container": "app", "command": ["x"], "environment": []}"#,
                "'environment'",
            ),
        ] {
            let err = OneOff::read(body).expect_err(body);
            assert!(err.contains(says), "{body}: {err} should say {says}");
        }
        let long = serde_json::json!({"container": "app", "command": ["x".repeat(8193)]});
        assert!(OneOff::from_value(&long).is_err());
    }

    #[test]
    fn a_task_succeeds_when_every_essential_container_exited_zero() {
        let essential: BTreeSet<String> = ["app".to_owned()].into();
        let end = |status: &str, app: Option<i32>, sidecar: Option<i32>| TaskEnd {
            last_status: status.into(),
            stop_code: Some("EssentialContainerExited".into()),
            stopped_reason: Some("Essential container in task exited".into()),
            containers: vec![("app".into(), app, None), ("sidecar".into(), sidecar, None)],
        };
        assert_eq!(
            judge(&end("RUNNING", None, None), &essential),
            Ended::Running
        );
        assert_eq!(
            judge(&end("STOPPED", Some(0), Some(143)), &essential),
            Ended::Succeeded
        );
        let Ended::Failed(why) = judge(&end("STOPPED", Some(3), Some(143)), &essential) else {
            panic!("a non-zero exit fails");
        };
        assert!(
            why.contains("container app exited with code 3")
                && why.contains("Essential container in task exited"),
            "{why}"
        );
        let never = TaskEnd {
            last_status: "STOPPED".into(),
            stop_code: Some("TaskFailedToStart".into()),
            stopped_reason: Some("CannotPullContainerError: not found".into()),
            containers: vec![("app".into(), None, None)],
        };
        let Ended::Failed(why) = judge(&never, &essential) else {
            panic!("a task that never ran fails");
        };
        assert!(
            why.contains("did not run") && why.contains("CannotPullContainerError"),
            "{why}"
        );
    }
}
