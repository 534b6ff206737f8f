//! The HTTP endpoint served when `HTTP_LISTEN` is set: `/healthz` (the worker has reached SQS recently),
//! `/readyz` (it is receiving deployments) and `/metrics` (Prometheus text format).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;

use crate::ops::health::{Health, Liveness};
use crate::ops::metrics::Metrics;

/// The content type of the classic Prometheus text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics text, for scrapers that ask for it.
const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the handlers read.
#[derive(Clone)]
struct Endpoint {
    /// For `/healthz` and `/readyz`.
    health: Health,
    /// For `/metrics`.
    metrics: Metrics,
}

/// Binds `address`; the error names `HTTP_LISTEN`.
pub async fn bind(address: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(address)
        .await
        .map_err(|e| format!("HTTP_LISTEN: cannot listen on {address}: {e}"))
}

/// Serves the endpoint on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, health: Health, metrics: Metrics) {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(Endpoint { health, metrics });
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "the HTTP endpoint stopped");
    }
}

async fn healthz(State(endpoint): State<Endpoint>) -> Response {
    match endpoint.health.liveness() {
        Liveness::Healthy(ago) => (
            StatusCode::OK,
            axum::Json(json!({
                "status": "ok",
                "last_sqs_contact_seconds_ago": ago.map(|d| d.as_secs_f64()),
            })),
        )
            .into_response(),
        Liveness::Unhealthy(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unhealthy", "reason": reason})),
        )
            .into_response(),
    }
}

async fn readyz(State(endpoint): State<Endpoint>) -> Response {
    if endpoint.health.ready() {
        (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({"status": "not ready", "reason": "the worker is starting or stopping"}),
            ),
        )
            .into_response()
    }
}

async fn metrics_text(State(endpoint): State<Endpoint>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let mut text = endpoint.metrics.encode();
    let content_type = if openmetrics {
        OPENMETRICS_TEXT
    } else {
        // The classic format has no end marker; everything else OpenMetrics writes is valid in it.
        if let Some(stripped) = text.strip_suffix("# EOF\n") {
            text.truncate(stripped.len());
        }
        PROMETHEUS_TEXT
    };
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}
