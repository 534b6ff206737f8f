//! What a call through the recording proxy is, read from its headers and body: a visibility change, a delete,
//! a receive; and which receipt handles SQS carried a visibility change out for.

use axum::http::HeaderMap;
use serde_json::Value;

/// What a request is, as far as the proxy cares.
pub enum Kind {
    /// A visibility change to this many seconds of these receipt handles.
    Visibility(Vec<String>, i64),
    /// A delete of these receipt handles.
    Delete(Vec<String>),
    /// A receive.
    Receive,
    /// Anything else.
    Other,
}

/// What the request with `headers` and `body` is.
pub fn kind(headers: &HeaderMap, body: &[u8]) -> Kind {
    let target = headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let entries = || -> Vec<Value> {
        json["Entries"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![json.clone()])
    };
    let handles = |entries: &[Value]| -> Vec<String> {
        entries
            .iter()
            .filter_map(|e| e["ReceiptHandle"].as_str().map(str::to_owned))
            .collect()
    };
    match target {
        "AmazonSQS.ChangeMessageVisibility" | "AmazonSQS.ChangeMessageVisibilityBatch" => {
            let entries = entries();
            let seconds = entries
                .iter()
                .filter_map(|e| e["VisibilityTimeout"].as_i64())
                .max()
                .unwrap_or(0);
            Kind::Visibility(handles(&entries), seconds)
        }
        "AmazonSQS.DeleteMessage" | "AmazonSQS.DeleteMessageBatch" => {
            Kind::Delete(handles(&entries()))
        }
        "AmazonSQS.ReceiveMessage" => Kind::Receive,
        _ => Kind::Other,
    }
}

/// The receipt handles of a visibility change that SQS carried out: all of a single call's, or those of a
/// batch's entries listed as successful.
pub fn succeeded(request: &[u8], response: &[u8], handles: Vec<String>) -> Vec<String> {
    let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
    let Some(entries) = request["Entries"].as_array() else {
        return handles;
    };
    let response: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
    let ok: Vec<&str> = response["Successful"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["Id"].as_str())
        .collect();
    entries
        .iter()
        .filter(|e| e["Id"].as_str().is_some_and(|id| ok.contains(&id)))
        .filter_map(|e| e["ReceiptHandle"].as_str().map(str::to_owned))
        .collect()
}
