//! What ECS treats as the same task definition member: defaults written out or left out, sets in any
//! order, empty lists and maps as absent; and the members where two task definitions differ, walked over
//! the model's member paths, containers and volumes matched by name.

use std::collections::HashMap;
use std::sync::OnceLock;

use ecs_model::Kind;
use serde_json::{Map, Value};

/// A member where two task definitions differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The member's path in the model's form (`containerDefinitions[].privileged`), for its class.
    pub model: String,
    /// The member's path in the new task definition (`containerDefinitions[1].privileged`), or in the old
    /// one for a container or volume the new one leaves out.
    pub path: String,
    /// Whether the new task definition leaves out a container or volume the old one has.
    pub removed: bool,
}

/// Lists whose order ECS keeps and acts on; every other list is a set.
const ORDERED: [&str; 6] = [
    // The program's arguments.
    "containerDefinitions[].command",
    "containerDefinitions[].entryPoint",
    "containerDefinitions[].healthCheck.command",
    // resolv.conf: the first server is asked first.
    "containerDefinitions[].dnsServers",
    "containerDefinitions[].dnsSearchDomains",
    // "If multiple environment files are specified that contain the same variable, they're processed
    // from the top down." (ContainerDefinition, environmentFiles)
    "containerDefinitions[].environmentFiles",
];

/// Lists whose items are matched by a member, so that a change names the item.
const KEYED: [(&str, &str); 2] = [("containerDefinitions", "name"), ("volumes", "name")];

/// The value ECS takes when a member is left out, as the API reference gives it.
fn default_of(model: &str) -> Option<Value> {
    let value = match model {
        // "If no network mode is specified, the default is bridge." (RegisterTaskDefinition, networkMode)
        "networkMode" => Value::from("bridge"),
        // "The default value is false." (enableFaultInjection)
        "enableFaultInjection" => Value::from(false),
        // ContainerDefinition: privileged, readonlyRootFilesystem and disableNetworking are off unless set.
        "containerDefinitions[].privileged"
        | "containerDefinitions[].readonlyRootFilesystem"
        | "containerDefinitions[].disableNetworking"
        // "If this value is true, the container has read-only access to the volume. If this value is
        // false, then the container can write to the volume. The default value is false." (MountPoint,
        // VolumeFrom)
        | "containerDefinitions[].mountPoints[].readOnly"
        | "containerDefinitions[].volumesFrom[].readOnly"
        // "enabled: Specifies whether a restart policy is enabled for the container." Off unless set.
        | "containerDefinitions[].restartPolicy.enabled"
        // "If this value is true, the Docker volume is created if it doesn't already exist. ... default
        // is false" (DockerVolumeConfiguration, autoprovision)
        | "volumes[].dockerVolumeConfiguration.autoprovision" => Value::from(false),
        // "If no value is specified, the default is enabled." (versionConsistency)
        "containerDefinitions[].versionConsistency" => Value::from("enabled"),
        // "The protocol used for the port mapping. ... The default is tcp." (PortMapping, protocol)
        "containerDefinitions[].portMappings[].protocol" => Value::from("tcp"),
        // "Docker volumes that are scoped to a task are ... The default is task." (scope)
        "volumes[].dockerVolumeConfiguration.scope" => Value::from("task"),
        // "Specifying / will have the same effect as omitting this parameter." (rootDirectory)
        "volumes[].efsVolumeConfiguration.rootDirectory" => Value::from("/"),
        // "If this parameter is omitted, the default value of DISABLED is used." (transitEncryption, iam)
        "volumes[].efsVolumeConfiguration.transitEncryption"
        | "volumes[].efsVolumeConfiguration.authorizationConfig.iam" => Value::from("DISABLED"),
        _ => return None,
    };
    Some(value)
}

/// The request's member paths with their kinds, in the model's order, read once.
fn paths() -> &'static [(String, Kind)] {
    static PATHS: OnceLock<Vec<(String, Kind)>> = OnceLock::new();
    PATHS.get_or_init(|| ecs_model::model().member_paths("RegisterTaskDefinition"))
}

