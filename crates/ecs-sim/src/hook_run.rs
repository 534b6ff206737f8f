//! One run of a lifecycle hook at a service deployment's stage, as `lifecycleHookDetails` lists it.

use serde_json::{Value, json};

use crate::configuration::HookAction;

/// A lifecycle hook's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookStatus {
    /// A PAUSE hook waits for ContinueServiceDeployment.
    AwaitingAction,
    /// A Lambda hook is being invoked.
    InProgress,
    /// It let the deployment go on.
    Succeeded,
    /// It failed the deployment.
    Failed,
    /// Nobody answered in time.
    TimedOut,
}

impl HookStatus {
    /// The status as ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingAction => "AWAITING_ACTION",
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
        }
    }
}

/// One run of a lifecycle hook at the deployment's current stage.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRun {
    /// What ContinueServiceDeployment names it by.
    pub id: String,
    /// The Lambda function, or `None` for a PAUSE hook.
    pub lambda: Option<String>,
    /// Where it stands.
    pub status: HookStatus,
    /// Simulated second it started.
    pub since: u64,
    /// Simulated seconds it may take.
    pub timeout_secs: u64,
    /// What happens when it times out.
    pub timeout_action: HookAction,
    /// When it times out (epoch seconds), for `expiresAt`.
    pub expires_at: f64,
}

impl HookRun {
    /// Renders it as `lifecycleHookDetails` lists it.
    pub fn render(&self) -> Value {
        let mut out = json!({
            "hookId": self.id,
            "targetType": if self.lambda.is_some() { "AWS_LAMBDA" } else { "PAUSE" },
            "status": self.status.as_str(),
            "expiresAt": self.expires_at,
            "timeoutAction": self.timeout_action.as_str(),
        });
        if let Some(arn) = &self.lambda {
            out["targetArn"] = json!(arn);
        }
        out
    }
}
