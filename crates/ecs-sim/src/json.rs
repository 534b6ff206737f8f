//! JSON helpers every part of the simulator shares: the protocol's timestamps and reading or merging the
//! members of a JSON object.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// Seconds since the epoch with fractions: the JSON protocol's timestamp.
pub fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(0.0)
}

/// A string member, or "" when absent.
pub fn str_of<'a>(value: &'a Value, member: &str) -> &'a str {
    value.get(member).and_then(Value::as_str).unwrap_or("")
}

/// A non-negative integer member that fits u32.
pub fn u32_of(value: &Value, member: &str) -> Option<u32> {
    value
        .get(member)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// Adds every member of `extra` to the object `out`, replacing members of the same name.
pub fn merge(out: &mut Value, extra: &Map<String, Value>) {
    if let Some(object) = out.as_object_mut() {
        for (k, v) in extra {
            object.insert(k.clone(), v.clone());
        }
    }
}

/// The members of a JSON object (empty for anything else).
pub fn json_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The strings of an array member (empty when absent or not an array).
pub fn strings_of<'a>(value: &'a Value, member: &str) -> Vec<&'a str> {
    value
        .get(member)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}