/// The kind of each member path, read once.
fn kinds() -> &'static HashMap<&'static str, Kind> {
    static KINDS: OnceLock<HashMap<&'static str, Kind>> = OnceLock::new();
    KINDS.get_or_init(|| paths().iter().map(|(p, k)| (p.as_str(), *k)).collect())
}

fn kind(model: &str) -> Kind {
    if model.is_empty() {
        return Kind::Structure;
    }
    kinds().get(model).copied().unwrap_or(Kind::Scalar)
}

/// The first leaf at or below `model`, in the model's order, that `wanted` picks.
fn wanted_leaf<'a>(model: &'a str, wanted: &dyn Fn(&str) -> bool) -> Option<&'a str> {
    if kind(model) == Kind::Scalar {
        return wanted(model).then_some(model);
    }
    paths()
        .iter()
        .find(|(path, kind)| {
            *kind == Kind::Scalar
                && path.len() > model.len()
                && path.starts_with(model)
                && matches!(path.as_bytes()[model.len()], b'.' | b'[' | b'{')
                && wanted(path)
        })
        .map(|(path, _)| path.as_str())
}

/// A list's items with the value of their `key` member.
fn named<'v>(list: Option<&'v Value>, key: &str) -> Vec<(&'v str, &'v Value)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|item| (item.get(key).and_then(Value::as_str).unwrap_or(""), item))
        .collect()
}

/// The keys of two objects, each once, sorted.
fn keys_of_both<'a>(n: &'a Map<String, Value>, o: &'a Map<String, Value>) -> Vec<&'a String> {
    let mut keys: Vec<&String> = n.keys().chain(o.keys()).collect();
    keys.sort();
    keys.dedup();
    keys
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

/// How one task definition's members are read: its network mode, on which the host port's default
/// depends.
struct Side<'a> {
    /// `networkMode`, as given.
    network_mode: &'a str,
}

