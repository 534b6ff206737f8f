//! A service's `deploymentConfiguration`: the rolling-update percentages, the circuit breaker and its
//! threshold, deployment alarms, the strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY) with its bake times,
//! and lifecycle hooks; checked as ECS checks them and rendered back as given.

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::json::{merge, strings_of, u32_of};

mod check;

use check::check;

/// A hook's timeout when none is given: 24 hours.
const DEFAULT_HOOK_TIMEOUT_MINUTES: u64 = 1440;

/// How a deployment replaces the service's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Tasks are replaced a batch at a time, within minimumHealthyPercent and maximumPercent.
    #[default]
    Rolling,
    /// The new revision scales up beside the old, takes all traffic at once, bakes, then the old goes.
    BlueGreen,
    /// Like blue/green, with production traffic moved in equal steps, each followed by a bake.
    Linear,
    /// Like blue/green, with a canary share of traffic first, a bake, then the rest.
    Canary,
}

impl Strategy {
    /// The strategy as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rolling => "ROLLING",
            Self::BlueGreen => "BLUE_GREEN",
            Self::Linear => "LINEAR",
            Self::Canary => "CANARY",
        }
    }
}

/// What happens when a hook fails, times out or is answered: go on, or roll back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAction {
    /// Go on to the next stage.
    Continue,
    /// Roll the deployment back.
    Rollback,
}

impl HookAction {
    /// The action as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Continue => "CONTINUE",
            Self::Rollback => "ROLLBACK",
        }
    }

    /// Reads `CONTINUE` or `ROLLBACK`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "CONTINUE" => Some(Self::Continue),
            "ROLLBACK" => Some(Self::Rollback),
            _ => None,
        }
    }
}

/// A lifecycle hook: a Lambda function ECS invokes, or a pause until ContinueServiceDeployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// The Lambda function's ARN; `None` for a PAUSE hook.
    pub lambda: Option<String>,
    /// The stages it runs at.
    pub stages: Vec<String>,
    /// Simulated seconds before it times out.
    pub timeout_secs: u64,
    /// What happens when it times out.
    pub timeout_action: HookAction,
}

/// The deployment alarms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alarms {
    /// Whether alarms decide a deployment's failure.
    pub enable: bool,
    /// Whether a deployment they fail is rolled back.
    pub rollback: bool,
    /// The CloudWatch alarms watched.
    pub names: Vec<String>,
}

/// `earlySuccessCriteria`: when a rolling deployment counts as successful before every task is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlySuccess {
    /// The share of the desired count, in percent, that must run healthy on the target revision.
    pub healthy_percent: u32,
    /// Whether the source revision's tasks are removed after the deployment is marked successful
    /// (DEFERRED) rather than before (BLOCKING).
    pub deferred: bool,
}

/// The settings of a service's deployments.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentConfiguration {
    /// Upper limit on running + pending tasks during a rollout, in percent of the desired count.
    pub maximum_percent: u32,
    /// Lower limit on healthy running tasks during a rollout, in percent of the desired count.
    pub minimum_healthy_percent: u32,
    /// Whether the deployment circuit breaker watches rollouts.
    pub circuit_breaker: bool,
    /// Whether a rollout the circuit breaker failed is rolled back to the last completed deployment.
    pub rollback: bool,
    /// `thresholdConfiguration` (type, value), when given.
    pub threshold: Option<(String, u32)>,
    /// The deployment alarms, when configured.
    pub alarms: Option<Alarms>,
    /// The strategy.
    pub strategy: Strategy,
    /// `bakeTimeInMinutes`, when given.
    pub bake_time_minutes: Option<u32>,
    /// `linearConfiguration`: (stepPercent, stepBakeTimeInMinutes).
    pub linear: (f64, u32),
    /// `canaryConfiguration`: (canaryPercent, canaryBakeTimeInMinutes).
    pub canary: (f64, u32),
    /// The lifecycle hooks.
    pub hooks: Vec<Hook>,
    /// Early success criteria of a rolling deployment, when enabled.
    pub early_success: Option<EarlySuccess>,
    /// Whether the circuit breaker's count starts again at a healthy task (`resetOnHealthyTask`, true by
    /// default).
    pub reset_on_healthy_task: bool,
    /// Members given that are echoed back as they were (strategy, alarms, hooks, ...).
    echo: Map<String, Value>,
}

