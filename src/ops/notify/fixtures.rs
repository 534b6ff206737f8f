//! What the notification tests notify about: one report and one Slack webhook.

use std::time::{Duration, SystemTime};

use crate::decide::outcome::{Disposition, Outcome, Report};
use crate::ops::notify::slack::Slack;

/// A deployment of `web` in `prod` from `web:4` to `web:5` that ended as `outcome`.
pub fn report(outcome: Outcome) -> Report {
    Report {
        message_id: "m-1".into(),
        service: "web".into(),
        cluster: "prod".into(),
        previous_task_definition: Some("arn:aws:ecs:us-east-1:1:task-definition/web:4".into()),
        new_task_definition: Some("arn:aws:ecs:us-east-1:1:task-definition/web:5".into()),
        commit_url: Some("https://git.example/c/1?a=<b>&c".into()),
        outcome,
        ecs_said: vec!["service web deployment failed: tasks failed to start".into()],
        logs: vec!["[app] migration failed: relation \"users\" already exists".into()],
        disposition: Disposition::Delete,
        settled: true,
        received_at: SystemTime::UNIX_EPOCH,
        duration: Duration::from_secs(75),
    }
}

/// A webhook posting to `#deploys` as `deployer`.
pub fn slack() -> Slack {
    Slack {
        webhook: "https://hooks.slack.invalid/x".into(),
        channel: Some("#deploys".into()),
        botname: "deployer".into(),
        color: None,
    }
}
