//! The message-path throughput measured by the criterion benchmark `message_path` (which `make bench` runs
//! first), read from the estimates criterion leaves under `target/criterion/`.

use std::path::Path;

use serde_json::Value;

/// Where criterion puts the estimates of `message_path/parse_and_validate`, under the target directory.
pub const ESTIMATES: &str = "criterion/message_path/parse_and_validate/new/estimates.json";

/// Nanoseconds per message: the mean and its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerMessage {
    /// Mean time per message, ns.
    pub mean_ns: f64,
    /// Lower bound of the mean's confidence interval, ns.
    pub low_ns: f64,
    /// Upper bound, ns.
    pub high_ns: f64,
}

impl PerMessage {
    /// Messages per second at the mean.
    pub fn per_second(&self) -> f64 {
        1e9 / self.mean_ns
    }
}

/// Reads criterion's `estimates.json`.
pub fn read(path: &Path) -> Result<PerMessage, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).ok_or_else(|| format!("{}: no mean estimate", path.display()))
}

/// The mean from criterion's estimates JSON.
pub fn parse(text: &str) -> Option<PerMessage> {
    let value: Value = serde_json::from_str(text).ok()?;
    let mean = value.get("mean")?;
    let interval = mean.get("confidence_interval")?;
    let estimate = PerMessage {
        mean_ns: mean.get("point_estimate")?.as_f64()?,
        low_ns: interval.get("lower_bound")?.as_f64()?,
        high_ns: interval.get("upper_bound")?.as_f64()?,
    };
    (estimate.mean_ns > 0.0).then_some(estimate)
}

/// The body size criterion was told (`Throughput::Bytes`), from its `benchmark.json`.
pub fn body_bytes(benchmark_json: &str) -> Option<u64> {
    let value: Value = serde_json::from_str(benchmark_json).ok()?;
    value.get("throughput")?.get("Bytes")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_and_its_interval_are_read() {
        let text = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":19000.0,"upper_bound":21000.0},"point_estimate":20000.0,"standard_error":300.0},"median":{}}"#;
        let estimate = parse(text).expect("estimate");
        assert_eq!(estimate.mean_ns, 20000.0);
        assert_eq!((estimate.low_ns, estimate.high_ns), (19000.0, 21000.0));
        assert!((estimate.per_second() - 50_000.0).abs() < 1e-6);
        assert_eq!(parse("{}"), None);
        assert_eq!(
            parse(
                r#"{"mean":{"confidence_interval":{"lower_bound":0,"upper_bound":0},"point_estimate":0}}"#
            ),
            None
        );
        assert_eq!(parse("not json"), None);
    }

    #[test]
    fn the_body_size_is_read_from_the_throughput() {
        let text = r#"{"group_id":"message_path","throughput":{"Bytes":5120}}"#;
        assert_eq!(body_bytes(text), Some(5120));
        assert_eq!(body_bytes(r#"{"throughput":{"Elements":1}}"#), None);
        assert_eq!(body_bytes(r#"{"throughput":null}"#), None);
    }
}
