//! A recording HTTP proxy in front of moto's SQS or ecs-sim: records every call in order, and for SQS what
//! it answered; it can hold the worker's visibility extensions, or every call, the way a slow network
//! would, and counts how many calls were in flight at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::REPORT_DEADLINE;
use super::calls::{Kind, kind, succeeded};

/// Which requests the proxy holds back before forwarding them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// None: everything is forwarded at once.
    Nothing,
    /// Each extension (a visibility change above zero) until a release or delete of one of its messages
    /// has been answered, or this long: an extension still on its way while the worker gives the message
    /// up.
    ExtensionsUntilSettled(Duration),
    /// The first extension for good (it is never answered); the rest go through.
    FirstExtensionForever,
    /// Every call this long, as a slow endpoint answers.
    Every(Duration),
}

/// What went through the proxy, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An extension arrived (the receipt handles it names); it may be held.
    ExtensionArrived(Vec<String>),
    /// SQS extended these receipt handles' visibility.
    Extended(Vec<String>),
    /// SQS refused to extend these receipt handles' visibility (settled, or no longer valid).
    ExtensionRefused(Vec<String>),
    /// SQS answered a release (visibility zero) of these receipt handles.
    Released(Vec<String>),
    /// SQS answered a delete of these receipt handles.
    Deleted(Vec<String>),
    /// SQS delivered these messages (message id, receipt handle).
    Received(Vec<(String, String)>),
    /// A call arrived: its operation (from `X-Amz-Target`, without the service prefix) and its JSON body.
    Call(String, Value),
}

/// The proxy: point the worker's endpoint at [`Proxy::url`].
pub struct Proxy {
    /// Its URL.
    pub url: String,
    /// What it does and saw, shared with the server.
    state: Arc<Shared>,
    /// The server.
    task: JoinHandle<()>,
}

/// The proxy's state.
struct Shared {
    /// The endpoint it stands in front of.
    upstream: String,
    /// The client requests are forwarded with.
    client: reqwest::Client,
    /// What to hold.
    hold: Mutex<Hold>,
    /// Everything seen so far, in order.
    events: Mutex<Vec<Event>>,
    /// Bumped on every event, to wait on.
    changed: watch::Sender<usize>,
    /// Calls forwarded and not answered yet.
    in_flight: AtomicUsize,
    /// The most calls in flight at once so far.
    most_in_flight: AtomicUsize,
    /// When each call arrived, in order.
    arrivals: Mutex<Vec<tokio::time::Instant>>,
}

/// A call in flight through the proxy, counted while it lives.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn new(state: &Arc<Shared>) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.most_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    fn record(&self, event: Event) {
        self.events.lock().expect("events").push(event);
        self.changed.send_modify(|n| *n += 1);
    }

    fn settled(&self, handles: &[String]) -> bool {
        self.events.lock().expect("events").iter().any(|e| match e {
            Event::Released(h) | Event::Deleted(h) => h.iter().any(|h| handles.contains(h)),
            _ => false,
        })
    }

    fn extensions_arrived(&self) -> usize {
        self.events
            .lock()
            .expect("events")
            .iter()
            .filter(|e| matches!(e, Event::ExtensionArrived(_)))
            .count()
    }
}

