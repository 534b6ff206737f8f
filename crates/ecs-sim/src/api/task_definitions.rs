//! RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions and DeregisterTaskDefinition: every
//! member stored whole, ECS's defaults and read-only members added.

use serde_json::{Map, Value, json};

use crate::behaviour::{self, Behaviour};
use crate::error::ApiError;
use crate::json::{epoch_now, str_of, strings_of};
use crate::request::{
    check_name, includes_tags, last_segment, members_except, paginate, tags_of, with_next_token,
};
use crate::state::State;
use crate::task_definition::{TaskDefinition, label_of, split_revision};

/// RegisterTaskDefinition: the next revision of the family.
pub fn register_task_definition(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let family = str_of(req, "family");
    if family.is_empty() {
        return Err(ApiError::client("Family should not be null or empty."));
    }
    check_name("family", family)?;
    let containers = req
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::client("Container list cannot be empty."))?;
    let mut behaviours = Vec::new();
    for (i, container) in containers.iter().enumerate() {
        for member in ["name", "image"] {
            if str_of(container, member).is_empty() {
                return Err(ApiError::client(format!(
                    "containerDefinitions[{i}].{member} should not be null or empty."
                )));
            }
        }
        if let Some(label) = label_of(container) {
            let behaviour: Behaviour = label
                .parse()
                .map_err(|e: String| ApiError::client(format!("containerDefinitions[{i}]: {e}")))?;
            if behaviour == Behaviour::Unhealthy && container.get("healthCheck").is_none() {
                return Err(ApiError::client(format!(
                    "containerDefinitions[{i}]: docker label {} 'unhealthy' fails a health check, and \
                     this container has none",
                    behaviour::LABEL
                )));
            }
            behaviours.push(behaviour);
        }
    }
    // "All tasks must have at least one essential container" (ContainerDefinition.essential).
    if containers
        .iter()
        .all(|c| c.get("essential").and_then(Value::as_bool) == Some(false))
    {
        return Err(ApiError::client(
            "A task definition must have at least one essential container.",
        ));
    }
    let behaviour = Behaviour::placement(behaviours);

    let revisions = state.families.entry(family.to_owned()).or_default();
    let revision = u32::try_from(revisions.len() + 1)
        .map_err(|_| ApiError::client("Too many revisions in this family."))?;
    let arn = state
        .identity
        .arn(&format!("task-definition/{family}:{revision}"));

    let mut description = Map::new();
    description.insert("taskDefinitionArn".into(), json!(arn));
    for (name, value) in members_except(req, &["tags"]) {
        description.insert(name, value);
    }
    if let Some(Value::Array(defs)) = description.get_mut("containerDefinitions") {
        for def in defs.iter_mut().filter_map(Value::as_object_mut) {
            for (name, default) in [
                ("cpu", json!(0)),
                ("portMappings", json!([])),
                ("essential", json!(true)),
                ("environment", json!([])),
                ("mountPoints", json!([])),
                ("volumesFrom", json!([])),
                ("systemControls", json!([])),
            ] {
                def.entry(name).or_insert(default);
            }
        }
    }
    for name in ["volumes", "placementConstraints"] {
        description.entry(name).or_insert(json!([]));
    }
    description.insert("revision".into(), json!(revision));
    description.insert("status".into(), json!("ACTIVE"));
    description.insert("requiresAttributes".into(), requires_attributes(req));
    description.insert("compatibilities".into(), compatibilities(req));
    description.insert("registeredAt".into(), json!(epoch_now()));
    description.insert(
        "registeredBy".into(),
        json!(format!("arn:aws:iam::{}:root", state.identity.account_id)),
    );
    let definition = TaskDefinition {
        arn,
        family: family.to_owned(),
        revision,
        description,
        tags: tags_of(req),
        active: true,
        behaviour,
    };
    let out = json!({"taskDefinition": definition.description, "tags": definition.tags});
    revisions.push(definition);
    Ok(out)
}

