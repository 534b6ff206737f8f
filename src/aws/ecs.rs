//! The ECS calls the worker and the subcommands make, as thin adapters that turn SDK types into the plain
//! ones of [`crate::decide::service`].

use std::collections::{BTreeSet, HashSet};
use std::error::Error as StdError;
use std::future::Future;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::config::retry::RetryConfig;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{Service, Tag, TaskDefinitionField};

use crate::aws::body::{RequestBody, ResponseBody};
use crate::aws::error::AwsError;
use crate::aws::limiter::ApiLimiter;
use crate::decide::marker::Marked;
use crate::decide::service::ServiceState;
use crate::decide::task_definition::TaskDefinition;

mod housekeeping;
pub mod one_off;
mod service_deployments;
mod shapes;
mod tasks;

pub use shapes::{ServiceEvent, StoppedTask, running_images, service_events, service_state};

/// DescribeServices takes at most this many services per call.
pub const DESCRIBE_SERVICES_BATCH: usize = 10;
/// DescribeServiceDeployments takes at most this many ARNs per call.
pub const DESCRIBE_SERVICE_DEPLOYMENTS_BATCH: usize = 20;
/// How many of a family's newest revisions a redelivered message looks through for its own.
const MARKED_SEARCH_DEPTH: i32 = 10;
/// How many times a call ECS refuses for its rate is sent in all before the refusal is the answer: as
/// many as the SDK's standard retry mode makes, each one waiting its turn in the API budget.
pub const THROTTLED_ATTEMPTS: u32 = 3;

