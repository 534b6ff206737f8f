//! An `image` message: new images for some containers of the task definition a service runs, read from the
//! body and applied to that task definition, which keeps everything else (its tags too).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::decide::names::short_arn;
use crate::decide::task_definition::{TaskDefinition, described_members};

/// The longest image reference ECS takes.
const MAX_IMAGE: usize = 255;

/// Reads an `image` message's body: a JSON object of container name to image.
pub fn images_of(body: &str) -> Result<BTreeMap<String, String>, String> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        format!("the message body is not JSON ({e}); with action 'image' it maps container names to images, as {{\"web\": \"nginx:1.27\"}}")
    })?;
    let Value::Object(object) = value else {
        return Err(
            "the message body must be a JSON object of container name to image (action 'image')"
                .into(),
        );
    };
    if object.is_empty() {
        return Err("the message body names no container (action 'image'); give {\"<container>\": \"<image>\"}".into());
    }
    let mut images = BTreeMap::new();
    for (container, image) in object {
        let Some(image) = image.as_str().map(str::trim) else {
            return Err(format!(
                "body: container '{container}': the image must be a string"
            ));
        };
        if container.trim().is_empty() {
            return Err("body: a container name is empty".into());
        }
        if image.is_empty() || image.len() > MAX_IMAGE || image.contains(char::is_whitespace) {
            return Err(format!(
                "body: container '{container}': the image must be 1 to {MAX_IMAGE} characters without spaces"
            ));
        }
        images.insert(container, image.to_owned());
    }
    Ok(images)
}

/// The task definition `current` (as DescribeTaskDefinition gives it, with its tags), named `revision`,
/// with `images` set; a container it lacks is an error naming it and the ones it has.
pub fn with_images(
    current: &str,
    revision: &str,
    images: &BTreeMap<String, String>,
) -> Result<TaskDefinition, String> {
    let mut members = described_members(current)?;
    let Some(Value::Array(containers)) = members.get_mut("containerDefinitions") else {
        return Err(format!(
            "the task definition {} has no containerDefinitions",
            short_arn(revision)
        ));
    };
    let names: Vec<String> = containers
        .iter()
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    for (container, image) in images {
        let Some(definition) = containers
            .iter_mut()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(container.as_str()))
        else {
            return Err(format!(
                "body: container '{container}' is not in the task definition {} the service runs (its containers: {})",
                short_arn(revision),
                names.join(", ")
            ));
        };
        if let Some(definition) = definition.as_object_mut() {
            definition.insert("image".into(), Value::String(image.clone()));
        }
    }
    TaskDefinition::from_body(&Value::Object(members).to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn described() -> String {
        json!({
            "taskDefinition": {
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/web:7",
                "family": "web", "revision": 7, "status": "ACTIVE",
                "containerDefinitions": [
                    {"name": "app", "image": "app:1", "essential": true},
                    {"name": "log", "image": "fluent-bit:2"}
                ]
            },
            "tags": [{"key": "team", "value": "a"}]
        })
        .to_string()
    }

    #[test]
    fn bodies_map_container_names_to_images() {
        let ok = images_of(r#"{"app": "app:2", "log": " fluent-bit:3 "}"#).expect("valid");
        assert_eq!(ok["app"], "app:2");
        assert_eq!(ok["log"], "fluent-bit:3");
        let cases = [
            ("not json", "not JSON"),
            ("[]", "JSON object"),
            ("{}", "names no container"),
            (
                r#"{"app": 2}"#,
                "container 'app': the image must be a string",
            ),
            (
                r#"{"app": ""}"#,
                "container 'app': the image must be 1 to 255",
            ),
            (r#"{"app": "a b"}"#, "without spaces"),
            (r#"{"": "x"}"#, "a container name is empty"),
        ];
        for (body, part) in cases {
            let err = images_of(body).expect_err(body);
            assert!(err.contains(part), "{body}: {err}");
        }
    }

    #[test]
    fn the_images_are_set_and_everything_else_kept() {
        let images = BTreeMap::from([("log".to_owned(), "fluent-bit:3".to_owned())]);
        let td = with_images(
            &described(),
            "arn:aws:ecs:us-east-1:1:task-definition/web:7",
            &images,
        )
        .expect("valid");
        let request = td.request();
        assert_eq!(request["containerDefinitions"][0]["image"], "app:1");
        assert_eq!(request["containerDefinitions"][1]["image"], "fluent-bit:3");
        assert_eq!(request["tags"], json!([{"key": "team", "value": "a"}]));
        assert!(
            request.get("revision").is_none(),
            "read-only members dropped"
        );
        let unknown = BTreeMap::from([("db".to_owned(), "postgres".to_owned())]);
        let err = with_images(
            &described(),
            "arn:aws:ecs:us-east-1:1:task-definition/web:7",
            &unknown,
        )
        .expect_err("no such container");
        assert_eq!(
            err,
            "body: container 'db' is not in the task definition web:7 the service runs (its containers: app, log)"
        );
    }
}