impl Proxy {
    /// Starts on a free loopback port in front of `upstream`, holding nothing.
    pub async fn start(upstream: &str) -> Self {
        let (changed, _) = watch::channel(0);
        let state = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            hold: Mutex::new(Hold::Nothing),
            events: Mutex::new(Vec::new()),
            changed,
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
            arrivals: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state, task }
    }

    /// Changes what is held from now on.
    pub fn hold(&self, hold: Hold) {
        *self.state.hold.lock().expect("hold") = hold;
    }

    /// The most calls that were in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.state.most_in_flight.load(Ordering::SeqCst)
    }

    /// When each call arrived, in order.
    pub fn arrivals(&self) -> Vec<tokio::time::Instant> {
        self.state.arrivals.lock().expect("arrivals").clone()
    }

    /// Everything seen so far.
    pub fn events(&self) -> Vec<Event> {
        self.state.events.lock().expect("events").clone()
    }

    /// Waits until `what` holds of the events (up to [`REPORT_DEADLINE`]); `name` says what for.
    pub async fn wait_for(&self, name: &str, what: impl Fn(&[Event]) -> bool) {
        let mut changed = self.state.changed.subscribe();
        let waited = tokio::time::timeout(REPORT_DEADLINE, async {
            loop {
                if what(&self.events()) {
                    return;
                }
                if changed.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(
            waited.is_ok() && what(&self.events()),
            "{name}: not within {REPORT_DEADLINE:?}; the proxy saw {:#?}",
            self.events()
        );
    }

    /// The JSON bodies of the calls of `operation` so far.
    pub fn calls(&self, operation: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Call(op, body) if op == operation => Some(body),
                _ => None,
            })
            .collect()
    }

    /// Receipt handles SQS extended after it had answered their release: a message given back and then
    /// hidden again.
    pub fn extended_after_release(&self) -> Vec<String> {
        let mut released: Vec<String> = Vec::new();
        let mut late = Vec::new();
        for event in self.events() {
            match event {
                Event::Released(handles) => released.extend(handles),
                Event::Extended(handles) => {
                    late.extend(handles.into_iter().filter(|h| released.contains(h)));
                }
                _ => {}
            }
        }
        late
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Forwards one request upstream, holding it first when asked to. The forwarding runs on its own, so a
/// request the worker gave up on still reaches SQS, as it would over a real network.
async fn forward(
    State(state): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (answer, answered) = oneshot::channel();
    state
        .arrivals
        .lock()
        .expect("arrivals")
        .push(tokio::time::Instant::now());
    let in_flight = InFlight::new(&state);
    tokio::spawn(async move {
        let _in_flight = in_flight;
        let operation = headers
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok())
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or_default()
            .to_owned();
        state.record(Event::Call(
            operation,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        ));
        let kind = kind(&headers, &body);
        let every = *state.hold.lock().expect("hold");
        if let Hold::Every(pause) = every {
            tokio::time::sleep(pause).await;
        }
        if let Kind::Visibility(handles, seconds) = &kind
            && *seconds > 0
        {
            let first = state.extensions_arrived() == 0;
            state.record(Event::ExtensionArrived(handles.clone()));
            let hold = *state.hold.lock().expect("hold");
            match hold {
                Hold::Nothing | Hold::Every(_) => {}
                Hold::FirstExtensionForever if first => std::future::pending::<()>().await,
                Hold::FirstExtensionForever => {}
                Hold::ExtensionsUntilSettled(at_most) => {
                    let mut changed = state.changed.subscribe();
                    let _ = tokio::time::timeout(at_most, async {
                        while !state.settled(handles) {
                            if changed.changed().await.is_err() {
                                return;
                            }
                        }
                    })
                    .await;
                }
            }
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let body_sent = body.clone();
        let mut request = state
            .client
            .request(method, format!("{}{path}", state.upstream))
            .body(body);
        for (name, value) in &headers {
            if !matches!(name.as_str(), "host" | "content-length" | "connection") {
                request = request.header(name, value);
            }
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let _ = answer.send((
                    StatusCode::BAD_GATEWAY,
                    HeaderMap::new(),
                    e.to_string().into(),
                ));
                return;
            }
        };
        let status = response.status();
        let mut out_headers = HeaderMap::new();
        for (name, value) in response.headers() {
            if !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            ) {
                out_headers.insert(name.clone(), value.clone());
            }
        }
        let bytes = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            match kind {
                Kind::Visibility(handles, seconds) if seconds > 0 => {
                    let extended = succeeded(&body_sent, &bytes, handles.clone());
                    let refused: Vec<String> = handles
                        .into_iter()
                        .filter(|h| !extended.contains(h))
                        .collect();
                    if !extended.is_empty() {
                        state.record(Event::Extended(extended));
                    }
                    if !refused.is_empty() {
                        state.record(Event::ExtensionRefused(refused));
                    }
                }
                Kind::Visibility(handles, _) => state.record(Event::Released(handles)),
                Kind::Delete(handles) => state.record(Event::Deleted(handles)),
                Kind::Receive => {
                    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    let messages: Vec<(String, String)> = json["Messages"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|m| {
                            Some((
                                m["MessageId"].as_str()?.to_owned(),
                                m["ReceiptHandle"].as_str()?.to_owned(),
                            ))
                        })
                        .collect();
                    if !messages.is_empty() {
                        state.record(Event::Received(messages));
                    }
                }
                Kind::Other => {}
            }
        }
        let _ = answer.send((status, out_headers, bytes));
    });
    match answered.await {
        Ok((status, headers, body)) => (status, headers, body).into_response(),
        // Held for good: the worker's own timeout ends the wait.
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
