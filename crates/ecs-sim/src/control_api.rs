//! The `/_sim/` control API: statistics, injected faults, services deleted behind callers' backs, simulated
//! time, lagging reads, alarms, Lambda answers, the registry, the log sink and the API limits.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::control::FaultSpec;
use crate::lag::StaleReads;
use crate::limits::{Limits, Rate};
use crate::logs::LogSink;
use crate::registry::Registry;
use crate::service::ServiceStatus;
use crate::shared::{Shared, lock};

/// The control API's routes.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_sim/health",
            get(|| async { axum::Json(json!({"ok": true})) }),
        )
        .route("/_sim/stats", get(stats).delete(reset_stats))
        .route(
            "/_sim/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_sim/services/delete", post(delete_service))
        .route("/_sim/advance", post(advance))
        .route("/_sim/stale-reads", post(stale_reads))
        .route("/_sim/alarms", post(set_alarm))
        .route("/_sim/lambda", post(set_lambda))
        .route("/_sim/registry", post(set_registry))
        .route("/_sim/logs", post(set_logs))
        .route("/_sim/api-limits", get(api_limits).post(set_api_limits))
}

fn control_error(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": message})),
    )
        .into_response()
}

/// Parses a control API body; the error says why it does not fit.
fn control_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|err| format!("invalid body: {err}"))
}

async fn stats(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    axum::Json(lock(&shared.control).stats()).into_response()
}

async fn reset_stats(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    lock(&shared.control).reset_stats();
    StatusCode::NO_CONTENT.into_response()
}

async fn list_faults(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    axum::Json(lock(&shared.control).faults()).into_response()
}

async fn add_fault(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let spec: FaultSpec = match control_body(&body) {
        Ok(spec) => spec,
        Err(message) => return control_error(message),
    };
    match lock(&shared.control).add_fault(spec) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(message) => control_error(message),
    }
}

async fn clear_faults(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    lock(&shared.control).clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

/// Body of `POST /_sim/services/delete`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeleteService {
    /// Cluster name; `default` when absent.
    #[serde(default = "default_cluster")]
    cluster: String,
    /// Service name.
    service: String,
    /// Remove it outright (DescribeServices then reports it MISSING) instead of deleting it as ECS does
    /// (DRAINING, then INACTIVE).
    #[serde(default)]
    purge: bool,
}

fn default_cluster() -> String {
    "default".to_owned()
}

/// Deletes a service behind the caller's back, as an operator in the console would.
async fn delete_service(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let request: DeleteService = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    let mut state = lock(&shared.state);
    let Some(cluster) = state.clusters.get_mut(&request.cluster) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "no such cluster"})),
        )
            .into_response();
    };
    if request.purge {
        if cluster.services.remove(&request.service).is_none() {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": "no such service"})),
            )
                .into_response();
        }
        cluster.tasks.retain(|_, t| t.service != request.service);
        return StatusCode::NO_CONTENT.into_response();
    }
    let Some(service) = cluster.services.get_mut(&request.service) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "no such service"})),
        )
            .into_response();
    };
    if service.status == ServiceStatus::Active {
        service.status = ServiceStatus::Draining;
        service.desired_count = 0;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Body of `POST /_sim/advance`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// Simulated seconds to run at once.
    seconds: u64,
}

/// Runs simulated seconds at once, independent of the ticker.
async fn advance(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let request: Advance = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    for _ in 0..request.seconds {
        shared.step().await;
    }
    axum::Json(json!({"now": lock(&shared.state).now})).into_response()
}

async fn stale_reads(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let request: StaleReads = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    lock(&shared.state).lag = request.lag();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sim/alarms`: a CloudWatch alarm's state.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlarmState {
    /// The alarm's name.
    name: String,
    /// ALARM or OK.
    state: String,
}

async fn set_alarm(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let request: AlarmState = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    let in_alarm = match request.state.as_str() {
        "ALARM" => true,
        "OK" => false,
        other => return control_error(format!("state must be ALARM or OK; got {other}")),
    };
    lock(&shared.state).alarms.insert(request.name, in_alarm);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sim/lambda`: what a Lambda function answers the lifecycle hooks that invoke it with.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LambdaResult {
    /// The function's ARN, as a hook's `hookTargetArn` names it.
    function_arn: String,
    /// SUCCEEDED, FAILED or IN_PROGRESS.
    result: String,
}

async fn set_lambda(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let request: LambdaResult = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    if !["SUCCEEDED", "FAILED", "IN_PROGRESS"].contains(&request.result.as_str()) {
        return control_error(format!(
            "result must be SUCCEEDED, FAILED or IN_PROGRESS; got {}",
            request.result
        ));
    }
    lock(&shared.state)
        .lambdas
        .insert(request.function_arn, request.result);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sim/registry`: the ECR endpoint that resolves ECR images' tags from now on.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegistryEndpoint {
    /// The endpoint URL; `null` goes back to stable digests of image names.
    ecr_endpoint: Option<String>,
}

async fn set_registry(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let request: RegistryEndpoint = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    lock(&shared.state).registry = request.ecr_endpoint.is_some();
    *lock(&shared.registry) = request.ecr_endpoint.as_deref().map(Registry::new);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sim/logs`: the CloudWatch Logs endpoint the awslogs containers' output goes to from now on.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LogsEndpoint {
    /// The endpoint URL; `null` sends the output nowhere.
    logs_endpoint: Option<String>,
}

async fn set_logs(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let request: LogsEndpoint = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    *lock(&shared.logs) = request.logs_endpoint.as_deref().map(LogSink::new);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sim/api-limits`: ECS's rate limits on or off, with categories' rates overridden.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ApiLimits {
    /// `aws` or `none`.
    limits: String,
    /// Category name to `{"burst": N, "rate": N}`.
    #[serde(default)]
    overrides: BTreeMap<String, Rate>,
}

async fn api_limits(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let limits = lock(&shared.control)
        .limits
        .as_ref()
        .map_or(Value::Null, Limits::describe);
    axum::Json(json!({"limits": limits})).into_response()
}

async fn set_api_limits(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let request: ApiLimits = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    let limits = match request.limits.as_str() {
        "none" => None,
        "aws" => match Limits::aws(&request.overrides) {
            Ok(limits) => Some(limits),
            Err(message) => return control_error(message),
        },
        other => return control_error(format!("limits must be aws or none; got {other}")),
    };
    lock(&shared.control).limits = limits;
    StatusCode::NO_CONTENT.into_response()
}