impl Default for DeploymentConfiguration {
    fn default() -> Self {
        Self {
            maximum_percent: 200,
            minimum_healthy_percent: 100,
            circuit_breaker: false,
            rollback: false,
            threshold: None,
            alarms: None,
            strategy: Strategy::Rolling,
            bake_time_minutes: None,
            linear: (10.0, 6),
            canary: (5.0, 10),
            hooks: Vec::new(),
            early_success: None,
            reset_on_healthy_task: true,
            echo: Map::new(),
        }
    }
}

impl DeploymentConfiguration {
    /// The defaults of a DAEMON service: it stops a task before starting its replacement.
    pub fn daemon() -> Self {
        Self {
            maximum_percent: 100,
            minimum_healthy_percent: 0,
            ..Self::default()
        }
    }

    /// Checks a request's `deploymentConfiguration` as ECS does, then applies the members present.
    pub fn update(&mut self, config: &Value) -> Result<(), ApiError> {
        check(config)?;
        if let Some(n) = u32_of(config, "maximumPercent") {
            self.maximum_percent = n;
        }
        if let Some(n) = u32_of(config, "minimumHealthyPercent") {
            self.minimum_healthy_percent = n;
        }
        if let Some(breaker) = config.get("deploymentCircuitBreaker") {
            let flag = |member: &str| breaker.get(member).and_then(Value::as_bool) == Some(true);
            self.circuit_breaker = flag("enable");
            self.rollback = flag("rollback");
            self.threshold = breaker
                .get("thresholdConfiguration")
                .and_then(|t| Some((t.get("type")?.as_str()?.to_owned(), u32_of(t, "value")?)));
            self.reset_on_healthy_task =
                breaker.get("resetOnHealthyTask").and_then(Value::as_bool) != Some(false);
        }
        if let Some(alarms) = config.get("alarms") {
            let flag = |member: &str| alarms.get(member).and_then(Value::as_bool) == Some(true);
            self.alarms = Some(Alarms {
                enable: flag("enable"),
                rollback: flag("rollback"),
                names: owned(strings_of(alarms, "alarmNames")),
            });
        }
        if let Some(strategy) = config.get("strategy").and_then(Value::as_str) {
            self.strategy = match strategy {
                "BLUE_GREEN" => Strategy::BlueGreen,
                "LINEAR" => Strategy::Linear,
                "CANARY" => Strategy::Canary,
                _ => Strategy::Rolling,
            };
        }
        if let Some(minutes) = u32_of(config, "bakeTimeInMinutes") {
            self.bake_time_minutes = Some(minutes);
        }
        if let Some(linear) = config.get("linearConfiguration") {
            if let Some(step) = linear.get("stepPercent").and_then(Value::as_f64) {
                self.linear.0 = step;
            }
            if let Some(bake) = u32_of(linear, "stepBakeTimeInMinutes") {
                self.linear.1 = bake;
            }
        }
        if let Some(canary) = config.get("canaryConfiguration") {
            if let Some(percent) = canary.get("canaryPercent").and_then(Value::as_f64) {
                self.canary.0 = percent;
            }
            if let Some(bake) = u32_of(canary, "canaryBakeTimeInMinutes") {
                self.canary.1 = bake;
            }
        }
        if let Some(hooks) = config.get("lifecycleHooks").and_then(Value::as_array) {
            self.hooks = hooks.iter().map(hook).collect();
        }
        if let Some(early) = config.get("earlySuccessCriteria") {
            self.early_success =
                (early.get("enable").and_then(Value::as_bool) == Some(true)).then(|| {
                    EarlySuccess {
                        healthy_percent: u32_of(early, "healthyPercent").unwrap_or(100),
                        deferred: early
                            .get("sourceServiceRevisionCleanup")
                            .and_then(Value::as_str)
                            == Some("DEFERRED"),
                    }
                });
        }
        self.check_early_success()?;
        for member in [
            "earlySuccessCriteria",
            "alarms",
            "strategy",
            "bakeTimeInMinutes",
            "lifecycleHooks",
            "linearConfiguration",
            "canaryConfiguration",
        ] {
            if let Some(value) = config.get(member) {
                self.echo.insert(member.to_owned(), value.clone());
            }
        }
        if let Some(breaker) = config.get("deploymentCircuitBreaker") {
            self.echo
                .insert("deploymentCircuitBreaker".to_owned(), breaker.clone());
        }
        Ok(())
    }