/// `value` at `model` as ECS treats it: `None` where it is left out, empty or the default; sets sorted.
fn canonical(model: &str, value: &Value, side: &Side<'_>, skip: &Skip<'_>) -> Option<Value> {
    match (kind(model), value) {
        (Kind::Structure, Value::Object(object)) => {
            let mut out = Map::new();
            let mut members: Vec<_> = object.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            for (name, member) in members {
                if let Some(v) = canonical(&join(model, name), member, side, skip) {
                    out.insert(name.clone(), v);
                }
            }
            // "If you use containers in a task with the awsvpc or host network mode, the hostPort can
            // either be left blank or set to the same value as the containerPort." (PortMapping)
            if model == "containerDefinitions[].portMappings[]"
                && matches!(side.network_mode, "awsvpc" | "host")
                && out.get("hostPort").is_some()
                && out.get("hostPort") == out.get("containerPort")
            {
                out.remove("hostPort");
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        (Kind::List, Value::Array(items)) => {
            let item = format!("{model}[]");
            let mut out: Vec<Value> = items
                .iter()
                .filter(|i| !skip(model, i))
                .map(|i| canonical(&item, i, side, skip).unwrap_or(Value::Null))
                .collect();
            if !ORDERED.contains(&model) {
                out.sort_by_cached_key(Value::to_string);
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        (Kind::Map, Value::Object(entries)) => {
            let value = format!("{model}{{}}");
            let mut out = Map::new();
            let mut entries: Vec<_> = entries.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in entries {
                if let Some(v) = canonical(&value, v, side, skip) {
                    out.insert(k.clone(), v);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        (_, Value::Null) => None,
        (_, other) => (default_of(model).as_ref() != Some(other)).then(|| other.clone()),
    }
}

/// Which list items the comparison leaves out, by the list's model path: what the policy allows (a
/// secret `ALLOWED_SECRETS` names) and what is not the producer's (the worker's own marker tags).
pub type Skip<'a> = dyn Fn(&str, &Value) -> bool + 'a;

/// Every member where `new` differs from `old`, as ECS treats them; `wanted` picks the model paths worth
/// comparing (what the task may do), so a member that may change freely costs nothing.
pub fn differences(
    new: &Map<String, Value>,
    old: &Map<String, Value>,
    wanted: &dyn Fn(&str) -> bool,
    skip: &Skip<'_>,
) -> Vec<Difference> {
    let mode = |m: &Map<String, Value>| {
        m.get("networkMode")
            .and_then(Value::as_str)
            .unwrap_or("bridge")
            .to_owned()
    };
    let (new_mode, old_mode) = (mode(new), mode(old));
    let walk = Walk {
        new: Side {
            network_mode: &new_mode,
        },
        old: Side {
            network_mode: &old_mode,
        },
        wanted,
        skip,
    };
    let mut found = Vec::new();
    walk.structure("", "", new, old, false, &mut found);
    found
}

/// One comparison of two task definitions.
struct Walk<'a> {
    new: Side<'a>,
    old: Side<'a>,
    wanted: &'a dyn Fn(&str) -> bool,
    skip: &'a Skip<'a>,
}

impl Walk<'_> {
    fn member(
        &self,
        model: &str,
        path: &str,
        new: Option<&Value>,
        old: Option<&Value>,
        removed: bool,
        found: &mut Vec<Difference>,
    ) {
        if wanted_leaf(model, self.wanted).is_none() {
            return;
        }
        let kind = kind(model);
        let empty = Map::new();
        match kind {
            Kind::Structure => {
                let (n, o) = (
                    new.and_then(Value::as_object).unwrap_or(&empty),
                    old.and_then(Value::as_object).unwrap_or(&empty),
                );
                self.structure(model, path, n, o, removed, found);
            }
            Kind::List if KEYED.iter().any(|(list, _)| *list == model) => {
                self.keyed(model, path, new, old, found);
            }
            Kind::Map => {
                let (n, o) = (
                    new.and_then(Value::as_object).unwrap_or(&empty),
                    old.and_then(Value::as_object).unwrap_or(&empty),
                );
                let value = format!("{model}{{}}");
                for key in keys_of_both(n, o) {
                    self.leaf(
                        &value,
                        &join(path, key),
                        n.get(key),
                        o.get(key),
                        removed,
                        found,
                    );
                }
            }
            Kind::List | Kind::Scalar => self.leaf(model, path, new, old, removed, found),
        }
    }

    /// A structure's members, each compared.
    fn structure(
        &self,
        model: &str,
        path: &str,
        new: &Map<String, Value>,
        old: &Map<String, Value>,
        removed: bool,
        found: &mut Vec<Difference>,
    ) {
        for name in keys_of_both(new, old) {
            self.member(
                &join(model, name),
                &join(path, name),
                new.get(name),
                old.get(name),
                removed,
                found,
            );
        }
    }

    /// A member compared whole: a scalar, a map's value, or a list as a set (or in order).
    fn leaf(
        &self,
        model: &str,
        path: &str,
        new: Option<&Value>,
        old: Option<&Value>,
        removed: bool,
        found: &mut Vec<Difference>,
    ) {
        let n = new.and_then(|v| canonical(model, v, &self.new, self.skip));
        let o = old.and_then(|v| canonical(model, v, &self.old, self.skip));
        if n.is_none() && o.is_none() {
            return;
        }
        if n.is_none() && o.as_ref() == default_of(model).as_ref() {
            return;
        }
        if n != o {
            found.push(Difference {
                // Every leaf of a list compared whole is in one group (a test checks it): any of
                // them classifies the difference.
                model: wanted_leaf(model, self.wanted).unwrap_or(model).to_owned(),
                path: path.to_owned(),
                removed,
            });
        }
    }

    /// Containers or volumes, matched by name; one on one side only is compared with nothing.
    fn keyed(
        &self,
        model: &str,
        path: &str,
        new: Option<&Value>,
        old: Option<&Value>,
        found: &mut Vec<Difference>,
    ) {
        let key = KEYED
            .iter()
            .find(|(list, _)| *list == model)
            .map_or("name", |(_, key)| key);
        let (news, olds) = (named(new, key), named(old, key));
        let item = format!("{model}[]");
        for (i, (name, n)) in news.iter().enumerate() {
            let o = olds.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            self.member(&item, &format!("{path}[{i}]"), Some(n), o, false, found);
        }
        for (i, (name, o)) in olds.iter().enumerate() {
            if !news.iter().any(|(k, _)| k == name) {
                self.member(&item, &format!("{path}[{i}]"), None, Some(o), true, found);
            }
        }
    }
}

#[cfg(test)]
mod tests;
