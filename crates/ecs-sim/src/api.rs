//! The ECS operations: one function each, taking the validated request and returning the response body.

use serde_json::{Map, Value, json};

use crate::behaviour::{self, Behaviour};
use crate::configuration::{DeploymentConfiguration, Strategy};
use crate::deployment_api;
use crate::error::ApiError;
use crate::registry::known_digest;
use crate::state::{
    Cluster, ContainerSpec, Service, ServiceStatus, State, TaskDefinition, epoch_now,
    find_task_definition, split_revision, str_of,
};
use ecs_model::model;

/// Largest page ListTasks and ListTaskDefinitions return, and their default.
const MAX_PAGE: usize = 100;
/// Most services one DescribeServices call may name.
const MAX_DESCRIBE_SERVICES: usize = 10;
/// Most tasks one DescribeTasks call may name.
const MAX_DESCRIBE_TASKS: usize = 100;
/// Most tasks one service may run (the ECS quota).
const MAX_TASKS_PER_SERVICE: i64 = 5000;

/// Validates `request` against the model and runs `operation` on `state`.
pub fn call(state: &mut State, operation: &str, request: &Value) -> Result<Value, ApiError> {
    let req = model().validate(operation, request)?;
    match operation {
        "CreateCluster" => create_cluster(state, &req),
        "DescribeClusters" => describe_clusters(state, &req),
        "RegisterTaskDefinition" => register_task_definition(state, &req),
        "DescribeTaskDefinition" => describe_task_definition(state, &req),
        "ListTaskDefinitions" => list_task_definitions(state, &req),
        "DeregisterTaskDefinition" => deregister_task_definition(state, &req),
        "CreateService" => create_service(state, &req),
        "UpdateService" => update_service(state, &req),
        "DeleteService" => delete_service(state, &req),
        "DescribeServices" => describe_services(state, &req),
        "ListServices" => list_services(state, &req),
        "ListTasks" => list_tasks(state, &req),
        "DescribeTasks" => describe_tasks(state, &req),
        "TagResource" => tag_resource(state, &req),
        "UntagResource" => untag_resource(state, &req),
        "ListTagsForResource" => list_tags_for_resource(state, &req),
        "ListServiceDeployments" => deployment_api::list(state, &req),
        "DescribeServiceDeployments" => deployment_api::describe(state, &req),
        "DescribeServiceRevisions" => deployment_api::describe_revisions(state, &req),
        "StopServiceDeployment" => deployment_api::stop(state, &req),
        "ContinueServiceDeployment" => deployment_api::continue_(state, &req),
        other => Err(ApiError::unknown_operation(other)),
    }
}

fn create_cluster(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let name = req
        .get("clusterName")
        .and_then(Value::as_str)
        .unwrap_or("default");
    check_name("clusterName", name)?;
    let arn = state.identity.arn(&format!("cluster/{name}"));
    let cluster = state
        .clusters
        .entry(name.to_owned())
        .or_insert_with(|| Cluster {
            name: name.to_owned(),
            arn,
            tags: tags_of(req),
            extra: members_except(req, &["clusterName", "tags"]),
            services: Default::default(),
            tasks: Default::default(),
        });
    Ok(json!({"cluster": cluster.render(true)}))
}

fn describe_clusters(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let names = strings_of(req, "clusters");
    let names = if names.is_empty() {
        vec!["default"]
    } else {
        names
    };
    let include_tags = includes_tags(req);
    let mut clusters = Vec::new();
    let mut failures = Vec::new();
    for reference in names {
        match state.clusters.get(last_segment(reference)) {
            Some(cluster) => clusters.push(cluster.render(include_tags)),
            None => failures.push(json!({
                "arn": state.identity.arn(&format!("cluster/{}", last_segment(reference))),
                "reason": "MISSING",
            })),
        }
    }
    Ok(json!({"clusters": clusters, "failures": failures}))
}

