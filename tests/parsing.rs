//! Property tests of message parsing: whatever a producer sends (any body, any attributes, a valid task
//! definition with any part replaced), parsing never panics and ends in a valid request or a rejection that
//! names what is wrong. The case counts keep the run to a few seconds.

use std::collections::BTreeMap;

use ecs_deployment::decide::marker::registration_tags;
use ecs_deployment::decide::message::{DeploymentRequest, Target, parse};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Words every rejection uses to say where the fault is: an attribute, the body, or a member.
const NAMED: [&str; 5] = [
    "message attribute '",
    "message body",
    "task definition",
    "member '",
    "'taskDefinition'",
];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1500,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Attributes as producers set them, right or wrong.
fn any_attributes() -> impl Strategy<Value = BTreeMap<String, String>> {
    let name = prop_oneof![
        Just("service".to_owned()),
        Just("commit_url".to_owned()),
        "[a-z_]{1,8}",
    ];
    let value = prop_oneof![
        Just("web".to_owned()),
        Just("false".to_owned()),
        Just(String::new()),
        ".{0,20}",
    ];
    prop::collection::btree_map(name, value, 0..4)
}

fn valid() -> Value {
    json!({
        "family": "web",
        "cpu": "256",
        "memory": "512",
        "networkMode": "awsvpc",
        "containerDefinitions": [{
            "name": "web",
            "image": "nginx:1.27",
            "portMappings": [{"containerPort": 80}],
            "healthCheck": {"command": ["CMD", "true"]},
            "environment": [{"name": "A", "value": "1"}]
        }],
        "tags": [{"key": "team", "value": "web"}]
    })
}

/// `value` with the node at `pick` (counted depth first) replaced by `replacement`.
fn replace_node(value: &mut Value, pick: &mut usize, replacement: &Value) -> bool {
    if *pick == 0 {
        *value = replacement.clone();
        return true;
    }
    *pick -= 1;
    match value {
        Value::Array(items) => items.iter_mut().any(|v| replace_node(v, pick, replacement)),
        Value::Object(members) => members
            .values_mut()
            .any(|v| replace_node(v, pick, replacement)),
        _ => false,
    }
}

/// What must hold for every parse.
fn check(body: &str, attributes: &BTreeMap<String, String>) -> Result<(), TestCaseError> {
    match parse(body, attributes) {
        Ok(request) => check_request(&request, attributes),
        Err(reason) => {
            prop_assert!(!reason.trim().is_empty());
            prop_assert!(
                NAMED.iter().any(|n| reason.contains(n)),
                "the rejection names no attribute, body or member: {reason}"
            );
            Ok(())
        }
    }
}

fn check_request(
    request: &DeploymentRequest,
    attributes: &BTreeMap<String, String>,
) -> Result<(), TestCaseError> {
    let service = attributes.get("service").map(|s| s.trim());
    match &request.target {
        Target::RegisterOnly => prop_assert_eq!(service, Some("false")),
        Target::Service(name) => prop_assert_eq!(service, Some(name.as_str())),
    }
    // What is sent to ECS still fits ECS's request shape, with the worker's tags added or a rejection
    // naming 'tags'.
    let sent = Value::Object(request.task_definition.request().clone());
    prop_assert!(
        ecs_model::model()
            .validate("RegisterTaskDefinition", &sent)
            .is_ok()
    );
    match request
        .task_definition
        .with_marker_tags(&registration_tags("m-1", None, None))
    {
        Ok(marked) => {
            let sent = Value::Object(marked.request().clone());
            prop_assert!(
                ecs_model::model()
                    .validate("RegisterTaskDefinition", &sent)
                    .is_ok()
            );
        }
        Err(reason) => prop_assert!(reason.contains("'tags'"), "{}", reason),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_and_attributes(body in ".{0,64}", attributes in any_attributes()) {
        check(&body, &attributes)?;
    }

    #[test]
    fn any_json_body(body in any_json(), attributes in any_attributes()) {
        check(&body.to_string(), &attributes)?;
    }

    #[test]
    fn a_valid_task_definition_with_one_part_replaced(
        pick in 0usize..40,
        replacement in any_json(),
        wrapped in any::<bool>(),
    ) {
        let mut body = valid();
        let mut at = pick;
        replace_node(&mut body, &mut at, &replacement);
        if wrapped {
            body = json!({"taskDefinition": body});
        }
        let attributes = BTreeMap::from([("service".to_owned(), "web".to_owned())]);
        check(&body.to_string(), &attributes)?;
    }
}

#[test]
fn the_unchanged_task_definition_is_valid() {
    let attributes = BTreeMap::from([("service".to_owned(), "web".to_owned())]);
    let request = parse(&valid().to_string(), &attributes).expect("valid");
    assert_eq!(request.target, Target::Service("web".into()));
}
