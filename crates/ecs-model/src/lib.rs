//! The shapes of the ECS API requests, and validation of a request against them.
//!
//! The shapes come from the ECS service model that botocore ships (the one the `aws` CLI validates its
//! parameters against), trimmed by `scripts/gen-ecs-model.py` into `model/ecs.json` to the operations that
//! ecs-sim serves and ecs-deployment sends. Validating against the model instead of hand-written structs means
//! every member ECS knows is accepted and passed on whole, and every member it does not know is rejected with
//! its path, as the CLI rejects it. Both ecs-sim and the worker use it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

mod paths;

/// The model as generated from botocore, embedded at build time.
const MODEL_JSON: &str = include_str!("../model/ecs.json");

/// The ECS service model, trimmed to the operations in use.
#[derive(Debug, Deserialize)]
pub struct Model {
    /// Where the shapes were taken from, for the README and error reports.
    pub source: String,
    /// Operation name -> its input shape.
    operations: BTreeMap<String, Operation>,
    /// Shape name -> shape.
    shapes: BTreeMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
struct Operation {
    /// Name of the operation's input structure.
    input: String,
}

/// One shape of the model, in botocore's form.
#[derive(Debug, Deserialize)]
pub struct Shape {
    /// `structure`, `list`, `map`, `string`, `integer`, `long`, `boolean`, `double`, `float` or `timestamp`.
    #[serde(rename = "type")]
    kind: String,
    /// Members of a structure, by name.
    #[serde(default)]
    members: BTreeMap<String, ShapeRef>,
    /// Members of a structure that must be present.
    #[serde(default)]
    required: Vec<String>,
    /// Item shape of a list.
    member: Option<ShapeRef>,
    /// Key shape of a map.
    key: Option<ShapeRef>,
    /// Value shape of a map.
    value: Option<ShapeRef>,
    /// Allowed values of a string.
    #[serde(rename = "enum")]
    allowed: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct ShapeRef {
    /// Name of the referenced shape.
    shape: String,
}

/// The embedded model, parsed once.
pub fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| match serde_json::from_str(MODEL_JSON) {
        Ok(model) => model,
        // The file is part of the source tree and checked by a unit test; a broken one is a build defect.
        Err(err) => panic!("model/ecs.json is not a valid shape model: {err}"),
    })
}

impl Model {
    /// Whether the model has this operation.
    pub fn has_operation(&self, operation: &str) -> bool {
        self.operations.contains_key(operation)
    }

    /// Member names of a structure shape (empty for an unknown shape).
    pub fn member_names(&self, shape: &str) -> impl Iterator<Item = &str> {
        self.shapes
            .get(shape)
            .into_iter()
            .flat_map(|s| s.members.keys().map(String::as_str))
    }

    /// Checks `request` against the input shape of `operation` and returns it with `null` members removed
    /// (the JSON protocol treats them as absent).
    ///
    /// A value of the wrong JSON type or a member the shape does not have is [`InvalidKind::Serialization`],
    /// a missing required member [`InvalidKind::MissingMember`], a string outside its enum
    /// [`InvalidKind::InvalidValue`]; each message names the member's path.
    pub fn validate(&self, operation: &str, request: &Value) -> Result<Value, Invalid> {
        let input = self.operations.get(operation).ok_or_else(|| {
            Invalid::new(
                InvalidKind::UnknownOperation,
                format!("Unknown operation {operation}"),
            )
        })?;
        self.check(&input.input, request, "")
    }

    /// Paths of the members of `operation`'s input that `request` leaves out, looking into every structure,
    /// list item and map value it has: an empty answer means the request uses every member ECS knows.
    pub fn missing_members(&self, operation: &str, request: &Value) -> Vec<String> {
        let mut missing = Vec::new();
        if let Some(input) = self.operations.get(operation) {
            self.collect_missing(&input.input, request, "", &mut missing);
        }
        missing
    }

