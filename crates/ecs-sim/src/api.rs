//! The ECS operations: each request validated against ECS's request shapes, then carried out by the
//! operation's function, one file per resource.

use serde_json::Value;

use crate::error::ApiError;
use crate::state::State;
use ecs_model::model;

mod clusters;
mod run_task;
mod service_deployments;
mod service_reads;
mod services;
mod tags;
mod task_definitions;
mod tasks;

/// Validates `request` against the model and runs `operation` on `state`.
pub fn call(state: &mut State, operation: &str, request: &Value) -> Result<Value, ApiError> {
    let req = model().validate(operation, request)?;
    match operation {
        "CreateCluster" => clusters::create_cluster(state, &req),
        "DescribeClusters" => clusters::describe_clusters(state, &req),
        "RegisterTaskDefinition" => task_definitions::register_task_definition(state, &req),
        "DescribeTaskDefinition" => task_definitions::describe_task_definition(state, &req),
        "ListTaskDefinitions" => task_definitions::list_task_definitions(state, &req),
        "DeregisterTaskDefinition" => task_definitions::deregister_task_definition(state, &req),
        "CreateService" => services::create_service(state, &req),
        "UpdateService" => services::update_service(state, &req),
        "DeleteService" => services::delete_service(state, &req),
        "DescribeServices" => service_reads::describe_services(state, &req),
        "ListServices" => service_reads::list_services(state, &req),
        "RunTask" => run_task::run_task(state, &req),
        "StopTask" => run_task::stop_task(state, &req),
        "ListTasks" => tasks::list_tasks(state, &req),
        "DescribeTasks" => tasks::describe_tasks(state, &req),
        "TagResource" => tags::tag_resource(state, &req),
        "UntagResource" => tags::untag_resource(state, &req),
        "ListTagsForResource" => tags::list_tags_for_resource(state, &req),
        "ListServiceDeployments" => service_deployments::list(state, &req),
        "DescribeServiceDeployments" => service_deployments::describe(state, &req),
        "DescribeServiceRevisions" => service_deployments::describe_revisions(state, &req),
        "StopServiceDeployment" => service_deployments::stop(state, &req),
        "ContinueServiceDeployment" => service_deployments::continue_(state, &req),
        other => Err(ApiError::unknown_operation(other)),
    }
}
