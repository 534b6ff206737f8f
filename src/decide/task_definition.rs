//! A message body turned into the RegisterTaskDefinition request that is sent to ECS.
//!
//! The body is what `aws ecs register-task-definition --cli-input-json` takes, or what
//! `aws ecs describe-task-definition` prints. It is checked against the ECS request shape from botocore's
//! model (the `ecs-model` crate), so a member ECS does not know is rejected naming its path, as the CLI
//! rejects it, and then sent to ECS as JSON: every member the model knows reaches ECS unchanged, with no
//! per-member mapping to fall behind when ECS adds one.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::decide::marker;

/// Members that `describe-task-definition` prints but RegisterTaskDefinition does not take: ECS sets them.
pub const READ_ONLY_MEMBERS: [&str; 8] = [
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// The largest task definition ECS registers, in bytes: "Task definition size: 64 KiB" (Amazon ECS service
/// quotas, developer guide). A larger one is refused before any call.
pub const MAX_TASK_DEFINITION_BYTES: usize = 64 * 1024;

/// A RegisterTaskDefinition request that fits ECS's request shape.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefinition {
    /// The request, members as given (null members dropped, as the JSON protocol treats them as absent).
    request: Map<String, Value>,
}

impl TaskDefinition {
    /// Reads a message body; the error says what is wrong and, for a member, names its path.
    pub fn from_body(body: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(body).map_err(|e| {
            format!("the message body is not JSON ({e}); it must be a task definition")
        })?;
        let Value::Object(mut object) = value else {
            return Err(
                "the message body is not a JSON object; it must be a task definition".into(),
            );
        };
        if let Some(inner) = object.remove("taskDefinition") {
            // The describe-task-definition output: {"taskDefinition": {...}, "tags": [...]}.
            let Value::Object(mut inner) = inner else {
                return Err("member 'taskDefinition' is not an object".into());
            };
            let tags = object.remove("tags");
            if let Some(other) = object.keys().next() {
                return Err(format!(
                    "unknown member '{other}' beside 'taskDefinition' (a describe-task-definition output has only 'taskDefinition' and 'tags')"
                ));
            }
            if let Some(tags) =
                tags.filter(|t| !t.is_null() && t.as_array().is_none_or(|a| !a.is_empty()))
                && !inner.contains_key("tags")
            {
                inner.insert("tags".into(), tags);
            }
            object = inner;
        }
        for member in READ_ONLY_MEMBERS {
            object.remove(member);
        }
        let checked = ecs_model::model()
            .validate("RegisterTaskDefinition", &Value::Object(object))
            .map_err(|invalid| format!("task definition: {invalid}"))?;
        let bytes = checked.to_string().len();
        if bytes > MAX_TASK_DEFINITION_BYTES {
            return Err(format!(
                "task definition: {bytes} bytes, more than the {MAX_TASK_DEFINITION_BYTES} (64 KiB) ECS registers"
            ));
        }
        match checked {
            Value::Object(request) => Ok(Self { request }),
            _ => Err("task definition: not an object".into()),
        }
    }

    /// The task definition family (a required member, so always present).
    pub fn family(&self) -> &str {
        self.request
            .get("family")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The containers whose health check decides its tasks' health (see [`health_checked`]): its tasks
    /// count as started only once ECS reports them HEALTHY.
    pub fn health_checked_containers(&self) -> BTreeSet<String> {
        health_checked(&self.request)
    }

    /// The request body sent to ECS.
    pub fn to_json(&self) -> String {
        // Serializing a map of JSON values cannot fail.
        serde_json::to_string(&self.request).unwrap_or_default()
    }

    /// The request as JSON members.
    pub fn request(&self) -> &Map<String, Value> {
        &self.request
    }

    /// The same request with the worker's marker tags: the producer's own tags are kept, except those
    /// under [`marker::TAG_PREFIX`], which only the worker writes.
    pub fn with_marker_tags(&self, marks: &[(String, String)]) -> Result<Self, String> {
        let mut request = self.request.clone();
        let mut tags: Vec<Value> = request
            .remove("tags")
            .and_then(|t| match t {
                Value::Array(tags) => Some(tags),
                _ => None,
            })
            .unwrap_or_default()
            .into_iter()
            .filter(|t| {
                !t.get("key")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.starts_with(marker::TAG_PREFIX))
            })
            .collect();
        if tags.len() + marker::MARKER_TAGS > marker::MAX_TAGS {
            return Err(format!(
                "task definition: member 'tags' has {} tags; at most {} leave room for the {} tags \
                 ecs-deployment adds (ECS allows {})",
                tags.len(),
                marker::MAX_TAGS - marker::MARKER_TAGS,
                marker::MARKER_TAGS,
                marker::MAX_TAGS
            ));
        }
        tags.extend(
            marks
                .iter()
                .map(|(key, value)| serde_json::json!({"key": key, "value": value})),
        );
        request.insert("tags".into(), Value::Array(tags));
        Ok(Self { request })
    }
}