    /// ECS's rules for `earlySuccessCriteria` that depend on the whole configuration once updated: "You can
    /// use early success criteria only with rolling deployment strategy", and `healthyPercent` "must be
    /// greater than or equal to the minimumHealthyPercent value".
    fn check_early_success(&self) -> Result<(), ApiError> {
        let Some(early) = self.early_success else {
            return Ok(());
        };
        if self.strategy != Strategy::Rolling {
            return Err(ApiError::invalid_parameter(
                "earlySuccessCriteria is only supported with the ROLLING deployment strategy.",
            ));
        }
        if early.healthy_percent < self.minimum_healthy_percent {
            return Err(ApiError::invalid_parameter(format!(
                "earlySuccessCriteria.healthyPercent ({}) must be greater than or equal to minimumHealthyPercent ({}).",
                early.healthy_percent, self.minimum_healthy_percent
            )));
        }
        Ok(())
    }

    /// The circuit breaker's failure threshold for `desired_count` tasks: by default (BOUNDED_PERCENT, 50)
    /// half the desired count, at least 3 and at most 200; a COUNT is taken as is; an UNBOUNDED_PERCENT
    /// is at least 1.
    pub fn failure_threshold(&self, desired_count: u32) -> u32 {
        let (kind, value) = self
            .threshold
            .as_ref()
            .map_or(("BOUNDED_PERCENT", 50), |(k, v)| (k.as_str(), *v));
        let percent = u32::try_from((u64::from(desired_count) * u64::from(value)).div_ceil(100))
            .unwrap_or(u32::MAX);
        match kind {
            "COUNT" => value.max(1),
            "UNBOUNDED_PERCENT" => percent.max(1),
            _ => percent.clamp(3, 200),
        }
    }

    /// Simulated seconds the blue/green bake lasts after production traffic has shifted.
    pub fn bake_secs(&self) -> u64 {
        u64::from(self.bake_time_minutes.unwrap_or(0)) * 60
    }

    /// The shares of production traffic (percent) the new revision takes, step after step, and the
    /// simulated seconds of bake after each step but the last.
    pub fn traffic_steps(&self) -> (Vec<f64>, u64) {
        match self.strategy {
            Strategy::Linear => {
                let step = self.linear.0.max(0.1);
                let mut shares = Vec::new();
                let mut share = 0.0;
                while share < 100.0 {
                    share = (share + step).min(100.0);
                    shares.push(share);
                }
                (shares, u64::from(self.linear.1) * 60)
            }
            Strategy::Canary => (
                vec![self.canary.0.min(100.0), 100.0],
                u64::from(self.canary.1) * 60,
            ),
            _ => (vec![100.0], 0),
        }
    }

    /// The configuration as DescribeServices and DescribeServiceDeployments return it.
    pub fn render(&self) -> Value {
        let mut out = json!({
            "deploymentCircuitBreaker": {"enable": self.circuit_breaker, "rollback": self.rollback},
            "maximumPercent": self.maximum_percent,
            "minimumHealthyPercent": self.minimum_healthy_percent,
            "strategy": self.strategy.as_str(),
        });
        merge(&mut out, &self.echo);
        out
    }
}

/// The strings given, owned.
fn owned(strings: Vec<&str>) -> Vec<String> {
    strings.into_iter().map(str::to_owned).collect()
}