/// `sdk` with the SDK's own retries off: each attempt is a call of its own, which waits its turn in the
/// worker's API budget, and the worker's retries (capped backoff, a poll interval after a throttle) decide
/// when to try again. The SDK's retries would re-send a throttled call outside the budget.
pub fn one_attempt_per_call(sdk: &Client) -> Client {
    Client::from_conf(
        sdk.config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

/// ECS, for one cluster.
#[derive(Debug, Clone)]
pub struct Ecs {
    /// The SDK client: for the worker, one attempt per call (see [`one_attempt_per_call`]); for a
    /// subcommand, with the SDK's own retries for throttling and transient errors.
    client: Client,
    /// The cluster every call is made in (`ECS_CLUSTER`).
    cluster: String,
    /// The worker's share of the account's API budget, which every call waits its turn in.
    limiter: ApiLimiter,
}

/// A service as a deployment starts from it.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentService {
    /// Status, desired count and deployments.
    pub state: ServiceState,
    /// The task definition the service runs now: what a failed rollout goes back to.
    pub task_definition: Option<String>,
    /// Ids of the service events already there, so only new ones are reported.
    pub event_ids: BTreeSet<String>,
}

impl Ecs {
    /// ECS in `cluster`, calls made as they come (a subcommand's).
    pub fn new(client: Client, cluster: impl Into<String>) -> Self {
        Self::limited(client, cluster, ApiLimiter::unlimited())
    }

    /// ECS in `cluster`, every call made in its turn in `limiter`.
    pub fn limited(client: Client, cluster: impl Into<String>, limiter: ApiLimiter) -> Self {
        Self {
            client,
            cluster: cluster.into(),
            limiter,
        }
    }

    /// Makes a call once its turn in the API budget comes, and lets the budget learn from the answer. A
    /// call ECS refuses for its rate (nothing was done) is sent again, up to [`THROTTLED_ATTEMPTS`] in all,
    /// each attempt in a turn of its own: the retries the SDK would make outside the budget, made inside.
    async fn call<T, E, R, F>(
        &self,
        operation: &'static str,
        request: impl Fn() -> F,
    ) -> Result<T, AwsError>
    where
        F: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let mut attempt = 1;
        loop {
            self.limiter.turn(operation).await;
            let result = request().await.map_err(|e| AwsError::new(operation, e));
            self.limiter.answered(operation, &result);
            match result {
                Err(e) if e.throttled && attempt < THROTTLED_ATTEMPTS => attempt += 1,
                result => return result,
            }
        }
    }

    /// The cluster calls are made in.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The cluster's status (`ACTIVE`, `INACTIVE`, ...), or `None` when ECS has no such cluster.
    pub async fn cluster_status(&self) -> Result<Option<String>, AwsError> {
        let out = self
            .call("DescribeClusters", || {
                self.client
                    .describe_clusters()
                    .clusters(&self.cluster)
                    .send()
            })
            .await?;
        Ok(out
            .clusters()
            .first()
            .map(|c| c.status().unwrap_or("UNKNOWN").to_owned()))
    }

    /// The service, or `None` when the cluster has no such service.
    pub async fn describe_service(
        &self,
        service: &str,
    ) -> Result<Option<CurrentService>, AwsError> {
        let found = self.describe_services(&[service.to_owned()]).await?;
        Ok(found.first().map(|s| CurrentService {
            state: service_state(s),
            task_definition: s.task_definition().map(str::to_owned),
            event_ids: s
                .events()
                .iter()
                .filter_map(|e| e.id().map(str::to_owned))
                .collect(),
        }))
    }

    /// Up to [`DESCRIBE_SERVICES_BATCH`] services in one call; services the cluster does not have are left
    /// out (ECS lists them as failures with reason MISSING, not as an error).
    pub async fn describe_services(&self, services: &[String]) -> Result<Vec<Service>, AwsError> {
        let out = self
            .call("DescribeServices", || {
                self.client
                    .describe_services()
                    .cluster(&self.cluster)
                    .set_services(Some(services.to_vec()))
                    .send()
            })
            .await?;
        Ok(out.services().to_vec())
    }

    /// Registers the task definition and returns its ARN.
    ///
    /// The request body is the message's task definition as JSON, not a re-serialization of SDK structs:
    /// every member reaches ECS exactly as the producer wrote it, including members this SDK version does
    /// not know yet.
    ///
    /// The SDK does not retry this call: a registration whose answer was lost (a timeout, a 5xx) may have
    /// happened, and retrying it blindly would register a second revision. The caller retries a throttled
    /// call, which ECS did not carry out, and looks for the marked revision before retrying anything else.
    pub async fn register(&self, task_definition: &TaskDefinition) -> Result<String, AwsError> {
        let out = self
            .call("RegisterTaskDefinition", || {
                self.client
                    .register_task_definition()
                    .family(task_definition.family())
                    .set_container_definitions(Some(Vec::new()))
                    .customize()
                    .config_override(
                        aws_sdk_ecs::config::Builder::default()
                            .retry_config(RetryConfig::standard().with_max_attempts(1)),
                    )
                    .interceptor(RequestBody(task_definition.to_json()))
                    .send()
            })
            .await?;
        out.task_definition()
            .and_then(|td| td.task_definition_arn())
            .map(str::to_owned)
            .ok_or_else(|| {
                AwsError::unexpected(
                    "RegisterTaskDefinition",
                    "the answer has no taskDefinition.taskDefinitionArn",
                )
            })
    }

    /// Points the service at `task_definition`; gives the service as ECS's answer shows it, the deployment
    /// it started among its deployments.
    pub async fn update_service(
        &self,
        service: &str,
        task_definition: &str,
    ) -> Result<Option<ServiceState>, AwsError> {
        self.update(service, task_definition, false).await
    }

    /// Starts a new deployment of `task_definition`, which the service runs already, so that every task is
    /// replaced (images pulled again by tag); gives the service as ECS's answer shows it.
    pub async fn redeploy_service(
        &self,
        service: &str,
        task_definition: &str,
    ) -> Result<Option<ServiceState>, AwsError> {
        self.update(service, task_definition, true).await
    }

    async fn update(
        &self,
        service: &str,
        task_definition: &str,
        force_new_deployment: bool,
    ) -> Result<Option<ServiceState>, AwsError> {
        let out = self
            .call("UpdateService", || {
                self.client
                    .update_service()
                    .cluster(&self.cluster)
                    .service(service)
                    .task_definition(task_definition)
                    .set_force_new_deployment(force_new_deployment.then_some(true))
                    .send()
            })
            .await?;
        Ok(out.service().map(service_state))
    }

    /// The revision of `family` registered for `message_id`, looked for among the family's newest ACTIVE
    /// revisions.
    pub async fn find_marked(
        &self,
        family: &str,
        message_id: &str,
    ) -> Result<Option<Marked>, AwsError> {
        self.find_marked_skipping(family, message_id, &mut HashSet::new())
            .await
    }

    /// The same search, for one who asks again: revisions in `not_ours` are not read, and revisions found
    /// not to be the message's are added to it. (A revision's message-id tag is written when it is
    /// registered, so a revision that is not the message's never becomes it.)
    pub async fn find_marked_skipping(
        &self,
        family: &str,
        message_id: &str,
        not_ours: &mut HashSet<String>,
    ) -> Result<Option<Marked>, AwsError> {
        for arn in self.newest_revisions(family).await? {
            if not_ours.contains(&arn) {
                continue;
            }
            let tags = self.task_definition_tags(&arn).await?;
            match Marked::from_tags(&arn, &tags, message_id) {
                Some(marked) => return Ok(Some(marked)),
                None => {
                    not_ours.insert(arn);
                }
            }
        }
        Ok(None)
    }

    /// The family's newest ACTIVE revisions, newest first: as many as a redelivered message searches.
    pub async fn newest_revisions(&self, family: &str) -> Result<Vec<String>, AwsError> {
        self.active_revisions(family, MARKED_SEARCH_DEPTH).await
    }

    /// A task definition revision's tags (key, value).
    pub async fn task_definition_tags(
        &self,
        task_definition: &str,
    ) -> Result<Vec<(String, String)>, AwsError> {
        let described = self
            .call("DescribeTaskDefinition", || {
                self.client
                    .describe_task_definition()
                    .task_definition(task_definition)
                    .include(TaskDefinitionField::Tags)
                    .send()
            })
            .await?;
        Ok(described
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect())
    }

    /// Adds one tag to a resource (a task definition revision).
    pub async fn tag(&self, arn: &str, key: &str, value: &str) -> Result<(), AwsError> {
        let tag = Tag::builder().key(key).value(value).build();
        self.call("TagResource", || {
            self.client
                .tag_resource()
                .resource_arn(arn)
                .tags(tag.clone())
                .send()
        })
        .await?;
        Ok(())
    }

    /// Removes tags from a resource (a task definition revision) by key.
    pub async fn untag(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.call("UntagResource", || {
            self.client
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
        })
        .await?;
        Ok(())
    }

    /// The family's newest ACTIVE revision as DescribeTaskDefinition answers it (JSON with tags), or `None`
    /// when the family has no ACTIVE revision.
    pub async fn latest_revision_json(&self, family: &str) -> Result<Option<String>, AwsError> {
        match self.task_definition_json(family).await {
            Ok(json) => Ok(Some(json)),
            // ECS's words for a family it does not have (and for one with only INACTIVE revisions).
            Err(e)
                if e.is("ClientException")
                    && e.message.contains("Unable to describe task definition") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// DescribeTaskDefinition's answer with tags, as the JSON ECS sent: `{"taskDefinition": ..., "tags":
    /// ...}`, every member kept, including ones this SDK version does not know.
    pub async fn task_definition_json(&self, task_definition: &str) -> Result<String, AwsError> {
        let body = ResponseBody::default();
        self.call("DescribeTaskDefinition", || {
            self.client
                .describe_task_definition()
                .task_definition(task_definition)
                .include(TaskDefinitionField::Tags)
                .customize()
                .interceptor(body.clone())
                .send()
        })
        .await?;
        body.take().ok_or_else(|| {
            AwsError::unexpected("DescribeTaskDefinition", "the answer has no JSON body")
        })
    }
}
