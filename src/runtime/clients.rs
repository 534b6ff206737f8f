//! The AWS clients the worker uses, each counting its failed call attempts into the worker's metrics.

use crate::aws::lookups::Lookups;
use crate::aws::sdk::sqs_client;
use crate::ops::metrics::Metrics;

/// A client like `$client` whose failed call attempts count into `$metrics`.
macro_rules! counted {
    ($kind:ty, $from:expr, $metrics:expr) => {
        <$kind>::from_conf(
            $from
                .config()
                .to_builder()
                .interceptor($metrics.interceptor())
                .build(),
        )
    };
}

/// The AWS clients the worker uses, and the metrics their failed calls are counted in.
#[derive(Debug, Clone)]
pub struct Clients {
    /// For the deployment queue, its dead-letter queue and reply queues.
    pub sqs: aws_sdk_sqs::Client,
    /// For the cluster's services.
    pub ecs: aws_sdk_ecs::Client,
    /// For `SNS_TOPIC`.
    pub sns: aws_sdk_sns::Client,
    /// For who the worker is (GetCallerIdentity), so that no message can give a task its role.
    pub sts: aws_sdk_sts::Client,
    /// For the pre-flight checks (whether what a task definition refers to exists) and, through its ECR
    /// client, what image tags point to now, which a redeploy's tasks must run.
    pub lookups: Lookups,
    /// Where the worker counts what it does; served at `/metrics`.
    pub metrics: Metrics,
}

impl Clients {
    /// Clients from the SDK's configuration whose failed call attempts count into fresh metrics; SQS's
    /// attempts may take the long poll `wait_time` and more (see [`sqs_client`]).
    pub fn new(sdk: &aws_config::SdkConfig, wait_time: std::time::Duration) -> Self {
        Self::from_clients(
            sqs_client(sdk, wait_time),
            aws_sdk_ecs::Client::new(sdk),
            aws_sdk_sns::Client::new(sdk),
            aws_sdk_sts::Client::new(sdk),
            Lookups::new(sdk),
        )
    }

    /// The same clients, each counting its failed call attempts into fresh metrics.
    pub fn from_clients(
        sqs: aws_sdk_sqs::Client,
        ecs: aws_sdk_ecs::Client,
        sns: aws_sdk_sns::Client,
        sts: aws_sdk_sts::Client,
        lookups: Lookups,
    ) -> Self {
        let metrics = Metrics::new();
        Self {
            sqs: counted!(aws_sdk_sqs::Client, sqs, metrics),
            ecs: counted!(aws_sdk_ecs::Client, ecs, metrics),
            sns: counted!(aws_sdk_sns::Client, sns, metrics),
            sts: counted!(aws_sdk_sts::Client, sts, metrics),
            lookups: Lookups {
                ecr: counted!(aws_sdk_ecr::Client, lookups.ecr, metrics),
                iam: counted!(aws_sdk_iam::Client, lookups.iam, metrics),
                ssm: counted!(aws_sdk_ssm::Client, lookups.ssm, metrics),
                secrets: counted!(aws_sdk_secretsmanager::Client, lookups.secrets, metrics),
                logs: counted!(aws_sdk_cloudwatchlogs::Client, lookups.logs, metrics),
            },
            metrics,
        }
    }
}
