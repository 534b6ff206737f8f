//! Who the worker is: the account and IAM principal STS says it calls as, and, when it runs on ECS, the
//! task it runs in as the task metadata endpoint (v4) describes it.

use std::time::Duration;

use serde::Deserialize;

use crate::aws::error::AwsError;

/// How long the task metadata endpoint may take to answer; it is local to the task.
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of a metadata answer read.
const MAX_METADATA: usize = 1 << 20;

/// The caller, as STS GetCallerIdentity names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account.
    pub account: String,
    /// The principal's ARN (`arn:aws:sts::1:assumed-role/name/session` for a role).
    pub arn: String,
}

/// Asks STS who the caller is. No IAM permission is needed for this call.
pub async fn caller(sts: &aws_sdk_sts::Client) -> Result<Caller, AwsError> {
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::new("GetCallerIdentity", e))?;
    match (out.account(), out.arn()) {
        (Some(account), Some(arn)) => Ok(Caller {
            account: account.to_owned(),
            arn: arn.to_owned(),
        }),
        _ => Err(AwsError::unexpected(
            "GetCallerIdentity",
            "the answer has no Account or Arn",
        )),
    }
}

/// The task the worker runs in, from `${ECS_CONTAINER_METADATA_URI_V4}/task`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskMetadata {
    /// The cluster's name or ARN.
    #[serde(rename = "Cluster")]
    pub cluster: String,
    /// The task's ARN.
    #[serde(rename = "TaskARN")]
    pub task_arn: String,
    /// The task definition's family.
    #[serde(rename = "Family")]
    pub family: String,
    /// The service the task belongs to; ECS gives it on EC2 and ECS Anywhere (agent 1.63.1 and later),
    /// not on Fargate.
    #[serde(rename = "ServiceName", default)]
    pub service: Option<String>,
}

/// Reads the task metadata at `uri` (the value of `ECS_CONTAINER_METADATA_URI_V4`).
pub async fn task_metadata(uri: &str) -> Result<TaskMetadata, String> {
    let url = format!("{}/task", uri.trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .timeout(METADATA_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url} answered {status}"));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("cannot read {url}: {e}"))?;
    if body.len() > MAX_METADATA {
        return Err(format!(
            "{url} answered with more than {MAX_METADATA} bytes"
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url} answered with no task metadata: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_metadata_reads_what_ecs_gives_on_fargate_and_on_ec2() {
        let fargate = r#"{"Cluster": "arn:aws:ecs:eu-west-1:1:cluster/prod",
            "TaskARN": "arn:aws:ecs:eu-west-1:1:task/prod/abc", "Family": "ecs-deployment",
            "Revision": "7", "DesiredStatus": "RUNNING", "Containers": []}"#;
        let task: TaskMetadata = serde_json::from_str(fargate).expect("metadata");
        assert_eq!(task.family, "ecs-deployment");
        assert_eq!(task.service, None);
        let ec2 = r#"{"Cluster": "prod", "ServiceName": "ecs-deployment",
            "TaskARN": "arn:aws:ecs:eu-west-1:1:task/prod/abc", "Family": "ecs-deployment"}"#;
        let task: TaskMetadata = serde_json::from_str(ec2).expect("metadata");
        assert_eq!(task.service.as_deref(), Some("ecs-deployment"));
    }
}
