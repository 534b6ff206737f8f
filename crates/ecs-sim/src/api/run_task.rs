//! RunTask and StopTask: standalone tasks of a task definition, started by a caller rather than a service, with their
//! command overrides, `startedBy`, group and tags, and a client token that makes a retry start nothing more.

use serde_json::{Value, json};

use crate::api::task_definitions::resolve_task_definition;
use crate::behaviour::Behaviour;
use crate::error::ApiError;
use crate::json::{epoch_now, str_of};
use crate::registry::known_digest;
use crate::request::cluster_name;
use crate::state::State;
use crate::task::{ContainerSpec, Health, Task, TaskStatus};
use crate::task_definition::TaskDefinition;
use crate::task_lifecycle::STOPPED_EXIT_CODE;

/// API reference, `RunTask.count`: "You can specify up to 10 tasks for each call."
const MAX_COUNT: i64 = 10;
/// "Ensuring idempotency": "RunTask - The client token can be up to 64 ASCII characters in the range of
/// 33-126 (inclusive)."
const MAX_CLIENT_TOKEN: usize = 64;
/// API reference, `RunTask.startedBy`: "Up to 128 letters (uppercase and lowercase), numbers, hyphens (-),
/// forward slash (/), and underscores (_) are allowed."
const MAX_STARTED_BY: usize = 128;

/// RunTask: starts `count` tasks of the task definition in the cluster. A client token already used in
/// the cluster gives the tasks it started then, and starts none ("If you retry a request that completed
/// successfully using the same client token and the same parameters, the retry succeeds without
/// performing any further actions"; "Requests with the same token in the same cluster are idempotent").
pub fn run_task(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let token = req.get("clientToken").and_then(Value::as_str);
    if let Some(token) = token
        && (token.is_empty()
            || token.len() > MAX_CLIENT_TOKEN
            || !token.bytes().all(|b| (33..=126).contains(&b)))
    {
        return Err(ApiError::invalid_parameter(format!(
            "clientToken must be 1 to {MAX_CLIENT_TOKEN} ASCII characters in the range 33-126."
        )));
    }
    let started_by = req.get("startedBy").and_then(Value::as_str).unwrap_or("");
    if started_by.len() > MAX_STARTED_BY
        || !started_by
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/_".contains(c))
    {
        return Err(ApiError::invalid_parameter(format!(
            "startedBy allows up to {MAX_STARTED_BY} letters, numbers, hyphens, forward slashes and underscores."
        )));
    }
    let count = req.get("count").and_then(Value::as_i64).unwrap_or(1);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(ApiError::invalid_parameter(format!(
            "count must be from 1 to {MAX_COUNT}."
        )));
    }
    let name = cluster_name(req).to_owned();
    if !state.clusters.contains_key(&name) {
        return Err(ApiError::cluster_not_found());
    }
    if let Some(token) = token
        && let Some(cluster) = state.clusters.get(&name)
        && let Some(ids) = cluster.client_tokens.get(token)
    {
        let tasks: Vec<Value> = ids
            .iter()
            .filter_map(|id| cluster.tasks.get(id))
            .map(|t| t.render(&cluster.arn))
            .collect();
        return Ok(json!({"tasks": tasks, "failures": []}));
    }
    let definition = resolve_task_definition(state, str_of(req, "taskDefinition"))?;
    if !definition.active {
        return Err(ApiError::client(format!(
            "TaskDefinition is inactive: {}",
            definition.arn
        )));
    }
    let containers = overridden(definition, req, state.registry)?;
    let group = req
        .get("group")
        .and_then(Value::as_str)
        .map_or_else(|| format!("family:{}", definition.family), str::to_owned);
    let template = Started {
        task_definition: definition.arn.clone(),
        family: definition.family.clone(),
        behaviour: Behaviour::placement(containers.iter().map(|c| c.behaviour)),
        cpu: optional(definition, "cpu"),
        memory: optional(definition, "memory"),
        containers,
        group,
        started_by: started_by.to_owned(),
        launch_type: req
            .get("launchType")
            .and_then(Value::as_str)
            .map(str::to_owned),
        overrides: req.get("overrides").cloned().unwrap_or_else(|| json!({})),
        tags: req
            .get("tags")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    };
    let now = state.now;
    let identity = state.identity.clone();
    let cluster = state
        .clusters
        .get_mut(&name)
        .ok_or_else(ApiError::cluster_not_found)?;
    let mut ids = Vec::new();
    for _ in 0..count {
        let task = template.task(&identity.arn(&format!("task/{name}/")), now);
        ids.push(task.id.clone());
        cluster.tasks.insert(task.id.clone(), task);
    }
    if let Some(token) = token {
        cluster.client_tokens.insert(token.to_owned(), ids.clone());
    }
    let tasks: Vec<Value> = ids
        .iter()
        .filter_map(|id| cluster.tasks.get(id))
        .map(|t| t.render(&cluster.arn))
        .collect();
    Ok(json!({"tasks": tasks, "failures": []}))
}

