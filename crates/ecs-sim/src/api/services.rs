//! CreateService, UpdateService and DeleteService: a service's deployments start as ECS starts them.

use serde_json::{Map, Value, json};

use crate::api::task_definitions::resolve_task_definition;
use crate::cluster::Cluster;
use crate::configuration::{DeploymentConfiguration, Strategy};
use crate::error::ApiError;
use crate::json::{epoch_now, str_of};
use crate::registry::known_digest;
use crate::request::{check_name, cluster_mut, cluster_name, last_segment, tags_of};
use crate::service::{Service, ServiceStatus};
use crate::state::State;
use crate::task::ContainerSpec;
use crate::task_definition::find_task_definition;
use ecs_model::model;

/// Most tasks one service may run (the ECS quota).
const MAX_TASKS_PER_SERVICE: i64 = 5000;

/// CreateService: a REPLICA or DAEMON service and its first deployment.
pub fn create_service(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let name = str_of(req, "serviceName");
    check_name("serviceName", name)?;
    let daemon = req.get("schedulingStrategy").and_then(Value::as_str) == Some("DAEMON");
    let controller = req
        .pointer("/deploymentController/type")
        .and_then(Value::as_str)
        .unwrap_or("ECS")
        .to_owned();
    // A DAEMON service runs one task on each container instance.
    let desired_count = match (daemon, desired_count(req)?) {
        (true, None) => state.instances,
        (true, Some(_)) => {
            return Err(ApiError::invalid_parameter(
                "The daemon scheduling strategy does not support a desired count for services.",
            ));
        }
        (false, Some(count)) => count,
        (false, None) => {
            return Err(ApiError::invalid_parameter(
                "desiredCount must be specified for the REPLICA scheduling strategy.",
            ));
        }
    };
    // An EXTERNAL service gets its task definition from its task sets.
    let task_definition = match req.get("taskDefinition").and_then(Value::as_str) {
        Some(reference) => Some(active_task_definition(state, reference)?),
        None if controller == "EXTERNAL" => None,
        None => {
            return Err(ApiError::invalid_parameter(
                "taskDefinition must be specified.",
            ));
        }
    };
    let mut deployment_configuration = if daemon {
        DeploymentConfiguration::daemon()
    } else {
        DeploymentConfiguration::default()
    };
    if let Some(config) = req.get("deploymentConfiguration") {
        deployment_configuration.update(config)?;
    }
    if daemon && deployment_configuration.strategy != Strategy::Rolling {
        return Err(ApiError::invalid_parameter(
            "DAEMON services support only the ROLLING deployment strategy.",
        ));
    }
    let images = task_definition
        .as_deref()
        .map(|td| images_of(state, td))
        .unwrap_or_default();
    let (identity, now, cluster_label) = (
        state.identity.clone(),
        state.now,
        cluster_name(req).to_owned(),
    );

    let arn = state
        .identity
        .arn(&format!("service/{}/{name}", cluster_name(req)));
    let cluster = cluster_mut(state, req)?;
    if cluster
        .services
        .get(name)
        .is_some_and(|s| s.status != ServiceStatus::Inactive)
    {
        return Err(ApiError::invalid_parameter(
            "Creation of service was not idempotent.",
        ));
    }
    let mut service = Service {
        name: name.to_owned(),
        arn,
        status: ServiceStatus::Active,
        desired_count,
        deployment_configuration,
        deployments: Vec::new(),
        last_completed: None,
        last_completed_revision: None,
        revisions: Vec::new(),
        service_deployments: Vec::new(),
        daemon,
        events: Default::default(),
        extra: service_members(req),
        tags: tags_of(req),
        launch_type: req
            .get("launchType")
            .and_then(Value::as_str)
            .map(str::to_owned),
        created_at: epoch_now(),
        last_placement_event: None,
        controller,
        task_set_definition: None,
    };
    // Services of other controllers deploy through task sets, which are not simulated: they run nothing.
    if service.controller == "ECS" {
        if let Some(task_definition) = task_definition {
            service.start_deployment(task_definition, images, &identity, &cluster_label, now);
        }
    } else {
        service.task_set_definition = task_definition;
    }
    cluster.services.insert(name.to_owned(), service);
    render_service(cluster, name)
}

