//! A recording pass-through in front of an emulator: every AWS call the worker makes goes through it, and
//! it notes which operation was called and when, so the harness can time events the worker causes (a
//! DeleteMessage, a RegisterTaskDefinition) and count calls without touching the worker.
//!
//! It forwards each request unchanged and answers with the emulator's answer; on loopback it adds well
//! under a millisecond per call.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

/// One call that went through.
#[derive(Debug, Clone)]
pub struct Call {
    /// The operation, from the `X-Amz-Target` header (`ReceiveMessage`, `DescribeServices`).
    pub operation: String,
    /// When the request arrived, on the wall clock (to compare with emulator timestamps).
    pub at: SystemTime,
    /// When the request arrived, on the monotonic clock (to compare with the harness's own instants).
    pub instant: Instant,
}

/// A ReceiveMessage answer that carried messages, as it left the proxy for the worker.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// When it left, on the wall clock.
    pub at: SystemTime,
}

/// The calls seen so far; shared between the proxy and the harness.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Every call, in arrival order.
    calls: Mutex<Vec<Call>>,
    /// Every ReceiveMessage answer with messages, in order.
    deliveries: Mutex<Vec<Delivery>>,
    /// Woken on every call, so waiting for one needs no polling.
    arrived: Notify,
}

impl Recorder {
    fn record(&self, operation: String) {
        let call = Call {
            operation,
            at: SystemTime::now(),
            instant: Instant::now(),
        };
        self.lock().push(call);
        self.arrived.notify_waiters();
    }

    fn delivered(&self) {
        let delivery = Delivery {
            at: SystemTime::now(),
        };
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(delivery);
    }

    /// The first ReceiveMessage answer with messages at or after `after`.
    pub fn delivery_after(&self, after: SystemTime) -> Option<Delivery> {
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|d| d.at >= after)
            .copied()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Call>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A mark for [`Recorder::since`]: the number of calls so far.
    pub fn mark(&self) -> usize {
        self.lock().len()
    }

    /// The calls after `mark`.
    pub fn since(&self, mark: usize) -> Vec<Call> {
        self.lock()
            .get(mark..)
            .map(<[Call]>::to_vec)
            .unwrap_or_default()
    }

    /// The calls of `operation` after `mark`.
    pub fn of(&self, mark: usize, operation: &str) -> Vec<Call> {
        self.since(mark)
            .into_iter()
            .filter(|c| c.operation == operation)
            .collect()
    }

    /// Waits until `count` calls of `operation` arrived after `mark`, for at most `deadline`; returns them.
    pub async fn wait_for(
        &self,
        mark: usize,
        operation: &str,
        count: usize,
        deadline: Duration,
    ) -> Result<Vec<Call>, String> {
        let give_up = tokio::time::Instant::now() + deadline;
        loop {
            let arrived = self.arrived.notified();
            let calls = self.of(mark, operation);
            if calls.len() >= count {
                return Ok(calls);
            }
            if tokio::time::timeout_at(give_up, arrived).await.is_err() {
                return Err(format!(
                    "{} of {count} {operation} calls arrived within {deadline:?}",
                    calls.len()
                ));
            }
        }
    }
}

/// What the proxy needs per request.
struct Upstream {
    /// The emulator's endpoint, `http://127.0.0.1:PORT`.
    endpoint: String,
    /// Connections to it, kept alive.
    client: reqwest::Client,
    /// Where calls are noted.
    recorder: Arc<Recorder>,
}

/// A running proxy: its endpoint for the worker and its recorder for the harness.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_*`.
    pub endpoint: String,
    /// The calls that went through.
    pub recorder: Arc<Recorder>,
}

/// Starts a proxy to `upstream` on a free loopback port; it runs until the runtime stops.
pub async fn start(upstream: &str) -> Result<Proxy, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot build the proxy's HTTP client: {e}"))?;
    let recorder = Arc::new(Recorder::default());
    let state = Arc::new(Upstream {
        endpoint: upstream.trim_end_matches('/').to_owned(),
        client,
        recorder: recorder.clone(),
    });
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| format!("cannot listen on loopback: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    let app = axum::Router::new().fallback(forward).with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Proxy {
        endpoint: format!("http://{address}"),
        recorder,
    })
}

/// The operation named by an AWS JSON protocol request's `X-Amz-Target` (`AmazonSQS.ReceiveMessage`).
pub fn operation_of(target: Option<&str>) -> String {
    target
        .and_then(|t| t.rsplit('.').next())
        .filter(|op| !op.is_empty())
        .unwrap_or("unknown")
        .to_owned()
}

/// Whether a ReceiveMessage answer (AWS JSON) holds at least one message.
pub fn carries_messages(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("Messages")?.as_array().map(|m| !m.is_empty()))
        .unwrap_or(false)
}

/// Headers that belong to one connection and are not passed on.
fn hop_by_hop(name: &HeaderName) -> bool {
    [
        header::HOST,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
    ]
    .contains(name)
}

async fn forward(State(upstream): State<Arc<Upstream>>, request: Request) -> Response {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    let operation = operation_of(target);
    let receive = operation == "ReceiveMessage";
    upstream.recorder.record(operation);
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = upstream
        .client
        .request(parts.method, format!("{}{path}", upstream.endpoint))
        .body(body);
    for (name, value) in parts.headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        outgoing = outgoing.header(name, value);
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let body: Bytes = match answer.bytes().await {
        Ok(body) => body,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    if receive && carries_messages(&body) {
        upstream.recorder.delivered();
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        response.headers_mut().append(name, value.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_read_from_the_target_header() {
        for (target, operation) in [
            (Some("AmazonSQS.ReceiveMessage"), "ReceiveMessage"),
            (
                Some("AmazonEC2ContainerServiceV20141113.DescribeServices"),
                "DescribeServices",
            ),
            (Some("Bare"), "Bare"),
            (Some("Trailing."), "unknown"),
            (None, "unknown"),
        ] {
            assert_eq!(operation_of(target), operation, "{target:?}");
        }
    }

    #[test]
    fn answers_with_messages_are_told_from_empty_ones() {
        assert!(carries_messages(br#"{"Messages":[{"MessageId":"1"}]}"#));
        assert!(!carries_messages(br#"{"Messages":[]}"#));
        assert!(!carries_messages(b"{}"));
        assert!(!carries_messages(b"<xml/>"));
    }

    #[tokio::test]
    async fn waiting_returns_once_enough_calls_arrived_and_says_how_many_did_otherwise() {
        let recorder = Arc::new(Recorder::default());
        let mark = recorder.mark();
        recorder.record("ReceiveMessage".into());
        let waiter = {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                recorder
                    .wait_for(mark, "DeleteMessage", 2, Duration::from_secs(10))
                    .await
            })
        };
        recorder.record("DeleteMessage".into());
        recorder.record("DeleteMessage".into());
        let calls = waiter.await.expect("joined").expect("two deletes");
        assert_eq!(calls.len(), 2);
        let err = recorder
            .wait_for(mark, "DeleteMessage", 3, Duration::from_millis(20))
            .await
            .expect_err("only two");
        assert!(err.starts_with("2 of 3 DeleteMessage"), "{err}");
        assert_eq!(recorder.of(recorder.mark(), "DeleteMessage").len(), 0);
    }
}
