//! What the `/_sim/` control API changes: faults injected into API calls, the API rate limits, and the
//! count of calls.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::limits::Limits;

/// What an injected fault does to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// Answer with `ThrottlingException` (HTTP 400).
    Throttle,
    /// Answer with `ServerException` (HTTP 500).
    Error500,
    /// Answer with `AccessDeniedException`, as for a caller whose IAM policy lacks the operation.
    Denied,
    /// Answer normally after `delayMs` milliseconds.
    Delay,
    /// Carry the call out, then answer with `ServerException` (HTTP 500), as when an answer is lost on the
    /// way: the caller cannot tell whether it happened.
    #[serde(rename = "lose-answer")]
    LoseAnswer,
}

/// A fault as `POST /_sim/faults` takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    /// The operation it applies to (`UpdateService`), or `*` for every operation.
    #[serde(default = "every_operation")]
    pub operation: String,
    /// What it does.
    pub kind: FaultKind,
    /// Apply to the next `count` matching calls, then disappear.
    pub count: Option<u32>,
    /// Apply to every `every`-th matching call until cleared (2 = half of all calls).
    pub every: Option<u32>,
    /// How long a `delay` fault holds the call.
    pub delay_ms: Option<u64>,
    /// Apply only to calls whose request names this text (an ARN, a service's name): as IAM refuses a
    /// whole call when one resource it names is not allowed.
    pub naming: Option<String>,
}

fn every_operation() -> String {
    "*".to_owned()
}

/// An installed fault and how often it has matched.
#[derive(Debug)]
struct Fault {
    spec: FaultSpec,
    /// Matching calls seen so far (for `every`).
    seen: u32,
    /// Calls it may still apply to (for `count`).
    remaining: Option<u32>,
}

/// What the faults decided for one call.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Hold the call this long first.
    pub delay: Duration,
    /// Then answer with this error instead of running it.
    pub error: Option<ApiError>,
    /// Run it, then answer with this error instead of its result.
    pub lost_answer: Option<ApiError>,
}

/// Installed faults and call statistics.
#[derive(Debug, Default)]
pub struct Control {
    /// Faults in the order they were added.
    faults: Vec<Fault>,
    /// Calls received per operation, including faulted ones.
    calls: BTreeMap<String, u64>,
    /// Calls answered with an injected error, per operation.
    faulted: BTreeMap<String, u64>,
    /// ECS's API rate limits, when on (`--api-limits aws`).
    pub limits: Option<Limits>,
}

impl Control {
    /// Installs a fault after checking it makes sense.
    pub fn add_fault(&mut self, spec: FaultSpec) -> Result<(), String> {
        if spec.kind == FaultKind::Delay && spec.delay_ms.is_none() {
            return Err("a delay fault needs delayMs".to_owned());
        }
        if spec.count.is_some() && spec.every.is_some() {
            return Err("give count or every, not both".to_owned());
        }
        if spec.count == Some(0) || spec.every == Some(0) {
            return Err("count and every must be at least 1".to_owned());
        }
        self.faults.push(Fault {
            remaining: spec.count,
            spec,
            seen: 0,
        });
        Ok(())
    }

    /// Removes every fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The installed faults, for `GET /_sim/faults`.
    pub fn faults(&self) -> Value {
        Value::Array(
            self.faults
                .iter()
                .map(|f| {
                    json!({
                        "operation": f.spec.operation,
                        "kind": f.spec.kind_name(),
                        "remaining": f.remaining,
                        "every": f.spec.every,
                        "delayMs": f.spec.delay_ms,
                        "naming": f.spec.naming,
                    })
                })
                .collect(),
        )
    }

    /// Counts a call of `operation`, whose request is `request`, and decides which faults apply to it.
    pub fn on_call(&mut self, operation: &str, request: &str) -> Verdict {
        *self.calls.entry(operation.to_owned()).or_default() += 1;
        let mut verdict = Verdict::default();
        if let Some(limits) = &mut self.limits
            && !limits.take(operation)
        {
            verdict.error = Some(ApiError::throttling());
            return verdict;
        }
        for fault in &mut self.faults {
            if fault.spec.operation != "*" && fault.spec.operation != operation {
                continue;
            }
            if fault
                .spec
                .naming
                .as_deref()
                .is_some_and(|name| !request.contains(name))
            {
                continue;
            }
            fault.seen += 1;
            if fault
                .spec
                .every
                .is_some_and(|every| fault.seen % every != 0)
            {
                continue;
            }
            if let Some(remaining) = &mut fault.remaining {
                *remaining -= 1;
            }
            match fault.spec.kind {
                FaultKind::Delay => {
                    verdict.delay += Duration::from_millis(fault.spec.delay_ms.unwrap_or(0));
                }
                FaultKind::Throttle if verdict.error.is_none() => {
                    verdict.error = Some(ApiError::throttling());
                }
                FaultKind::Error500 if verdict.error.is_none() => {
                    verdict.error = Some(ApiError::server("Internal failure injected by ecs-sim"));
                }
                FaultKind::Denied if verdict.error.is_none() => {
                    verdict.error = Some(ApiError::access_denied(operation));
                }
                FaultKind::LoseAnswer if verdict.lost_answer.is_none() => {
                    verdict.lost_answer = Some(ApiError::server(
                        "The call was carried out but its answer was lost (injected by ecs-sim)",
                    ));
                }
                _ => {}
            }
        }
        self.faults.retain(|f| f.remaining != Some(0));
        if verdict.error.is_some() || verdict.lost_answer.is_some() {
            *self.faulted.entry(operation.to_owned()).or_default() += 1;
        }
        verdict
    }