    fn collect_missing(
        &self,
        shape_name: &str,
        value: &Value,
        path: &str,
        missing: &mut Vec<String>,
    ) {
        let Some(shape) = self.shapes.get(shape_name) else {
            return;
        };
        match shape.kind.as_str() {
            "structure" => {
                for (name, member) in &shape.members {
                    let member_path = join(path, name);
                    match value.get(name) {
                        Some(v) => self.collect_missing(&member.shape, v, &member_path, missing),
                        None => missing.push(member_path),
                    }
                }
            }
            "list" => {
                let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
                if items.is_empty() {
                    missing.push(format!("{path}[]"));
                }
                if let Some(item) = &shape.member {
                    for (i, v) in items.iter().enumerate() {
                        self.collect_missing(&item.shape, v, &format!("{path}[{i}]"), missing);
                    }
                }
            }
            "map" => {
                if let (Some(val), Some(entries)) = (&shape.value, value.as_object()) {
                    for (k, v) in entries {
                        self.collect_missing(&val.shape, v, &join(path, k), missing);
                    }
                }
            }
            _ => {}
        }
    }

    fn check(&self, shape_name: &str, value: &Value, path: &str) -> Result<Value, Invalid> {
        let shape = self.shapes.get(shape_name).ok_or_else(|| {
            Invalid::model(format!("model has no shape {shape_name} (at {path})"))
        })?;
        let at = |expected: &str| {
            Invalid::new(
                InvalidKind::Serialization,
                format!(
                    "Expected {expected} at '{}', found {}",
                    display_path(path),
                    json_kind(value)
                ),
            )
        };
        match shape.kind.as_str() {
            "structure" => {
                let object = value.as_object().ok_or_else(|| at("an object"))?;
                let mut cleaned = Map::new();
                for (name, member) in object {
                    let member_path = join(path, name);
                    let Some(member_ref) = shape.members.get(name) else {
                        return Err(Invalid::new(
                            InvalidKind::Serialization,
                            format!("Unknown member '{}'", display_path(&member_path)),
                        ));
                    };
                    if member.is_null() {
                        continue;
                    }
                    cleaned.insert(
                        name.clone(),
                        self.check(&member_ref.shape, member, &member_path)?,
                    );
                }
                if let Some(missing) = shape.required.iter().find(|r| !cleaned.contains_key(*r)) {
                    return Err(Invalid::new(
                        InvalidKind::MissingMember,
                        format!(
                            "{} should not be null or empty.",
                            display_path(&join(path, missing))
                        ),
                    ));
                }
                Ok(Value::Object(cleaned))
            }
            "list" => {
                let items = value.as_array().ok_or_else(|| at("a list"))?;
                let item_shape = shape.member.as_ref().ok_or_else(|| {
                    Invalid::model(format!("list shape {shape_name} has no member"))
                })?;
                let mut cleaned = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    cleaned.push(self.check(&item_shape.shape, item, &format!("{path}[{i}]"))?);
                }
                Ok(Value::Array(cleaned))
            }
            "map" => {
                let object = value.as_object().ok_or_else(|| at("a map"))?;
                let (Some(key), Some(val)) = (&shape.key, &shape.value) else {
                    return Err(Invalid::model(format!(
                        "map shape {shape_name} is incomplete"
                    )));
                };
                let mut cleaned = Map::new();
                for (k, v) in object {
                    let entry_path = join(path, k);
                    self.check(&key.shape, &Value::String(k.clone()), &entry_path)?;
                    cleaned.insert(k.clone(), self.check(&val.shape, v, &entry_path)?);
                }
                Ok(Value::Object(cleaned))
            }
            "string" => {
                let s = value.as_str().ok_or_else(|| at("a string"))?;
                if let Some(allowed) = &shape.allowed
                    && !allowed.iter().any(|a| a == s)
                {
                    return Err(Invalid::new(
                        InvalidKind::InvalidValue,
                        format!(
                            "Invalid value '{s}' for '{}'; valid values: {}",
                            display_path(path),
                            allowed.join(", ")
                        ),
                    ));
                }
                Ok(value.clone())
            }
            "integer" => match value.as_i64() {
                Some(n) if i32::try_from(n).is_ok() => Ok(value.clone()),
                _ => Err(at("an integer")),
            },
            "long" => value
                .as_i64()
                .map(|_| value.clone())
                .ok_or_else(|| at("an integer")),
            "boolean" => value
                .as_bool()
                .map(|_| value.clone())
                .ok_or_else(|| at("a boolean")),
            "double" | "float" | "timestamp" => value
                .as_f64()
                .map(|_| value.clone())
                .ok_or_else(|| at("a number")),
            other => Err(Invalid::model(format!(
                "model shape type {other} is not supported"
            ))),
        }
    }
}

