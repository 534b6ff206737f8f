//! The classification drives the guard: for member paths of ECS's request model and changes of their
//! values, a message is admitted exactly when the path is what runs, and a refusal names the path (or the
//! member that holds it) and the group the path is in.
//!
//! The running revision is the fixture that sets every member ECS knows, so every path has a value to
//! change. A change keeps the value's type (another value of an enum, a number plus some, a boolean
//! negated, text with more on its end, an image of the same repository), so the message still fits ECS's
//! request shape. The names that key containers and volumes are left out: changing one is removing an item
//! and adding another, which the guard's table tests cover.

use std::collections::BTreeMap;

use ecs_deployment::decide::classes::{Class, class_of};
use ecs_deployment::decide::escalation::repository;
use ecs_deployment::decide::guard::{Case, judge};
use ecs_deployment::decide::message::parse;
use ecs_deployment::decide::policy::{Identity, Policy, Privilege};
use ecs_model::Kind;
use proptest::prelude::*;
use serde_json::{Map, Value};

const OPERATION: &str = "RegisterTaskDefinition";
/// The members that key the items of their lists.
const KEYS: [&str; 2] = ["containerDefinitions[].name", "volumes[].name"];

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/ecs-sim/tests/fixtures/every-member-task-definition.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every scalar member path of the model, the keys aside.
fn leaves() -> Vec<String> {
    ecs_model::model()
        .member_paths(OPERATION)
        .into_iter()
        .filter(|(path, kind)| *kind == Kind::Scalar && !KEYS.contains(&path.as_str()))
        .map(|(path, _)| path)
        .collect()
}

/// Changes the value at model path `path` in `body`, choosing among list items and map keys and among
/// values by `pick`; the concrete path changed (`containerDefinitions[0].portMappings[1].hostPort`), or
/// `None` when the value has no other (an enum of one value).
fn change(body: &mut Value, path: &str, pick: usize) -> Option<String> {
    let mut value = body;
    let mut concrete = String::new();
    for part in path.split('.') {
        let name = part.split(['[', '{']).next().unwrap_or(part);
        if !concrete.is_empty() {
            concrete.push('.');
        }
        concrete.push_str(name);
        value = value
            .get_mut(name)
            .unwrap_or_else(|| panic!("the fixture has no {concrete} for {path}"));
        for c in part[name.len()..].chars() {
            match c {
                '[' => {
                    let items = value.as_array_mut().expect("a list");
                    assert!(!items.is_empty(), "the fixture's {concrete} is empty");
                    let i = pick % items.len();
                    concrete.push_str(&format!("[{i}]"));
                    value = &mut items[i];
                }
                '{' => {
                    let entries: &mut Map<String, Value> = value.as_object_mut().expect("a map");
                    let mut keys: Vec<String> = entries.keys().cloned().collect();
                    keys.sort();
                    assert!(!keys.is_empty(), "the fixture's {concrete} is empty");
                    let key = keys[pick % keys.len()].clone();
                    concrete.push('.');
                    concrete.push_str(&key);
                    value = entries.get_mut(&key).expect("the key just listed");
                }
                _ => {}
            }
        }
    }
    *value = changed(value, path, pick)?;
    Some(concrete)
}

/// Another value of the same type.
fn changed(value: &Value, path: &str, pick: usize) -> Option<Value> {
    if let Some(allowed) = ecs_model::model().allowed_values(OPERATION, path) {
        let others: Vec<&String> = allowed
            .iter()
            .filter(|a| Some(a.as_str()) != value.as_str())
            .collect();
        return (!others.is_empty()).then(|| Value::from(others[pick % others.len()].as_str()));
    }
    Some(match value {
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) if n.is_u64() => {
            Value::from(n.as_u64().unwrap_or(0) + 1 + (pick % 50) as u64)
        }
        Value::Number(n) => Value::from(n.as_f64().unwrap_or(0.0) + 1.5),
        Value::String(image) if path == "containerDefinitions[].image" => {
            Value::from(format!("{}:changed-{pick}", repository(image)))
        }
        Value::String(text) => Value::from(format!("{text}-changed-{pick}")),
        other => panic!("{path} holds {other}, not a scalar"),
    })
}

/// Judges the fixture with `path` changed against the fixture: what a test expects of it.
fn judged(path: &str, pick: usize) -> Result<(), String> {
    let baseline = fixture();
    let mut body = baseline.clone();
    let Some(concrete) = change(&mut body, path, pick) else {
        return Ok(());
    };
    let attributes = BTreeMap::from([("service".to_owned(), "web".to_owned())]);
    let request = parse(&body.to_string(), &attributes)
        .map_err(|e| format!("{path}: the changed body does not parse: {e}"))?;
    let members = baseline.as_object().cloned().unwrap_or_default();
    let case = Case {
        request: &request,
        cluster: "default",
        baseline: Some(&members),
    };
    // A change may move what ECS reads another member as (a network mode changes which host ports a
    // mapping has): a refusal naming another group is followed by a judgement with that group allowed,
    // until the change's own group refuses it.
    let mut policy = Policy::default_for("default");
    for _ in 0..4 {
        let judgement = judge(&policy, &Identity::default(), &case);
        match (class_of(path), judgement) {
            (Class::Runs, Ok(())) => return Ok(()),
            (Class::Runs, Err(refusal)) => {
                return Err(format!(
                    "{concrete} is what runs, yet the change is refused: {refusal}"
                ));
            }
            (class, Ok(())) => {
                return Err(format!(
                    "{concrete} is {class:?}, yet the change is admitted"
                ));
            }
            (Class::Power(privilege), Err(refusal)) if refusal.rule == privilege.label() => {
                if !concrete.starts_with(&refusal.path) {
                    return Err(format!(
                        "{concrete}: the refusal names {}, which does not hold it: {refusal}",
                        refusal.path
                    ));
                }
                return Ok(());
            }
            (Class::Power(_), Err(refusal)) => match Privilege::from_label(refusal.rule) {
                Some(other) => {
                    policy.defaults.privileges.insert(other);
                }
                None => return Err(format!("{concrete}: refused by {refusal}")),
            },
            (Class::Unclassified, Err(refusal)) => {
                return Err(format!("{concrete} is not classified: {refusal}"));
            }
        }
    }
    Err(format!("{concrete}: never refused by its own group"))
}

#[test]
fn a_change_of_each_member_is_admitted_exactly_when_it_is_what_runs() {
    let leaves = leaves();
    assert!(leaves.len() > 100, "the model has {} leaves", leaves.len());
    let (mut runs, mut powers, mut unchangeable) = (0, 0, Vec::new());
    let mut wrong = Vec::new();
    for path in &leaves {
        if change(&mut fixture(), path, 0).is_none() {
            unchangeable.push(path.clone());
            continue;
        }
        match class_of(path) {
            Class::Runs => runs += 1,
            _ => powers += 1,
        }
        if let Err(why) = judged(path, 0) {
            wrong.push(why);
        }
    }
    println!(
        "{} leaves: {runs} what runs, {powers} what the task may do, {} with no other value ({unchangeable:?})",
        leaves.len(),
        unchangeable.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        unchangeable.len() <= 3,
        "only enums of one value cannot change: {unchangeable:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_changes_of_random_members_are_admitted_exactly_when_they_are_what_runs(
        index in any::<prop::sample::Index>(),
        pick in 0usize..1000,
    ) {
        let leaves = leaves();
        let path = &leaves[index.index(leaves.len())];
        if let Err(why) = judged(path, pick) {
            prop_assert!(false, "{}", why);
        }
    }
}
