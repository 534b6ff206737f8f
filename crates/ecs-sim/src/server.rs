//! The HTTP side: the AWS JSON 1.1 endpoint, the `/_sim/` control API, the ticker that drives simulated time,
//! and [`SimServer`], which runs all of it on a thread of its own for tests.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::api;
use crate::control::Control;
use crate::control_api;
use crate::error::ApiError;
use crate::identity::Identity;
use crate::lag::{LAGGED_READS, StaleReads};
use crate::limits::{Limits, Rate};
use crate::logs::LogSink;
use crate::registry::Registry;
use crate::shared::{Shared, lock};
use crate::state::State;
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
    /// A CloudWatch Logs endpoint (moto's server) the awslogs containers' output is written to, if any;
    /// `POST /_sim/logs` changes it later.
    pub logs_endpoint: Option<String>,
    /// ECS's API rate limits, with these categories' rates overridden, when on; `POST /_sim/api-limits`
    /// changes them later.
    pub api_limits: Option<BTreeMap<String, Rate>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            stale_reads: None,
            instances: crate::state::DEFAULT_INSTANCES,
            ecr_endpoint: None,
            logs_endpoint: None,
            api_limits: None,
            tick: Some(Duration::from_secs(1)),
            identity: Identity {
                region: "us-east-1".to_owned(),
                account_id: "123456789012".to_owned(),
            },
        }
    }
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
        logs: Mutex::new(config.logs_endpoint.as_deref().map(LogSink::new)),
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
        shared.step().await;
    }
}

/// The ECS endpoint and the control API.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", post(ecs_api))
        .merge(control_api::routes())
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
        lock(&shared.control).on_call("(unknown)", "");
        return answer(Err(ApiError::unknown_operation(target)));
    };
    let verdict = lock(&shared.control).on_call(operation, &String::from_utf8_lossy(&body));
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