/// Names of the containers whose health check decides a task's health, as ECS decides it: the essential
/// containers that define one ("It's determined by the health of the essential containers in the task",
/// `Task.healthStatus`), or, when none does, the non-essential ones that do ("The container health check
/// status of nonessential containers only affects the health status of a task if no essential containers
/// have health checks defined", `HealthCheck`). A container is essential unless it says `"essential":
/// false`.
pub fn health_checked(members: &Map<String, Value>) -> BTreeSet<String> {
    let containers: Vec<&Value> = members
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("healthCheck").is_some_and(|h| !h.is_null()))
        .collect();
    let essential = |c: &&Value| c.get("essential").and_then(Value::as_bool) != Some(false);
    let deciding: Vec<&Value> = if containers.iter().any(essential) {
        containers.into_iter().filter(essential).collect()
    } else {
        containers
    };
    deciding
        .into_iter()
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// A described task definition (`{"taskDefinition": ..., "tags": ...}`, as DescribeTaskDefinition answers)
/// as RegisterTaskDefinition members, read as a message body is; a member the model does not know (ECS is
/// newer than it) is kept as described rather than failing the read.
pub fn described_members(json: &str) -> Result<Map<String, Value>, String> {
    if let Ok(td) = TaskDefinition::from_body(json) {
        return Ok(td.request);
    }
    let mut value: Value = serde_json::from_str(json)
        .map_err(|e| format!("DescribeTaskDefinition answered with no JSON: {e}"))?;
    let tags = value.get("tags").cloned();
    let Some(Value::Object(mut inner)) = value.get_mut("taskDefinition").map(Value::take) else {
        return Err("DescribeTaskDefinition answered with no taskDefinition".into());
    };
    for member in READ_ONLY_MEMBERS {
        inner.remove(member);
    }
    if let Some(tags) = tags {
        inner.insert("tags".into(), tags);
    }
    Ok(inner)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn minimal() -> Value {
        json!({"family": "web", "containerDefinitions": [
            {"name": "web", "image": "nginx:1.27", "healthCheck": {"command": ["CMD", "true"]}},
            {"name": "log", "image": "fluent-bit"}]})
    }

    #[test]
    fn essential_containers_decide_a_task_s_health_and_others_only_without_them() {
        let containers = |defs: Value| {
            let mut members = Map::new();
            members.insert("containerDefinitions".into(), defs);
            health_checked(&members).into_iter().collect::<Vec<_>>()
        };
        let check = json!({"command": ["CMD", "true"]});
        let cases = [
            (
                "an essential container's check; a sidecar's does not count",
                json!([{"name": "app", "healthCheck": check},
                       {"name": "sidecar", "essential": false, "healthCheck": check}]),
                vec!["app"],
            ),
            (
                "no essential check: the sidecar's decides",
                json!([{"name": "app", "essential": true},
                       {"name": "sidecar", "essential": false, "healthCheck": check}]),
                vec!["sidecar"],
            ),
            ("no check at all", json!([{"name": "app"}]), vec![]),
            (
                "two essential checks",
                json!([{"name": "a", "healthCheck": check}, {"name": "b", "healthCheck": check}]),
                vec!["a", "b"],
            ),
        ];
        for (case, defs, expected) in cases {
            assert_eq!(containers(defs), expected, "{case}");
        }
    }

    #[test]
    fn a_plain_task_definition_is_taken_as_it_is() {
        let td = TaskDefinition::from_body(&minimal().to_string()).expect("valid");
        assert_eq!(td.family(), "web");
        assert_eq!(Value::Object(td.request().clone()), minimal());
        assert_eq!(
            td.health_checked_containers(),
            BTreeSet::from(["web".to_owned()])
        );
    }

    #[test]
    fn the_describe_output_wrapper_is_unwrapped_and_read_only_members_dropped() {
        let mut inner = minimal();
        for (k, v) in [
            (
                "taskDefinitionArn",
                json!("arn:aws:ecs:us-east-1:1:task-definition/web:3"),
            ),
            ("revision", json!(3)),
            ("status", json!("ACTIVE")),
            (
                "requiresAttributes",
                json!([{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}]),
            ),
            ("compatibilities", json!(["EC2"])),
            ("registeredAt", json!(1_700_000_000.5)),
            ("registeredBy", json!("arn:aws:iam::1:user/ci")),
            ("deregisteredAt", json!(1_700_000_001)),
        ] {
            inner[k] = v;
        }
        let tags = json!([{"key": "team", "value": "web"}]);
        let body = json!({"taskDefinition": inner, "tags": tags});
        let td = TaskDefinition::from_body(&body.to_string()).expect("valid");
        let mut expected = minimal();
        expected["tags"] = tags;
        assert_eq!(Value::Object(td.request().clone()), expected);

        let without_tags = json!({"taskDefinition": minimal(), "tags": []});
        let td = TaskDefinition::from_body(&without_tags.to_string()).expect("valid");
        assert_eq!(Value::Object(td.request().clone()), minimal());
    }

    #[test]
    fn what_is_wrong_is_named() {
        let cases = [
            ("not json".to_owned(), "not JSON"),
            ("[1]".to_owned(), "not a JSON object"),
            (
                json!({"taskDefinition": "web"}).to_string(),
                "'taskDefinition' is not an object",
            ),
            (
                json!({"taskDefinition": minimal(), "ResponseMetadata": {}}).to_string(),
                "'ResponseMetadata'",
            ),
            (
                json!({"family": "web", "containerDefinitions": [{"name": "web", "imag": "x"}]})
                    .to_string(),
                "containerDefinitions[0].imag",
            ),
            (json!({"containerDefinitions": []}).to_string(), "family"),
            (
                json!({"family": "web", "memory": 512}).to_string(),
                "memory",
            ),
            (
                json!({"family": "web", "containerDefinitions": [], "networkMode": "wifi"})
                    .to_string(),
                "networkMode",
            ),
        ];
        for (body, named) in cases {
            let err = TaskDefinition::from_body(&body).expect_err("invalid");
            assert!(err.contains(named), "{body}: {err} should name {named}");
        }
    }

    #[test]
    fn marker_tags_replace_copied_ones_and_keep_the_producers() {
        let mut body = minimal();
        body["tags"] = json!([
            {"key": "team", "value": "web"},
            {"key": "ecs-deployment:message-id", "value": "copied-from-an-old-revision"},
        ]);
        let td = TaskDefinition::from_body(&body.to_string()).expect("valid");
        let marked = td
            .with_marker_tags(&[("ecs-deployment:message-id".into(), "m-1".into())])
            .expect("room for the marks");
        assert_eq!(
            marked.request()["tags"],
            json!([
                {"key": "team", "value": "web"},
                {"key": "ecs-deployment:message-id", "value": "m-1"},
            ])
        );
        assert_eq!(marked.family(), "web");

        let mut crowded = minimal();
        crowded["tags"] = Value::Array(
            (0..48)
                .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
                .collect(),
        );
        let td = TaskDefinition::from_body(&crowded.to_string()).expect("valid");
        let err = td.with_marker_tags(&[]).expect_err("no room");
        assert!(err.contains("'tags'") && err.contains("48"), "{err}");
    }
}
