//! Clients and environments that talk only to the emulators: the `aws` CLI and the SDK's, with dummy
//! credentials and nothing of the developer's own AWS configuration.

use std::process::{Command, Stdio};

use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;

use crate::local::{REGION, venv_bin};

/// The endpoint variables of the services moto serves for the worker's checks, beside SQS, SNS and STS.
pub(crate) const MOTO_SERVED: [&str; 5] = [
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
];

/// Region, dummy credentials and empty AWS config files, so nothing reaches a real account.
pub fn isolated_aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_DEFAULT_REGION", REGION.to_owned()),
        ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_PAGER", String::new()),
    ]
}

/// Variables of the developer's environment that would point a child at a real account or endpoint.
const INHERITED_AWS_VARS: [&str; 13] = [
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_ENDPOINT_URL_ECS",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

/// The real `aws` CLI from `.venv/`, isolated from the developer's AWS configuration; add
/// `--endpoint-url` for the emulator it should talk to.
pub fn aws_cli() -> Command {
    let mut command = Command::new(venv_bin("aws"));
    for var in INHERITED_AWS_VARS {
        command.env_remove(var);
    }
    command.envs(isolated_aws_env()).stdin(Stdio::null());
    command
}

/// Runs the `aws` CLI against `endpoint` with `args` and returns its parsed JSON output; panics with its
/// stderr when it fails.
pub fn aws_json(endpoint: &str, args: &[&str]) -> Value {
    let output = aws_cli()
        .arg("--endpoint-url")
        .arg(endpoint)
        .args(["--output", "json"])
        .args(args)
        .output()
        .expect("run the aws CLI");
    assert!(
        output.status.success(),
        "aws {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("aws {} printed no JSON: {e}", args.join(" ")))
}

/// An aws-sdk-ecs config builder for `endpoint` with the test region and credentials; adjust (retries,
/// timeouts) and build.
pub fn ecs_config(endpoint: &str) -> aws_sdk_ecs::config::Builder {
    aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing", "testing", None, None, "testbed",
        ))
        .endpoint_url(endpoint)
}

/// The service's tasks with the given desired status (`RUNNING`, `STOPPED`), described; first page only,
/// which holds up to 100 tasks.
pub async fn service_tasks(
    ecs: &aws_sdk_ecs::Client,
    service: &str,
    desired_status: &str,
) -> Vec<aws_sdk_ecs::types::Task> {
    let arns = ecs
        .list_tasks()
        .service_name(service)
        .desired_status(desired_status.into())
        .send()
        .await
        .expect("list tasks")
        .task_arns
        .unwrap_or_default();
    if arns.is_empty() {
        return Vec::new();
    }
    ecs.describe_tasks()
        .set_tasks(Some(arns))
        .send()
        .await
        .expect("describe tasks")
        .tasks
        .unwrap_or_default()
}

/// An ECS client for `endpoint` with the SDK's default retries.
pub fn ecs_client(endpoint: &str) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::from_conf(ecs_config(endpoint).build())
}

/// An SQS client for `endpoint` with the SDK's default retries.
pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "testbed",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// An STS client for `endpoint` (moto serves STS beside SQS) with the SDK's default retries.
pub fn sts_client(endpoint: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "testing", "testing", None, None, "testbed",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// An SNS client for `endpoint` (moto serves SNS beside SQS) with the SDK's default retries.
pub fn sns_client(endpoint: &str) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .region(aws_sdk_sns::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "testing", "testing", None, None, "testbed",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// A client of the SDK crate `$sdk` for `$endpoint`, with the test region and credentials and the SDK's
/// default retries.
macro_rules! client_for {
    ($sdk:ident, $endpoint:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new(REGION))
                .credentials_provider($sdk::config::Credentials::new(
                    "testing", "testing", None, None, "testbed",
                ))
                .endpoint_url($endpoint)
                .build(),
        )
    };
}

/// An ECR client for `endpoint` (moto serves ECR beside SQS).
pub fn ecr_client(endpoint: &str) -> aws_sdk_ecr::Client {
    client_for!(aws_sdk_ecr, endpoint)
}

/// An IAM client for `endpoint` (moto's).
pub fn iam_client(endpoint: &str) -> aws_sdk_iam::Client {
    client_for!(aws_sdk_iam, endpoint)
}

/// An SSM client for `endpoint` (moto's).
pub fn ssm_client(endpoint: &str) -> aws_sdk_ssm::Client {
    client_for!(aws_sdk_ssm, endpoint)
}

/// A Secrets Manager client for `endpoint` (moto's).
pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    client_for!(aws_sdk_secretsmanager, endpoint)
}

/// A CloudWatch Logs client for `endpoint` (moto's).
pub fn logs_client(endpoint: &str) -> aws_sdk_cloudwatchlogs::Client {
    client_for!(aws_sdk_cloudwatchlogs, endpoint)
}
