//! What a deployment did: the revisions before and after, how it ended, and ECS's words.

use crate::decide::outcome::Outcome;

/// What a deployment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The task definition the service ran before.
    pub previous_task_definition: Option<String>,
    /// The task definition registered from the message.
    pub new_task_definition: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// On failure, ECS's own words: its latest notable service events and stopped tasks' reasons.
    pub ecs_said: Vec<String>,
    /// The policy's rule, when the policy refused the message.
    pub refused_by: Option<&'static str>,
    /// On a failed task's account, the last lines its essential containers logged.
    pub logs: Vec<String>,
}

impl Summary {
    /// A message settled without touching ECS: `outcome`, and the policy's rule when it refused it.
    pub fn untouched(outcome: Outcome, refused_by: Option<&'static str>) -> Self {
        Self {
            previous_task_definition: None,
            new_task_definition: None,
            outcome,
            ecs_said: Vec::new(),
            refused_by,
            logs: Vec::new(),
        }
    }
}