    /// Call counts, for `GET /_sim/stats`.
    pub fn stats(&self) -> Value {
        let throttled = self
            .limits
            .as_ref()
            .map(|l| l.throttled().clone())
            .unwrap_or_default();
        json!({
            "calls": self.calls,
            "total": self.calls.values().sum::<u64>(),
            "faulted": self.faulted,
            "throttled": throttled,
        })
    }

    /// Zeroes the call counts.
    pub fn reset_stats(&mut self) {
        self.calls.clear();
        self.faulted.clear();
        if let Some(limits) = &mut self.limits {
            limits.reset_stats();
        }
    }

    /// One simulated second passed: the rate limits' buckets refill.
    pub fn tick(&mut self) {
        if let Some(limits) = &mut self.limits {
            limits.refill();
        }
    }
}

impl FaultSpec {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            FaultKind::Throttle => "throttle",
            FaultKind::Error500 => "error500",
            FaultKind::Denied => "denied",
            FaultKind::Delay => "delay",
            FaultKind::LoseAnswer => "lose-answer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(value: Value) -> FaultSpec {
        serde_json::from_value(value).expect("valid fault spec")
    }

    fn errors(control: &mut Control, operation: &str, calls: usize) -> Vec<Option<&'static str>> {
        (0..calls)
            .map(|_| control.on_call(operation, "").error.map(|e| e.code))
            .collect()
    }

    #[test]
    fn count_faults_apply_to_the_next_calls_of_their_operation_only() {
        let mut control = Control::default();
        control
            .add_fault(spec(
                json!({"operation": "UpdateService", "kind": "throttle", "count": 2}),
            ))
            .expect("added");
        assert_eq!(errors(&mut control, "DescribeServices", 1), [None]);
        assert_eq!(
            errors(&mut control, "UpdateService", 3),
            [
                Some("ThrottlingException"),
                Some("ThrottlingException"),
                None
            ]
        );
        assert_eq!(control.faults(), json!([]));
        assert_eq!(control.stats()["calls"]["UpdateService"], 3);
        assert_eq!(control.stats()["faulted"]["UpdateService"], 2);
    }

    #[test]
    fn denied_faults_answer_access_denied_naming_the_operation() {
        let mut control = Control::default();
        control
            .add_fault(spec(
                json!({"operation": "DescribeServiceDeployments", "kind": "denied"}),
            ))
            .expect("added");
        assert_eq!(errors(&mut control, "DescribeServices", 1), [None]);
        let verdict = control.on_call("DescribeServiceDeployments", "");
        let error = verdict.error.expect("denied");
        assert_eq!(error.code, "AccessDeniedException");
        assert!(
            error.message.contains("ecs:DescribeServiceDeployments"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_fault_naming_a_resource_applies_only_to_calls_that_name_it() {
        let mut control = Control::default();
        control
            .add_fault(spec(json!({"operation": "DescribeServiceDeployments",
                "kind": "denied", "naming": "service-deployment/default/hidden/"})))
            .expect("added");
        let open =
            r#"{"serviceDeploymentArns": ["arn:aws:ecs:r:1:service-deployment/default/open/a"]}"#;
        let both = r#"{"serviceDeploymentArns": ["arn:aws:ecs:r:1:service-deployment/default/open/a",
            "arn:aws:ecs:r:1:service-deployment/default/hidden/b"]}"#;
        assert_eq!(
            control.on_call("DescribeServiceDeployments", open).error,
            None
        );
        let denied = control.on_call("DescribeServiceDeployments", both).error;
        assert_eq!(denied.map(|e| e.code), Some("AccessDeniedException"));
    }

    #[test]
    fn every_faults_apply_to_every_nth_call_until_cleared() {
        let mut control = Control::default();
        control
            .add_fault(spec(json!({"kind": "error500", "every": 2})))
            .expect("added");
        assert_eq!(
            errors(&mut control, "ListTasks", 4),
            [None, Some("ServerException"), None, Some("ServerException")]
        );
        control.clear_faults();
        assert_eq!(errors(&mut control, "ListTasks", 2), [None, None]);
    }

    #[test]
    fn delays_add_up_and_do_not_fail_the_call() {
        let mut control = Control::default();
        control
            .add_fault(spec(json!({"kind": "delay", "delayMs": 30, "count": 1})))
            .expect("added");
        let verdict = control.on_call("CreateCluster", "");
        assert_eq!(verdict.delay, Duration::from_millis(30));
        assert_eq!(verdict.error, None);
    }

    #[test]
    fn a_lost_answer_lets_the_call_run_and_fails_its_answer() {
        let mut control = Control::default();
        control
            .add_fault(spec(
                json!({"operation": "RegisterTaskDefinition", "kind": "lose-answer", "count": 1}),
            ))
            .expect("added");
        let verdict = control.on_call("RegisterTaskDefinition", "");
        assert_eq!(verdict.error, None);
        assert_eq!(verdict.lost_answer.map(|e| e.code), Some("ServerException"));
        assert_eq!(
            control.on_call("RegisterTaskDefinition", ""),
            Verdict::default()
        );
        assert_eq!(control.stats()["faulted"]["RegisterTaskDefinition"], 1);
    }

    #[test]
    fn nonsense_faults_are_refused() {
        let mut control = Control::default();
        for bad in [
            json!({"kind": "delay"}),
            json!({"kind": "throttle", "count": 1, "every": 2}),
            json!({"kind": "throttle", "count": 0}),
        ] {
            assert!(control.add_fault(spec(bad.clone())).is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<FaultSpec>(json!({"kind": "explode"})).is_err());
    }
}