/// StopTask: asks a task to stop ("When StopTask is called on a task, the equivalent of docker stop is
/// issued to the containers running in the task"), with the caller's reason; stopCode UserInitiated.
pub fn stop_task(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let name = cluster_name(req).to_owned();
    let cluster = state
        .clusters
        .get_mut(&name)
        .ok_or_else(ApiError::cluster_not_found)?;
    let id = str_of(req, "task")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let task = cluster
        .tasks
        .get_mut(&id)
        .ok_or_else(|| ApiError::invalid_parameter("The referenced task was not found."))?;
    let reason = req
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("Task stopped by user");
    task.stop(reason.to_owned(), "UserInitiated", Some(STOPPED_EXIT_CODE));
    let arn = cluster.arn.clone();
    let task = cluster.tasks.get(&id).map(|t| t.render(&arn));
    Ok(json!({"task": task}))
}

/// A task definition's member as text, when it has one.
fn optional(definition: &TaskDefinition, member: &str) -> Option<String> {
    definition
        .description
        .get(member)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The definition's containers with the request's command overrides, each digest as a task resolves it.
/// API reference, `ContainerOverride.name`: "The name of the container that receives the override";
/// *inferred:* a name the task definition lacks is an InvalidParameterException.
fn overridden(
    definition: &TaskDefinition,
    req: &Value,
    registry: bool,
) -> Result<Vec<ContainerSpec>, ApiError> {
    let mut containers = definition.containers();
    let overrides = req
        .get("overrides")
        .and_then(|o| o.get("containerOverrides"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for o in &overrides {
        let name = str_of(o, "name");
        let container = containers
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "Override for container named {name} is not a container in the TaskDefinition."
                ))
            })?;
        let command: Vec<&str> = o
            .get("command")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(behaviour) = Behaviour::from_command(&command) {
            container.behaviour = behaviour.map_err(ApiError::invalid_parameter)?;
        }
        if o.get("command").is_some() {
            container.command = command.iter().map(|c| (*c).to_owned()).collect();
        }
    }
    // A standalone task belongs to no service deployment, whose images are resolved once for all its
    // tasks: it resolves its own, as a task of `versionConsistency` disabled does.
    for container in &mut containers {
        container.consistent = false;
        container.digest = known_digest(&container.image, registry);
    }
    Ok(containers)
}

/// What every task of one RunTask call has in common.
struct Started {
    task_definition: String,
    family: String,
    behaviour: Behaviour,
    cpu: Option<String>,
    memory: Option<String>,
    containers: Vec<ContainerSpec>,
    group: String,
    started_by: String,
    launch_type: Option<String>,
    overrides: Value,
    tags: Vec<Value>,
}

impl Started {
    /// One task, its ARN `arn_prefix` and a new id, entering PROVISIONING at `now`.
    fn task(&self, arn_prefix: &str, now: u64) -> Task {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Task {
            arn: format!("{arn_prefix}{id}"),
            id,
            task_definition: self.task_definition.clone(),
            family: self.family.clone(),
            deployment_id: self.started_by.clone(),
            revision: String::new(),
            pull_error: None,
            service: String::new(),
            group: self.group.clone(),
            overrides: self.overrides.clone(),
            tags: self.tags.clone(),
            last_status: TaskStatus::Provisioning,
            desired_running: true,
            health: Health::Unknown,
            settled: false,
            behaviour: self.behaviour,
            status_since: now,
            stopped_since: None,
            containers: self.containers.clone(),
            created_at: epoch_now(),
            started_at: None,
            stopping_at: None,
            stopped_at: None,
            stopped_reason: None,
            stop_code: None,
            launch_type: self.launch_type.clone(),
            cpu: self.cpu.clone(),
            memory: self.memory.clone(),
            output: Vec::new(),
        }
    }
}
