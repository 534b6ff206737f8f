//! Local HTTP endpoints: a receiver standing in for a Slack webhook, and an AWS endpoint that denies
//! every call.

use serde_json::Value;
use tokio::task::JoinHandle;

use super::REPORT_DEADLINE;

/// One request as received: headers by lower-case name, and the body.
pub type Raw = (std::collections::BTreeMap<String, String>, String);

/// A local HTTP receiver standing in for a Slack webhook: records every JSON body posted to it, and
/// answers only once it is open.
pub struct HttpReceiver {
    /// Its URL.
    pub url: String,
    /// The bodies received so far.
    pub bodies: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    /// Each request's headers (lower-case names) and body as received, in order.
    pub raw: std::sync::Arc<std::sync::Mutex<Vec<Raw>>>,
    /// Whether requests are answered.
    open: tokio::sync::watch::Sender<bool>,
    /// The server.
    task: JoinHandle<()>,
}

impl HttpReceiver {
    /// Starts on a free loopback port; `open`: answer at once, otherwise hold every request until
    /// [`HttpReceiver::open`].
    pub async fn start(open: bool) -> Self {
        use axum::extract::State;
        type Shared = (
            std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
            std::sync::Arc<std::sync::Mutex<Vec<Raw>>>,
            tokio::sync::watch::Receiver<bool>,
        );
        async fn post(
            State((bodies, raw, mut open)): State<Shared>,
            headers: axum::http::HeaderMap,
            body: String,
        ) -> &'static str {
            let headers = headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect();
            raw.lock().expect("raw").push((headers, body.clone()));
            let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
            bodies.lock().expect("bodies").push(value);
            let _ = open.wait_for(|o| *o).await;
            "ok"
        }
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let raw = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (open_tx, open_rx) = tokio::sync::watch::channel(open);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a receiver");
        let url = format!(
            "http://{}/services/T000/B000/hook",
            listener.local_addr().expect("address")
        );
        let app = axum::Router::new()
            .route("/services/T000/B000/hook", axum::routing::post(post))
            .with_state((bodies.clone(), raw.clone(), open_rx));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            bodies,
            raw,
            open: open_tx,
            task,
        }
    }

    /// Answers held and later requests.
    pub fn open(&self) {
        let _ = self.open.send(true);
    }

    /// Waits until `count` bodies arrived; returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        testbed::wait_until("webhook posts", REPORT_DEADLINE, || async {
            let bodies = self.bodies.lock().expect("bodies").clone();
            (bodies.len() >= count).then_some(bodies)
        })
        .await
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An AWS endpoint that answers every call AccessDenied, in the JSON protocol's words (a request with
/// `X-Amz-Target`) or the query protocol's (IAM): a policy without the call.
pub struct DenyingEndpoint {
    /// Its URL, for an `AWS_ENDPOINT_URL_<SERVICE>` variable.
    pub url: String,
    /// The server.
    task: JoinHandle<()>,
}

/// Starts a [`DenyingEndpoint`] on a free loopback port.
pub async fn denying_endpoint() -> DenyingEndpoint {
    use axum::http::{HeaderMap, StatusCode, header};
    async fn deny(headers: HeaderMap) -> axum::response::Response {
        use axum::response::IntoResponse;
        if headers.contains_key("x-amz-target") {
            let body = r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform this action"}"#;
            (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
                body,
            )
                .into_response()
        } else {
            let body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform this action</Message></Error><RequestId>1</RequestId></ErrorResponse>";
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/xml")],
                body,
            )
                .into_response()
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the denying endpoint");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let app = axum::Router::new().fallback(deny);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    DenyingEndpoint { url, task }
}

impl Drop for DenyingEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}
