//! A registered task definition revision, stored whole with its tags, and finding one by ARN or
//! `family:revision`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::behaviour::{self, Behaviour};
use crate::json::str_of;
use crate::logs::AwsLogs;
use crate::task::ContainerSpec;

/// The revision named by a task definition ARN (or `family:revision`) among `families`.
pub fn find_task_definition<'a>(
    families: &'a BTreeMap<String, Vec<TaskDefinition>>,
    arn: &str,
) -> Option<&'a TaskDefinition> {
    let (family, index) = split_revision(arn.rsplit('/').next()?)?;
    families.get(family)?.get(index)
}

/// Splits `family:revision` into the family and the index of that revision in the family's list
/// (revision 1 is index 0); `None` without a colon or with a revision that is not a number from 1.
pub fn split_revision(name: &str) -> Option<(&str, usize)> {
    let (family, revision) = name.split_once(':')?;
    let index = revision.parse::<usize>().ok()?.checked_sub(1)?;
    Some((family, index))
}

/// One revision of a task definition.
#[derive(Debug)]
pub struct TaskDefinition {
    /// `arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION`.
    pub arn: String,
    /// The family it belongs to.
    pub family: String,
    /// Its revision within the family, from 1.
    pub revision: u32,
    /// Every member that was registered, the defaults ECS fills in, and the read-only members ECS adds;
    /// `status` and `deregisteredAt` are kept up to date here.
    pub description: Map<String, Value>,
    /// Resource tags.
    pub tags: Vec<Value>,
    /// False once deregistered (status INACTIVE).
    pub active: bool,
    /// How its tasks are placed and started: its containers' `ecs-sim.behaviour` labels together (see
    /// [`Behaviour::placement`]).
    pub behaviour: Behaviour,
}

impl TaskDefinition {
    /// The containers its definitions describe: name, image, health check, whether essential (ECS's
    /// default: "If this parameter is omitted, a container is assumed to be essential") and what each
    /// does (its own `ecs-sim.behaviour` label, checked at registration).
    pub fn containers(&self) -> Vec<ContainerSpec> {
        self.description
            .get("containerDefinitions")
            .and_then(Value::as_array)
            .map(|defs| {
                defs.iter()
                    .map(|def| ContainerSpec {
                        health_check: def.get("healthCheck").is_some(),
                        essential: def.get("essential").and_then(Value::as_bool) != Some(false),
                        behaviour: command_of(def)
                            .or_else(|| label_of(def).and_then(|l| l.parse().ok()))
                            .unwrap_or_default(),
                        consistent: str_of(def, "versionConsistency") != "disabled",
                        command: def
                            .get("command")
                            .and_then(Value::as_array)
                            .map(|c| {
                                c.iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_owned)
                                    .collect()
                            })
                            .unwrap_or_default(),
                        logs: AwsLogs::of(def),
                        ..ContainerSpec::new(str_of(def, "name"), str_of(def, "image"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The behaviour a container definition's own `command` asks for (`["ecs-sim-exit", "<code>"]`), if any.
fn command_of(definition: &Value) -> Option<Behaviour> {
    let command: Vec<&str> = definition
        .get("command")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    Behaviour::from_command(&command)?.ok()
}

/// A container definition's `ecs-sim.behaviour` label, if it has one.
pub fn label_of(definition: &Value) -> Option<&str> {
    definition
        .get("dockerLabels")
        .and_then(|labels| labels.get(behaviour::LABEL))
        .and_then(Value::as_str)
}