/// What a member path holds, as the model says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Named members.
    Structure,
    /// Items of one shape.
    List,
    /// Values of one shape under string keys.
    Map,
    /// A string, number, boolean or timestamp.
    Scalar,
}

impl Kind {
    fn of(botocore: &str) -> Self {
        match botocore {
            "structure" => Self::Structure,
            "list" => Self::List,
            "map" => Self::Map,
            _ => Self::Scalar,
        }
    }
}

/// Why a request does not fit the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Which rule the request breaks; ECS answers each with its own error code.
    pub kind: InvalidKind,
    /// What is wrong, naming the member's path (`containerDefinitions[0].image`).
    pub message: String,
}

/// The rules a request can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidKind {
    /// A member the shape does not have, or a value of the wrong JSON type (ECS: `SerializationException`).
    Serialization,
    /// A required member is absent (ECS: `ClientException`).
    MissingMember,
    /// A string outside its enum (ECS: `InvalidParameterException`).
    InvalidValue,
    /// The operation is not in the model (ECS: `UnknownOperationException`).
    UnknownOperation,
    /// The embedded model itself is incomplete: a defect of the build, not of the request.
    Model,
}

impl Invalid {
    fn new(kind: InvalidKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    fn model(message: impl Into<String>) -> Self {
        Self::new(InvalidKind::Model, message)
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Invalid {}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(request)" } else { path }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn embedded_model_parses_and_serves_every_operation() {
        let model = model();
        for op in [
            "CreateCluster",
            "DescribeClusters",
            "RegisterTaskDefinition",
            "DescribeTaskDefinition",
            "ListTaskDefinitions",
            "DeregisterTaskDefinition",
            "CreateService",
            "UpdateService",
            "DeleteService",
            "DescribeServices",
            "ListTasks",
            "DescribeTasks",
            "TagResource",
            "UntagResource",
            "ListTagsForResource",
        ] {
            assert!(model.has_operation(op), "{op} missing from the model");
        }
        assert!(model.member_names("Service").any(|m| m == "deployments"));
    }

    #[test]
    fn validation_names_the_offending_member() {
        let cases = [
            (
                json!({"family": "f", "containerDefinitions": [{"name": "a", "imag": "x"}]}),
                InvalidKind::Serialization,
                "containerDefinitions[0].imag",
            ),
            (
                json!({"family": "f", "containerDefinitions": [{"name": "a", "cpu": "1"}]}),
                InvalidKind::Serialization,
                "containerDefinitions[0].cpu",
            ),
            (
                json!({"family": "f", "containerDefinitions": {}}),
                InvalidKind::Serialization,
                "containerDefinitions",
            ),
            (
                json!({"family": "f", "containerDefinitions": [], "networkMode": "wifi"}),
                InvalidKind::InvalidValue,
                "networkMode",
            ),
            (
                json!({"containerDefinitions": []}),
                InvalidKind::MissingMember,
                "family",
            ),
            (json!([]), InvalidKind::Serialization, "(request)"),
        ];
        for (request, code, path) in cases {
            let err = model()
                .validate("RegisterTaskDefinition", &request)
                .expect_err("request is invalid");
            assert_eq!(err.kind, code, "{request}");
            assert!(
                err.message.contains(path),
                "{} should name {path}",
                err.message
            );
        }
    }

    #[test]
    fn nulls_are_dropped_and_valid_requests_pass_unchanged() {
        let request = json!({
            "family": "web",
            "taskRoleArn": null,
            "containerDefinitions": [{"name": "web", "image": "nginx", "cpu": 256,
                                      "dockerLabels": {"a": "b"}, "essential": true}],
        });
        let cleaned = model()
            .validate("RegisterTaskDefinition", &request)
            .expect("valid");
        assert!(cleaned.get("taskRoleArn").is_none());
        assert_eq!(
            cleaned["containerDefinitions"],
            request["containerDefinitions"]
        );
    }
}
