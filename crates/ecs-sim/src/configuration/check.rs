//! ECS's own checks of a `deploymentConfiguration`, beyond the types the model checks: the percentages, what
//! each strategy takes, and where lifecycle hooks may run.

use serde_json::Value;

use crate::error::ApiError;
use crate::json::strings_of;

/// The lifecycle stages a hook may run at, as `DeploymentLifecycleHook.lifecycleStages` lists them (the
/// others, SCALE_UP, BAKE_TIME and CLEAN_UP, take none).
pub const HOOK_STAGES: [&str; 8] = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
];
/// The stages a PAUSE hook may not run at: "PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or
/// PRODUCTION_TRAFFIC_SHIFT stages. These stages are only valid for AWS_LAMBDA hooks."
const NO_PAUSE_STAGES: [&str; 2] = ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"];

/// ECS's own checks of a `deploymentConfiguration`, beyond the model's types.
pub fn check(config: &Value) -> Result<(), ApiError> {
    let invalid = |message: String| Err(ApiError::invalid_parameter(message));
    let percent = |member: &str| config.get(member).and_then(Value::as_i64);
    if let Some(min) = percent("minimumHealthyPercent")
        && !(0..=100).contains(&min)
    {
        return invalid(format!(
            "deploymentConfiguration.minimumHealthyPercent must be between 0 and 100; got {min}"
        ));
    }
    if let Some(max) = percent("maximumPercent")
        && max < 100
    {
        return invalid(format!(
            "deploymentConfiguration.maximumPercent must be at least 100; got {max}"
        ));
    }
    let strategy = config
        .get("strategy")
        .and_then(Value::as_str)
        .unwrap_or("ROLLING");
    if strategy == "BLUE_GREEN" && config.get("bakeTimeInMinutes").is_none() {
        return invalid(
            "bakeTimeInMinutes must be specified for the BLUE_GREEN deployment strategy.".into(),
        );
    }
    if config.get("linearConfiguration").is_some() && strategy != "LINEAR" {
        return invalid("linearConfiguration is only valid with the LINEAR strategy.".into());
    }
    if config.get("canaryConfiguration").is_some() && strategy != "CANARY" {
        return invalid("canaryConfiguration is only valid with the CANARY strategy.".into());
    }
    if let Some(step) = config
        .pointer("/linearConfiguration/stepPercent")
        .and_then(Value::as_f64)
        && !(3.0..=100.0).contains(&step)
    {
        return invalid(format!(
            "linearConfiguration.stepPercent must be between 3.0 and 100.0; got {step}"
        ));
    }
    if let Some(percent) = config
        .pointer("/canaryConfiguration/canaryPercent")
        .and_then(Value::as_f64)
        && !(0.1..=100.0).contains(&percent)
    {
        return invalid(format!(
            "canaryConfiguration.canaryPercent must be between 0.1 and 100.0; got {percent}"
        ));
    }
    if let Some(early) = config.get("earlySuccessCriteria") {
        // "You can use early success criteria only with rolling deployment strategy."
        if strategy != "ROLLING" {
            return invalid(
                "earlySuccessCriteria is only supported with the ROLLING deployment strategy."
                    .into(),
            );
        }
        // "When set to true, Amazon ECS monitors the deployment to meet early success criteria. You must
        // also specify healthyPercent and sourceServiceRevisionCleanup."
        if early.get("enable").and_then(Value::as_bool) == Some(true) {
            for member in ["healthyPercent", "sourceServiceRevisionCleanup"] {
                if early.get(member).is_none() {
                    return invalid(format!(
                        "earlySuccessCriteria.{member} must be specified when earlySuccessCriteria is enabled."
                    ));
                }
            }
        }
        // "... must be an integer between 0 and 100."
        if let Some(percent) = early.get("healthyPercent").and_then(Value::as_i64)
            && !(0..=100).contains(&percent)
        {
            return invalid(format!(
                "earlySuccessCriteria.healthyPercent must be between 0 and 100; got {percent}"
            ));
        }
    }
    let hooks = config
        .get("lifecycleHooks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !hooks.is_empty() && strategy == "ROLLING" {
        return invalid(
            "lifecycleHooks are only supported with the BLUE_GREEN, LINEAR and CANARY deployment strategies."
                .into(),
        );
    }
    for hook in &hooks {
        let lambda = hook.get("targetType").and_then(Value::as_str) != Some("PAUSE");
        if lambda && hook.get("hookTargetArn").is_none() {
            return invalid(
                "hookTargetArn must be specified for an AWS_LAMBDA lifecycle hook.".into(),
            );
        }
        for stage in strings_of(hook, "lifecycleStages") {
            if !HOOK_STAGES.contains(&stage) {
                return invalid(format!(
                    "lifecycle hooks cannot run at the {stage} lifecycle stage."
                ));
            }
            if !lambda && NO_PAUSE_STAGES.contains(&stage) {
                return invalid(format!(
                    "PAUSE hooks cannot be configured at the {stage} stage; it is only valid for AWS_LAMBDA hooks."
                ));
            }
        }
    }
    if let Some(threshold) = config.pointer("/deploymentCircuitBreaker/thresholdConfiguration")
        && threshold
            .get("value")
            .and_then(Value::as_i64)
            .is_some_and(|v| v < 1)
    {
        return invalid("thresholdConfiguration.value must be at least 1.".into());
    }
    Ok(())
}