fn register_task_definition(state: &mut State, req: &Value) -> Result<Value, ApiError> {
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
    let mut behaviour = Behaviour::Healthy;
    for (i, container) in containers.iter().enumerate() {
        for member in ["name", "image"] {
            if str_of(container, member).is_empty() {
                return Err(ApiError::client(format!(
                    "containerDefinitions[{i}].{member} should not be null or empty."
                )));
            }
        }
        if let Some(label) = container
            .get("dockerLabels")
            .and_then(|labels| labels.get(behaviour::LABEL))
            .and_then(Value::as_str)
        {
            behaviour = label
                .parse()
                .map_err(|e: String| ApiError::client(format!("containerDefinitions[{i}]: {e}")))?;
        }
    }

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

fn compatibilities(req: &Value) -> Value {
    let mut out = vec!["EC2"];
    if strings_of(req, "requiresCompatibilities").contains(&"FARGATE") {
        out.push("FARGATE");
    }
    json!(out)
}

/// The revision a `family`, `family:revision` or ARN names; a bare family means its latest ACTIVE revision.
fn resolve_task_definition<'a>(
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

fn describe_task_definition(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let definition = resolve_task_definition(state, str_of(req, "taskDefinition"))?;
    let mut out = json!({"taskDefinition": definition.description});
    if includes_tags(req) {
        out["tags"] = json!(definition.tags);
    }
    Ok(out)
}

fn list_task_definitions(state: &mut State, req: &Value) -> Result<Value, ApiError> {
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

fn deregister_task_definition(state: &mut State, req: &Value) -> Result<Value, ApiError> {
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

fn create_service(state: &mut State, req: &Value) -> Result<Value, ApiError> {
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

fn update_service(state: &mut State, req: &Value) -> Result<Value, ApiError> {
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

fn delete_service(state: &mut State, req: &Value) -> Result<Value, ApiError> {
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

fn describe_services(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let names = strings_of(req, "services");
    if names.len() > MAX_DESCRIBE_SERVICES {
        return Err(ApiError::invalid_parameter(format!(
            "services can have at most {MAX_DESCRIBE_SERVICES} items."
        )));
    }
    let include_tags = includes_tags(req);
    let cluster_name = cluster_name(req).to_owned();
    let identity = state.identity.clone();
    let cluster = cluster_mut(state, req)?;
    let mut services = Vec::new();
    let mut failures = Vec::new();
    for reference in names {
        let name = last_segment(reference);
        match cluster.services.get(name) {
            Some(service) => services.push(service.render(cluster, include_tags)),
            None => failures.push(json!({
                "arn": identity.arn(&format!("service/{cluster_name}/{name}")),
                "reason": "MISSING",
            })),
        }
    }
    Ok(json!({"services": services, "failures": failures}))
}

fn list_tasks(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let cluster = cluster_mut(state, req)?;
    let service = req
        .get("serviceName")
        .and_then(Value::as_str)
        .map(last_segment);
    if let Some(name) = service
        && !cluster.services.contains_key(name)
    {
        return Err(ApiError::service_not_found());
    }
    let family = req.get("family").and_then(Value::as_str);
    let started_by = req.get("startedBy").and_then(Value::as_str);
    let launch_type = req.get("launchType").and_then(Value::as_str);
    let on_instance = req.get("containerInstance").is_some();
    // "When you specify startedBy as the filter, it must be the only filter that you use"; the desired
    // status, which always applies (RUNNING by default), is not counted as one.
    if started_by.is_some()
        && (service.is_some() || family.is_some() || launch_type.is_some() || on_instance)
    {
        return Err(ApiError::invalid_parameter(
            "startedBy must be the only filter: it cannot be combined with serviceName, family, \
             containerInstance or launchType.",
        ));
    }
    let want_running = match req
        .get("desiredStatus")
        .and_then(Value::as_str)
        .unwrap_or("RUNNING")
    {
        "RUNNING" => Some(true),
        "STOPPED" => Some(false),
        _ => None,
    };
    let arns: Vec<String> = cluster
        .tasks
        .values()
        .filter(|t| {
            !on_instance
                && want_running == Some(t.desired_running)
                && service.is_none_or(|s| s == t.service)
                && family.is_none_or(|f| f == t.family)
                && started_by.is_none_or(|s| s == t.deployment_id)
                && launch_type.is_none_or(|l| Some(l) == t.launch_type.as_deref())
        })
        .map(|t| t.arn.clone())
        .collect();
    let (page, next) = paginate(arns, req)?;
    Ok(with_next_token(json!({"taskArns": page}), next))
}

/// ListServices: the cluster's services that are not INACTIVE, by launch type and scheduling strategy when
/// asked; ten a page unless `maxResults` says otherwise (ECS's default).
fn list_services(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    const DEFAULT_PAGE: u64 = 10;
    let cluster = cluster_mut(state, req)?;
    let launch_type = req.get("launchType").and_then(Value::as_str);
    let daemon = match req.get("schedulingStrategy").and_then(Value::as_str) {
        None => None,
        Some("DAEMON") => Some(true),
        Some("REPLICA") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "schedulingStrategy must be REPLICA or DAEMON; got {other}"
            )));
        }
    };
    let mut arns: Vec<(f64, String)> = cluster
        .services
        .values()
        .filter(|s| s.status != ServiceStatus::Inactive)
        .filter(|s| launch_type.is_none_or(|l| Some(l) == s.launch_type.as_deref()))
        .filter(|s| daemon.is_none_or(|d| d == s.daemon))
        .map(|s| (s.created_at, s.arn.clone()))
        .collect();
    arns.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut paged = req.clone();
    if paged.get("maxResults").is_none() {
        paged["maxResults"] = json!(DEFAULT_PAGE);
    }
    let (page, next) = paginate(arns.into_iter().map(|(_, arn)| arn).collect(), &paged)?;
    Ok(with_next_token(json!({"serviceArns": page}), next))
}

fn describe_tasks(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let references = strings_of(req, "tasks");
    if references.len() > MAX_DESCRIBE_TASKS {
        return Err(ApiError::invalid_parameter(format!(
            "tasks can have at most {MAX_DESCRIBE_TASKS} items."
        )));
    }
    let cluster_name = cluster_name(req).to_owned();
    let identity = state.identity.clone();
    let cluster = cluster_mut(state, req)?;
    let mut tasks = Vec::new();
    let mut failures = Vec::new();
    for reference in references {
        let id = last_segment(reference);
        match cluster.tasks.get(id) {
            Some(task) => tasks.push(task.render(&cluster.arn)),
            None => failures.push(json!({
                "arn": identity.arn(&format!("task/{cluster_name}/{id}")),
                "reason": "MISSING",
            })),
        }
    }
    Ok(json!({"tasks": tasks, "failures": failures}))
}

fn tag_resource(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let tags = tags_mut(state, str_of(req, "resourceArn"))?;
    for tag in req
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = str_of(tag, "key");
        tags.retain(|t| str_of(t, "key") != key);
        tags.push(tag.clone());
    }
    Ok(json!({}))
}

fn untag_resource(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let keys = strings_of(req, "tagKeys")
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let tags = tags_mut(state, str_of(req, "resourceArn"))?;
    tags.retain(|t| !keys.iter().any(|k| k == str_of(t, "key")));
    Ok(json!({}))
}

fn list_tags_for_resource(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let tags = tags_mut(state, str_of(req, "resourceArn"))?;
    Ok(json!({"tags": tags}))
}

/// The tags of the cluster, service or task definition an ARN names.
fn tags_mut<'a>(state: &'a mut State, arn: &str) -> Result<&'a mut Vec<Value>, ApiError> {
    let resource = arn
        .strip_prefix("arn:aws:ecs:")
        .and_then(|rest| rest.splitn(3, ':').nth(2))
        .ok_or_else(|| ApiError::invalid_parameter(format!("Invalid resource ARN: {arn}")))?;
    let parts: Vec<&str> = resource.split('/').collect();
    match parts.as_slice() {
        ["cluster", name] => state.clusters.get_mut(*name).map(|c| &mut c.tags),
        ["service", cluster, name] => state
            .clusters
            .get_mut(*cluster)
            .and_then(|c| c.services.get_mut(*name))
            .map(|s| &mut s.tags),
        ["task-definition", name] => {
            let (family, index) = split_revision(name).ok_or_else(|| {
                ApiError::invalid_parameter(format!("Invalid resource ARN: {arn}"))
            })?;
            state
                .families
                .get_mut(family)
                .and_then(|revisions| revisions.get_mut(index))
                .map(|d| &mut d.tags)
        }
        _ => {
            return Err(ApiError::invalid_parameter(format!(
                "ecs-sim tags clusters, services and task definitions; not {arn}"
            )));
        }
    }
    .ok_or_else(ApiError::resource_not_found)
}

