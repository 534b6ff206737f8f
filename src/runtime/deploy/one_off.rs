//! Waiting for a one-off task to end by a deadline: judged by its essential containers' exit codes, its
//! last log lines kept when it failed.

use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::aws::ecs::Ecs;
use crate::decide::one_off::{Ended, essential_containers, judge};
use crate::decide::outcome::Outcome;
use crate::runtime::deploy::{Deployer, Summary};

impl Deployer {
    /// Waits for `task`, of a revision whose request members are `members`, to stop by `deadline`;
    /// `Ended::Running` when the deadline came first. A failure's last log lines go into `summary`.
    pub(crate) async fn await_one_off(
        &self,
        ecs: &Ecs,
        task: &str,
        members: &Map<String, Value>,
        deadline: Instant,
        summary: &mut Summary,
    ) -> Result<Ended, Outcome> {
        let essential = essential_containers(members);
        loop {
            let end = self.retrying(|| ecs.one_off_end(task)).await?;
            let ended = match end {
                Some(end) => judge(&end, &essential),
                None => Ended::Failed("ECS no longer knows it".into()),
            };
            match ended {
                Ended::Running if Instant::now() < deadline => {
                    tokio::time::sleep(self.settings.poll_interval).await;
                }
                Ended::Failed(why) => {
                    summary.logs = self.log_tail(members, task).await;
                    return Ok(Ended::Failed(why));
                }
                other => return Ok(other),
            }
        }
    }
}