/// The capabilities a container instance needs for this task definition, as ECS derives them.
fn requires_attributes(req: &Value) -> Value {
    let mut names = vec!["com.amazonaws.ecs.capability.docker-remote-api.1.18"];
    let containers = req.get("containerDefinitions").and_then(Value::as_array);
    let any_container = |f: &dyn Fn(&Value) -> bool| containers.is_some_and(|c| c.iter().any(f));
    let awslogs = any_container(&|c| {
        c.pointer("/logConfiguration/logDriver")
            .and_then(Value::as_str)
            == Some("awslogs")
    });
    if awslogs {
        names.push("com.amazonaws.ecs.capability.logging-driver.awslogs");
    }
    if req.get("taskRoleArn").is_some() {
        names.push("com.amazonaws.ecs.capability.task-iam-role");
    }
    if req.get("executionRoleArn").is_some() && awslogs {
        names.push("ecs.capability.execution-role-awslogs");
    }
    if str_of(req, "networkMode") == "awsvpc" {
        names.push("ecs.capability.task-eni");
    }
    if any_container(&|c| c.get("healthCheck").is_some()) {
        names.push("ecs.capability.container-health-check");
    }
    Value::Array(
        names
            .into_iter()
            .map(|name| json!({"name": name}))
            .collect(),
    )
}

/// The launch types the task definition is compatible with.
fn compatibilities(req: &Value) -> Value {
    let mut out = vec!["EC2"];
    if strings_of(req, "requiresCompatibilities").contains(&"FARGATE") {
        out.push("FARGATE");
    }
    json!(out)
}

/// The revision a `family`, `family:revision` or ARN names; a bare family means its latest ACTIVE revision.
pub fn resolve_task_definition<'a>(
    state: &'a State,
    reference: &str,
) -> Result<&'a TaskDefinition, ApiError> {
    let not_found = || ApiError::client("Unable to describe task definition.");
    let name = last_segment(reference);
    let revisions = state
        .families
        .get(name.split(':').next().unwrap_or(name))
        .ok_or_else(not_found)?;
    match name.split_once(':') {
        Some((_, revision)) => {
            let (_, index) = split_revision(name).ok_or_else(|| {
                ApiError::client(format!("Invalid revision number. Number: {revision}"))
            })?;
            revisions.get(index).ok_or_else(not_found)
        }
        None => revisions
            .iter()
            .rev()
            .find(|d| d.active)
            .ok_or_else(not_found),
    }
}

/// DescribeTaskDefinition, with tags when asked.
pub fn describe_task_definition(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let definition = resolve_task_definition(state, str_of(req, "taskDefinition"))?;
    let mut out = json!({"taskDefinition": definition.description});
    if includes_tags(req) {
        out["tags"] = json!(definition.tags);
    }
    Ok(out)
}

/// ListTaskDefinitions: by family and status, oldest first unless sorted DESC.
pub fn list_task_definitions(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let family = req.get("familyPrefix").and_then(Value::as_str);
    let want_active = match req
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("ACTIVE")
    {
        "ACTIVE" => Some(true),
        "INACTIVE" => Some(false),
        _ => None,
    };
    let mut arns: Vec<String> = state
        .families
        .iter()
        .filter(|(name, _)| family.is_none_or(|f| f == name.as_str()))
        .flat_map(|(_, revisions)| revisions)
        .filter(|d| want_active == Some(d.active))
        .map(|d| d.arn.clone())
        .collect();
    if str_of(req, "sort") == "DESC" {
        arns.reverse();
    }
    let (page, next) = paginate(arns, req)?;
    Ok(with_next_token(json!({"taskDefinitionArns": page}), next))
}

/// DeregisterTaskDefinition: the revision becomes INACTIVE.
pub fn deregister_task_definition(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let reference = str_of(req, "taskDefinition");
    if !last_segment(reference).contains(':') {
        return Err(ApiError::client(
            "The specified task definition does not include a revision.",
        ));
    }
    let (family, revision) = {
        let d = resolve_task_definition(state, reference)?;
        (d.family.clone(), d.revision as usize)
    };
    let definition = state
        .families
        .get_mut(&family)
        .and_then(|revisions| revisions.get_mut(revision - 1))
        .ok_or_else(|| ApiError::client("Unable to describe task definition."))?;
    if definition.active {
        definition.active = false;
        definition
            .description
            .insert("status".into(), json!("INACTIVE"));
        definition
            .description
            .insert("deregisteredAt".into(), json!(epoch_now()));
    }
    Ok(json!({"taskDefinition": definition.description}))
}