/// UpdateService: a new deployment when the task definition changes or one is forced.
pub fn update_service(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let new_definition = match req.get("taskDefinition").and_then(Value::as_str) {
        Some(reference) => Some(active_task_definition(state, reference)?),
        None => None,
    };
    let desired_count = desired_count(req)?;
    let images = new_definition
        .as_deref()
        .map(|td| images_of(state, td))
        .unwrap_or_default();
    let (identity, now, cluster_label, registry) = (
        state.identity.clone(),
        state.now,
        cluster_name(req).to_owned(),
        state.registry,
    );
    let name = last_segment(str_of(req, "service")).to_owned();
    let cluster = cluster_mut(state, req)?;
    let service = cluster
        .services
        .get_mut(&name)
        .ok_or_else(ApiError::service_not_found)?;
    if service.status != ServiceStatus::Active {
        return Err(ApiError::service_not_active());
    }
    let force = req.get("forceNewDeployment").and_then(Value::as_bool) == Some(true);
    if service.controller != "ECS" && (new_definition.is_some() || force) {
        return Err(ApiError::invalid_parameter(match service.controller.as_str() {
            "CODE_DEPLOY" => "Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.".to_owned(),
            other => format!("Unable to update task definition on services with a {other} deployment controller. Use a task set to trigger a new deployment."),
        }));
    }
    if let Some(config) = req.get("deploymentConfiguration") {
        // Checked in full before anything changes.
        let mut updated = service.deployment_configuration.clone();
        updated.update(config)?;
        service.deployment_configuration = updated;
    }
    for (member, value) in service_members(req) {
        service.extra.insert(member, value);
    }
    if let Some(count) = desired_count {
        if service.daemon {
            return Err(ApiError::invalid_parameter(
                "The daemon scheduling strategy does not support a desired count for services.",
            ));
        }
        service.desired_count = count;
        if let Some(primary) = service.deployments.first_mut() {
            primary.desired_count = count;
        }
    }
    let current = service.primary().map(|d| d.task_definition.clone());
    let forced = current
        .clone()
        .filter(|_| force && new_definition.is_none());
    match (new_definition, forced) {
        (Some(target), _) if force || Some(&target) != current.as_ref() => {
            service.start_deployment(target, images, &identity, &cluster_label, now);
        }
        (None, Some(target)) => {
            // The same task definition again: its containers are the current revision's, and their tags
            // are resolved again, which is how a moved tag gets deployed.
            let images = service
                .revisions
                .last()
                .map(|r| r.images.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|mut c| {
                    if c.consistent {
                        c.digest = known_digest(&c.image, registry);
                    }
                    c
                })
                .collect();
            service.start_deployment(target, images, &identity, &cluster_label, now);
        }
        _ => {}
    }
    render_service(cluster, &name)
}

/// DeleteService: the service drains, then is INACTIVE.
pub fn delete_service(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let name = last_segment(str_of(req, "service")).to_owned();
    let force = req.get("force").and_then(Value::as_bool) == Some(true);
    let cluster = cluster_mut(state, req)?;
    let service = cluster
        .services
        .get_mut(&name)
        .ok_or_else(ApiError::service_not_found)?;
    if service.status != ServiceStatus::Active {
        return Err(ApiError::service_not_active());
    }
    if service.desired_count > 0 && !force {
        return Err(ApiError::invalid_parameter(
            "The service cannot be stopped while it is scaled above 0.",
        ));
    }
    service.status = ServiceStatus::Draining;
    service.desired_count = 0;
    render_service(cluster, &name)
}

/// The service named, as its answer gives it.
pub fn render_service(cluster: &Cluster, name: &str) -> Result<Value, ApiError> {
    let service = cluster
        .services
        .get(name)
        .ok_or_else(ApiError::service_not_found)?;
    Ok(json!({"service": service.render(&cluster.arn, &cluster.tasks, false)}))
}

/// The ARN of an ACTIVE task definition, for CreateService and UpdateService.
fn active_task_definition(state: &State, reference: &str) -> Result<String, ApiError> {
    let definition = resolve_task_definition(state, reference)?;
    if !definition.active {
        return Err(ApiError::client(format!(
            "TaskDefinition is inactive: {}",
            definition.arn
        )));
    }
    Ok(definition.arn.clone())
}

/// Request members that a Service echoes as given (networkConfiguration, platformVersion, ...): those the
/// Service shape has and that ecs-sim does not compute itself.
fn service_members(req: &Value) -> Map<String, Value> {
    const COMPUTED: [&str; 8] = [
        "serviceName",
        "desiredCount",
        "taskDefinition",
        "deploymentConfiguration",
        "tags",
        "launchType",
        "schedulingStrategy",
        "deploymentController",
    ];
    let shape: Vec<&str> = model().member_names("Service").collect();
    req.as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| shape.contains(&name.as_str()) && !COMPUTED.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// `desiredCount`, if given, within 0 and the tasks-per-service quota.
fn desired_count(req: &Value) -> Result<Option<u32>, ApiError> {
    let Some(count) = req.get("desiredCount").and_then(Value::as_i64) else {
        return Ok(None);
    };
    if !(0..=MAX_TASKS_PER_SERVICE).contains(&count) {
        return Err(ApiError::invalid_parameter(format!(
            "desiredCount must be between 0 and {MAX_TASKS_PER_SERVICE}; got {count}"
        )));
    }
    Ok(u32::try_from(count).ok())
}

/// The containers of a registered task definition for a new service revision, each with its digest where
/// it is known without asking the registry (see [`crate::registry`]).
fn images_of(state: &State, task_definition: &str) -> Vec<ContainerSpec> {
    find_task_definition(&state.families, task_definition)
        .map(|d| {
            d.containers()
                .into_iter()
                .map(|mut c| {
                    if c.consistent {
                        c.digest = known_digest(&c.image, state.registry);
                    }
                    c
                })
                .collect()
        })
        .unwrap_or_default()
}
