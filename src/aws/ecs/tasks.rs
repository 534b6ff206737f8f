//! The tasks of a service ECS has: the ones it wants running, for judging a rollout and showing it, and
//! the ones of one deployment that stopped, for why, and the one-off tasks holding a lock; every listing
//! read for a bounded number of pages.

use std::collections::BTreeSet;

use aws_sdk_ecs::types::DesiredStatus;

use crate::aws::ecs::Ecs;
use crate::aws::ecs::shapes::{StoppedTask, stopped_reason, task_state};
use crate::aws::error::AwsError;
use crate::decide::service::TaskState;

/// DescribeTasks takes at most this many task ARNs per call.
const DESCRIBE_TASKS_BATCH: usize = 100;
/// The most pages of a service's running tasks read (100 tasks a page): past any service's size, so an
/// endpoint that never stops paging cannot hold a deployment.
const MAX_RUNNING_PAGES: usize = 60;
/// The most pages of a deployment's stopped tasks read for their reasons: the first 500 say enough.
const MAX_STOPPED_PAGES: usize = 5;

impl Ecs {
    /// The service's tasks that ECS wants running (every page of ListTasks and DescribeTasks).
    pub async fn running_tasks(&self, service: &str) -> Result<Vec<TaskState>, AwsError> {
        Ok(self
            .tasks(
                service,
                DesiredStatus::Running,
                Pages::AllOf(MAX_RUNNING_PAGES),
            )
            .await?
            .iter()
            .map(task_state)
            .collect())
    }
    /// The service a task belongs to (its group is `service:NAME`), or `None` for a task of no service.
    pub async fn task_service(&self, task_arn: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .call("DescribeTasks", || {
                self.client
                    .describe_tasks()
                    .cluster(&self.cluster)
                    .tasks(task_arn)
                    .send()
            })
            .await?;
        Ok(out
            .tasks()
            .first()
            .and_then(|t| t.group())
            .and_then(|g| g.strip_prefix("service:"))
            .map(str::to_owned))
    }
    /// The stopped tasks that the deployment `deployment_id` started on `task_definition`, with their
    /// reasons, leaving out the ones in `seen`: ECS lists a deployment's tasks by their `startedBy`, so a
    /// large service's other tasks are neither listed nor described, and none is described twice.
    pub async fn stopped_tasks(
        &self,
        deployment_id: &str,
        task_definition: &str,
        seen: &BTreeSet<String>,
    ) -> Result<Vec<StoppedTask>, AwsError> {
        let arns = self
            .task_arns(
                Listing::StartedBy(deployment_id),
                DesiredStatus::Stopped,
                Pages::AtMost(MAX_STOPPED_PAGES),
            )
            .await?;
        let new: Vec<String> = arns.into_iter().filter(|a| !seen.contains(a)).collect();
        Ok(self
            .describe(&new)
            .await?
            .iter()
            .filter(|t| t.task_definition_arn() == Some(task_definition))
            .map(|t| StoppedTask {
                arn: t.task_arn().unwrap_or_default().to_owned(),
                task_definition: task_definition.to_owned(),
                reason: stopped_reason(t),
                failed: matches!(
                    t.stop_code().map(|c| c.as_str()),
                    Some("TaskFailedToStart" | "EssentialContainerExited")
                ),
            })
            .collect())
    }
    /// When the oldest task of the deployment `deployment_id` still in PROVISIONING was created (ECS is
    /// finding capacity for it), or `None` when none is; the first page of its tasks is enough to tell.
    pub async fn provisioning_since(
        &self,
        deployment_id: &str,
    ) -> Result<Option<std::time::SystemTime>, AwsError> {
        let arns = self
            .task_arns(
                Listing::StartedBy(deployment_id),
                DesiredStatus::Running,
                Pages::AtMost(1),
            )
            .await?;
        Ok(self
            .describe(&arns)
            .await?
            .iter()
            .filter(|t| t.last_status() == Some("PROVISIONING"))
            .filter_map(|t| t.created_at())
            .filter_map(|at| std::time::SystemTime::try_from(*at).ok())
            .min())
    }

