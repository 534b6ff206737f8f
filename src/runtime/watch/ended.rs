//! How a watch ended: the outcome, what ECS said of a failure, and the last task that failed.

use crate::aws::ecs::StoppedTask;
use crate::decide::outcome::Outcome;

/// How a watch ended.
#[derive(Debug, Clone)]
pub struct Ended {
    /// The rollout's outcome (and its rollback's).
    pub outcome: Outcome,
    /// On a failure, ECS's own words.
    pub ecs_said: Vec<String>,
    /// On a failure, the rollout's last task that failed, whose logs may say why.
    pub last_failed: Option<StoppedTask>,
}