/// A lifecycle hook as the request gives it.
fn hook(value: &Value) -> Hook {
    let timeout = value.get("timeoutConfiguration");
    Hook {
        lambda: match value.get("targetType").and_then(Value::as_str) {
            Some("PAUSE") => None,
            _ => Some(
                value
                    .get("hookTargetArn")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
        },
        stages: owned(strings_of(value, "lifecycleStages")),
        timeout_secs: timeout
            .and_then(|t| t.get("timeoutInMinutes"))
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_HOOK_TIMEOUT_MINUTES)
            * 60,
        timeout_action: timeout
            .and_then(|t| t.get("action"))
            .and_then(Value::as_str)
            .and_then(HookAction::parse)
            .unwrap_or(HookAction::Rollback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(config: Value) -> DeploymentConfiguration {
        let mut c = DeploymentConfiguration::default();
        c.update(&config).expect("a valid configuration");
        c
    }

    #[test]
    fn the_failure_threshold_follows_the_threshold_configuration() {
        let default = DeploymentConfiguration::default();
        for (desired, threshold) in [(0, 3), (1, 3), (6, 3), (7, 4), (10, 5), (1000, 200)] {
            assert_eq!(default.failure_threshold(desired), threshold, "{desired}");
        }
        let with = |kind: &str, value: u32| {
            configured(
                json!({"deploymentCircuitBreaker": {"enable": true, "rollback": true,
                "thresholdConfiguration": {"type": kind, "value": value}}}),
            )
        };
        assert_eq!(with("COUNT", 1).failure_threshold(10), 1);
        assert_eq!(with("COUNT", 7).failure_threshold(2), 7);
        assert_eq!(with("BOUNDED_PERCENT", 10).failure_threshold(10), 3);
        assert_eq!(with("UNBOUNDED_PERCENT", 10).failure_threshold(10), 1);
        assert_eq!(with("UNBOUNDED_PERCENT", 100).failure_threshold(1000), 1000);
    }

    #[test]
    fn traffic_moves_in_the_strategy_s_steps() {
        let linear = configured(json!({"strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2}}));
        assert_eq!(linear.traffic_steps(), (vec![25.0, 50.0, 75.0, 100.0], 120));
        let canary = configured(json!({"strategy": "CANARY",
            "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 3}}));
        assert_eq!(canary.traffic_steps(), (vec![10.0, 100.0], 180));
        let blue_green = configured(json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}));
        assert_eq!(blue_green.traffic_steps(), (vec![100.0], 0));
        assert_eq!(blue_green.bake_secs(), 300);
        assert_eq!(blue_green.render()["strategy"], "BLUE_GREEN");
    }

    #[test]
    fn what_ecs_refuses_is_refused() {
        for bad in [
            json!({"strategy": "BLUE_GREEN"}),
            json!({"linearConfiguration": {"stepPercent": 10.0}}),
            json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 1.0}}),
            json!({"lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}]}),
            json!({"strategy": "CANARY", "lifecycleHooks": [{"targetType": "PAUSE",
                "lifecycleStages": ["BAKE_TIME"]}]}),
            json!({"strategy": "CANARY", "lifecycleHooks": [{"lifecycleStages": ["POST_SCALE_UP"]}]}),
            json!({"minimumHealthyPercent": 101}),
        ] {
            let err = DeploymentConfiguration::default()
                .update(&bad)
                .expect_err(&bad.to_string());
            assert_eq!(err.code, "InvalidParameterException", "{bad}");
        }
        let hooked = configured(json!({"strategy": "CANARY", "lifecycleHooks": [
            {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
             "timeoutConfiguration": {"timeoutInMinutes": 5, "action": "CONTINUE"}},
            {"hookTargetArn": "arn:aws:lambda:us-east-1:1:function:check",
             "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]}));
        assert_eq!(hooked.hooks[0].lambda, None);
        assert_eq!(hooked.hooks[0].timeout_secs, 300);
        assert_eq!(hooked.hooks[0].timeout_action, HookAction::Continue);
        assert_eq!(
            hooked.hooks[1].lambda.as_deref(),
            Some("arn:aws:lambda:us-east-1:1:function:check")
        );
        assert_eq!(hooked.hooks[1].timeout_action, HookAction::Rollback);
    }
}