    /// The tasks started by `started_by` that ECS still wants running and that have not stopped, oldest
    /// first (by createdAt, then ARN): who holds a lock of one-off tasks. A lock has a task or two, so
    /// the first page of the listing is all of them.
    pub async fn holders(&self, started_by: &str) -> Result<Vec<String>, AwsError> {
        let arns = self
            .task_arns(
                Listing::StartedBy(started_by),
                DesiredStatus::Running,
                Pages::AtMost(1),
            )
            .await?;
        let mut holders: Vec<(i64, String)> = self
            .describe(&arns)
            .await?
            .iter()
            .filter(|t| t.last_status() != Some("STOPPED"))
            .filter_map(|t| {
                let created = t.created_at().map_or(0, |at| at.to_millis().unwrap_or(0));
                Some((created, t.task_arn()?.to_owned()))
            })
            .collect();
        holders.sort();
        Ok(holders.into_iter().map(|(_, arn)| arn).collect())
    }

    /// The service's tasks that ECS wants running, as ECS describes them.
    pub async fn running_task_details(
        &self,
        service: &str,
    ) -> Result<Vec<aws_sdk_ecs::types::Task>, AwsError> {
        self.tasks(
            service,
            DesiredStatus::Running,
            Pages::AllOf(MAX_RUNNING_PAGES),
        )
        .await
    }
    async fn tasks(
        &self,
        service: &str,
        desired: DesiredStatus,
        pages_limit: Pages,
    ) -> Result<Vec<aws_sdk_ecs::types::Task>, AwsError> {
        let arns = self
            .task_arns(Listing::Service(service), desired, pages_limit)
            .await?;
        self.describe(&arns).await
    }

    async fn task_arns(
        &self,
        listing: Listing<'_>,
        desired: DesiredStatus,
        pages_limit: Pages,
    ) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut read = 0;
        let mut next_token: Option<String> = None;
        loop {
            if let Pages::AllOf(most) = pages_limit
                && read == most
            {
                return Err(AwsError::unexpected(
                    "ListTasks",
                    &format!("more than {most} pages of tasks; stopped reading"),
                ));
            }
            let request = self
                .client
                .list_tasks()
                .cluster(&self.cluster)
                .desired_status(desired.clone())
                .set_next_token(next_token.take());
            // ECS takes `startedBy` only as the one filter.
            let request = match listing {
                Listing::Service(service) => request.service_name(service),
                Listing::StartedBy(started_by) => request.started_by(started_by),
            };
            let page = self.call("ListTasks", || request.clone().send()).await?;
            arns.extend(page.task_arns().iter().cloned());
            read += 1;
            next_token = page.next_token().map(str::to_owned);
            let enough = matches!(pages_limit, Pages::AtMost(most) if read == most);
            if next_token.is_none() || enough {
                break;
            }
        }
        Ok(arns)
    }

    pub(super) async fn describe(
        &self,
        arns: &[String],
    ) -> Result<Vec<aws_sdk_ecs::types::Task>, AwsError> {
        let mut tasks = Vec::with_capacity(arns.len());
        for batch in arns.chunks(DESCRIBE_TASKS_BATCH) {
            let out = self
                .call("DescribeTasks", || {
                    self.client
                        .describe_tasks()
                        .cluster(&self.cluster)
                        .set_tasks(Some(batch.to_vec()))
                        .send()
                })
                .await?;
            tasks.extend(out.tasks().iter().cloned());
        }
        Ok(tasks)
    }
}

/// Which tasks a listing asks for.
#[derive(Debug, Clone, Copy)]
enum Listing<'a> {
    /// A service's.
    Service(&'a str),
    /// Those of one `startedBy`: a deployment's (its id), or a lock's one-off tasks.
    StartedBy(&'a str),
}

/// How many pages of a listing to read.
#[derive(Debug, Clone, Copy)]
enum Pages {
    /// Every page, but no more than this many: past it the listing is an error.
    AllOf(usize),
    /// The first pages, as many as this: what is past them is left out.
    AtMost(usize),
}
