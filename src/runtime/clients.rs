//! The AWS clients the worker uses, each counting its failed call attempts into the worker's metrics.

use crate::ops::metrics::Metrics;

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
    /// For what image tags point to now, which a redeploy's tasks must run.
    pub ecr: aws_sdk_ecr::Client,
    /// Where the worker counts what it does; served at `/metrics`.
    pub metrics: Metrics,
}

impl Clients {
    /// Clients from the SDK's configuration whose failed call attempts count into fresh metrics.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self::from_clients(
            aws_sdk_sqs::Client::new(sdk),
            aws_sdk_ecs::Client::new(sdk),
            aws_sdk_sns::Client::new(sdk),
            aws_sdk_sts::Client::new(sdk),
            aws_sdk_ecr::Client::new(sdk),
        )
    }

    /// The same clients, each counting its failed call attempts into fresh metrics.
    pub fn from_clients(
        sqs: aws_sdk_sqs::Client,
        ecs: aws_sdk_ecs::Client,
        sns: aws_sdk_sns::Client,
        sts: aws_sdk_sts::Client,
        ecr: aws_sdk_ecr::Client,
    ) -> Self {
        let metrics = Metrics::new();
        Self {
            sqs: aws_sdk_sqs::Client::from_conf(
                sqs.config()
                    .to_builder()
                    .interceptor(metrics.interceptor())
                    .build(),
            ),
            ecs: aws_sdk_ecs::Client::from_conf(
                ecs.config()
                    .to_builder()
                    .interceptor(metrics.interceptor())
                    .build(),
            ),
            sns: aws_sdk_sns::Client::from_conf(
                sns.config()
                    .to_builder()
                    .interceptor(metrics.interceptor())
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                sts.config()
                    .to_builder()
                    .interceptor(metrics.interceptor())
                    .build(),
            ),
            ecr: aws_sdk_ecr::Client::from_conf(
                ecr.config()
                    .to_builder()
                    .interceptor(metrics.interceptor())
                    .build(),
            ),
            metrics,
        }
    }
}
