//! The HTTP side: the AWS JSON 1.1 endpoint, the `/_sim/` control API, the ticker that drives simulated time,
//! and [`SimServer`], which runs all of it on a thread of its own for tests.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::api;
use crate::control::{Control, FaultSpec};
use crate::error::ApiError;
use crate::lag::{LAGGED_READS, Lag};
use crate::limits::{Limits, Rate};
use crate::registry::Registry;
use crate::state::{Identity, ServiceStatus, State};
use ecs_model::model;

/// The `X-Amz-Target` prefix of every ECS operation.
const TARGET_PREFIX: &str = "AmazonEC2ContainerServiceV20141113.";
/// The content type of AWS JSON 1.1 requests and answers.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// How the simulator runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Real time per simulated second; `None` runs no ticker, so time moves only by `POST /_sim/advance`
    /// (for tests that step through a rollout).
    pub tick: Option<Duration>,
    /// Region and account for ARNs.
    pub identity: Identity,
    /// Eventually consistent reads from the start, if any (see [`crate::lag`]); `POST /_sim/stale-reads`
    /// changes them later.
    pub stale_reads: Option<StaleReads>,
    /// Container instances in each cluster: how many tasks a DAEMON service runs.
    pub instances: u32,
    /// An ECR endpoint (moto's server) that resolves ECR images' tags to digests, if any;
    /// `POST /_sim/registry` changes it later.
    pub ecr_endpoint: Option<String>,
    /// ECS's API rate limits, with these categories' rates overridden, when on; `POST /_sim/api-limits`
    /// changes them later.
    pub api_limits: Option<BTreeMap<String, Rate>>,
}

/// Reads that may see the state of a few simulated seconds ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaleReads {
    /// The most simulated seconds a read may be behind; 0 turns lagging reads off.
    pub max_lag_seconds: u64,
    /// Seeds the choice of each read's lag, so a run can be repeated.
    #[serde(default)]
    pub seed: u64,
}

impl StaleReads {
    fn lag(self) -> Option<Lag> {
        (self.max_lag_seconds > 0).then(|| Lag::new(self.max_lag_seconds, self.seed))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            stale_reads: None,
            instances: crate::state::DEFAULT_INSTANCES,
            ecr_endpoint: None,
            api_limits: None,
            tick: Some(Duration::from_secs(1)),
            identity: Identity {
                region: "us-east-1".to_owned(),
                account_id: "123456789012".to_owned(),
            },
        }
    }
}

/// Everything the handlers share.
struct Shared {
    /// The control plane.
    state: Mutex<State>,
    /// Faults and statistics; separate from `state` so counting a call never waits on a tick.
    control: Mutex<Control>,
    /// Where ECR images' digests are asked, outside the state's lock.
    registry: Mutex<Option<Registry>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves the simulation as it was; keep serving it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves the simulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut state = State::new(config.identity);
    state.lag = config.stale_reads.and_then(StaleReads::lag);
    state.instances = config.instances;
    state.registry = config.ecr_endpoint.is_some();
    let mut control = Control::default();
    if let Some(overrides) = &config.api_limits {
        control.limits = Some(Limits::aws(overrides).map_err(std::io::Error::other)?);
    }
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        control: Mutex::new(control),
        registry: Mutex::new(config.ecr_endpoint.as_deref().map(Registry::new)),
    });
    let ticker = config
        .tick
        .map(|period| tokio::spawn(tick(shared.clone(), period)));
    let app = router(shared);
    let result = tokio::select! {
        result = axum::serve(listener, app) => result,
        () = shutdown => Ok(()),
    };
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    result
}

/// Advances simulated time by one second every `period` of real time.
async fn tick(shared: Arc<Shared>, period: Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        resolve_digests(&shared).await;
        lock(&shared.state).tick();
        lock(&shared.control).tick();
    }
}

/// Asks the registry, if any, for the image digests the simulation waits for, without holding the
/// state's lock while it answers.
async fn resolve_digests(shared: &Shared) {
    let Some(registry) = lock(&shared.registry).clone() else {
        return;
    };
    let images = lock(&shared.state).unresolved_images();
    if images.is_empty() {
        return;
    }
    let mut resolved = BTreeMap::new();
    for image in images {
        let digest = registry.resolve(&image).await;
        resolved.insert(image, digest);
    }
    lock(&shared.state).apply_digests(&resolved);
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", post(ecs_api))
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
        .route("/_sim/api-limits", get(api_limits).post(set_api_limits))
        .with_state(shared)
}

/// The ECS API: `X-Amz-Target` names the operation, the body is its JSON input.
async fn ecs_api(
    AxumState(shared): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .filter(|op| model().has_operation(op));
    let Some(operation) = operation else {
        lock(&shared.control).on_call("(unknown)");
        return answer(Err(ApiError::unknown_operation(target)));
    };
    let verdict = lock(&shared.control).on_call(operation);
    if !verdict.delay.is_zero() {
        tokio::time::sleep(verdict.delay).await;
    }
    if let Some(error) = verdict.error {
        tracing::debug!(operation, error = %error, "injected fault");
        return answer(Err(error));
    }
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(err) => {
                return answer(Err(ApiError::serialization(format!(
                    "Body is not JSON: {err}"
                ))));
            }
        }
    };
    let result = {
        let mut state = lock(&shared.state);
        if LAGGED_READS.contains(&operation) {
            state.read(|state| api::call(state, operation, &request))
        } else {
            api::call(&mut state, operation, &request)
        }
    };
    match &result {
        Ok(_) => tracing::debug!(operation, "ok"),
        Err(error) => tracing::info!(operation, error = %error, "rejected"),
    }
    if let Some(error) = verdict.lost_answer {
        tracing::debug!(operation, error = %error, "injected fault after the call");
        return answer(Err(error));
    }
    answer(result)
}

fn answer(result: Result<Value, ApiError>) -> Response {
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => (
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
            error.body(),
        ),
    };
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
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
        resolve_digests(&shared).await;
        lock(&shared.state).tick();
        lock(&shared.control).tick();
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

/// A simulator serving on a loopback port from a thread of its own; dropping it stops it.
///
/// Its own thread and runtime make it usable from synchronous tests and from any async runtime, and
/// mean a test's runtime shutting down never stops the simulator before the test is done with it.
pub struct SimServer {
    /// Where it listens.
    addr: SocketAddr,
    /// Tells the server to stop; taken on drop.
    shutdown: Option<oneshot::Sender<()>>,
    /// The server's thread; joined on drop so nothing outlives the handle.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimServer {
    /// Starts a simulator on a free port of 127.0.0.1; it answers as soon as this returns.
    pub fn start(config: Config) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("ecs-sim-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(err) => {
                            tracing::error!(%err, "ecs-sim could not listen");
                            return;
                        }
                    };
                    let stop = async move {
                        let _ = stop.await;
                    };
                    if let Err(err) = serve(listener, config, stop).await {
                        tracing::error!(%err, "ecs-sim stopped");
                    }
                });
            })?;
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Its endpoint URL, for `AWS_ENDPOINT_URL_ECS` or `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