fn render_service(cluster: &Cluster, name: &str) -> Result<Value, ApiError> {
    let service = cluster
        .services
        .get(name)
        .ok_or_else(ApiError::service_not_found)?;
    Ok(json!({"service": service.render(cluster, false)}))
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

pub(crate) fn cluster_name(req: &Value) -> &str {
    req.get("cluster")
        .and_then(Value::as_str)
        .map(last_segment)
        .unwrap_or("default")
}

pub(crate) fn cluster_mut<'a>(
    state: &'a mut State,
    req: &Value,
) -> Result<&'a mut Cluster, ApiError> {
    state
        .clusters
        .get_mut(cluster_name(req))
        .ok_or_else(ApiError::cluster_not_found)
}

/// The name or id at the end of an ARN (or the reference itself when it is no ARN).
pub(crate) fn last_segment(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// Names of clusters, services and families: up to 255 letters, digits, hyphens and underscores.
fn check_name(member: &str, name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "{member} '{name}' is invalid: up to 255 letters (uppercase and lowercase), numbers, \
             hyphens, and underscores are allowed."
        )))
    }
}

pub(crate) fn strings_of<'a>(req: &'a Value, member: &str) -> Vec<&'a str> {
    req.get(member)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn includes_tags(req: &Value) -> bool {
    strings_of(req, "include").contains(&"TAGS")
}

fn tags_of(req: &Value) -> Vec<Value> {
    req.get("tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn members_except(req: &Value, excluded: &[&str]) -> Map<String, Value> {
    req.as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| !excluded.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// One page of `items` per the request's `maxResults` and `nextToken`, and the token of the next page.
pub(crate) fn paginate(
    items: Vec<String>,
    req: &Value,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    let page_size = match req.get("maxResults").and_then(Value::as_u64) {
        None => MAX_PAGE,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid_parameter(format!(
                "maxResults must be between 1 and {MAX_PAGE}; got {n}"
            )));
        }
    };
    let start = match req.get("nextToken").and_then(Value::as_str) {
        None => 0,
        Some(token) => token
            .strip_prefix("ecs-sim-page:")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ApiError::invalid_parameter("Invalid nextToken."))?,
    };
    let end = (start + page_size).min(items.len());
    let next = (end < items.len()).then(|| format!("ecs-sim-page:{end}"));
    Ok((items[start..end].to_vec(), next))
}

pub(crate) fn with_next_token(mut out: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        out["nextToken"] = json!(token);
    }
    out
}
