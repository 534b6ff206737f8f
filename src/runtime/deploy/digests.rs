//! A redeploy's digest check: once its tasks run, each container must run what its image tag points to in
//! ECR now, the `match` / `no_match` check of a moved tag.

use std::collections::BTreeSet;

use tracing::{info, warn};

use crate::aws::ecs::{Ecs, running_images};
use crate::decide::digests::{Resolved, RunningImage, ecr_tag, mismatch};
use crate::decide::outcome::{Outcome, Rollback};
use crate::runtime::deploy::Deployer;

impl Deployer {
    /// The outcome of a redeploy whose rollout to `revision` (deployment `deployment_id`, when known)
    /// completed: failed when a running container of it runs another digest than ECR gives for its tag
    /// now. Images not in ECR, and ECR unreachable or denied, are logged and do not fail it.
    pub(crate) async fn check_digests(
        &self,
        ecs: &Ecs,
        service: &str,
        revision: &str,
        deployment_id: Option<&str>,
    ) -> Outcome {
        let tasks = match ecs.running_task_details(service).await {
            Ok(tasks) => tasks,
            Err(e) => {
                warn!(error = %e, "the image digest check is skipped: the running tasks could not be read");
                return Outcome::Deployed;
            }
        };
        let running: Vec<RunningImage> = tasks
            .iter()
            .filter(|t| {
                t.last_status() == Some("RUNNING")
                    && t.task_definition_arn() == Some(revision)
                    && deployment_id.is_none_or(|id| t.started_by() == Some(id))
            })
            .flat_map(running_images)
            .collect();
        let images: BTreeSet<String> = running
            .iter()
            .filter(|r| ecr_tag(&r.image).is_some())
            .map(|r| r.image.clone())
            .collect();
        if images.is_empty() {
            return Outcome::Deployed;
        }
        let resolved = self.ecr.resolve(&images).await;
        for (image, answer) in &resolved {
            match answer {
                Resolved::Unknown(why) => {
                    warn!(image = %image, error = %why, "the image digest check skips this image: ECR could not be asked")
                }
                Resolved::NotFound => {
                    warn!(image = %image, "the image digest check skips this image: its tag is not in ECR")
                }
                Resolved::Digest(_) => {}
            }
        }
        match mismatch(&running, &resolved) {
            None => {
                info!(
                    images = images.len(),
                    "image digests match what their tags point to in ECR"
                );
                Outcome::Deployed
            }
            Some(reason) => Outcome::Failed {
                reason,
                rollback: Rollback::NotPossible(
                    "a redeploy runs the revision it replaced: there is nothing to go back to"
                        .to_owned(),
                ),
            },
        }
    }
}
