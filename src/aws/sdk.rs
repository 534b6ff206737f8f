//! The AWS SDK's configuration for every client, worker and subcommands alike: the standard chain for
//! credentials, region and endpoints, with every call attempt bounded in time: a long poll by its wait, any
//! other call by [`ATTEMPT_TIMEOUT`].

use std::time::Duration;

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::decide::names::region_of_queue_url;

/// How long connecting to an AWS endpoint may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one attempt of an AWS call that does not long-poll may take: ECS, SNS, STS and the lookups
/// answer in well under a second, so an attempt that takes this long has hung.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// How much longer than its long-poll wait one attempt of an SQS call may take.
pub const ATTEMPT_MARGIN: Duration = Duration::from_secs(20);

/// No region anywhere: not in the environment, a profile, instance metadata or the queue URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "AWS_REGION: is not set, and no queue URL names a region; set AWS_REGION or a profile's region"
)]
pub struct NoRegion;

/// The SDK's configuration from its standard chain (environment, profile, container or instance role),
/// every call attempt bounded by [`ATTEMPT_TIMEOUT`], so no call can hang ([`sqs_client`] gives SQS's long
/// polls longer); without a region anywhere, the one in `queue_url`.
pub async fn sdk_config(queue_url: Option<&str>) -> Result<SdkConfig, NoRegion> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build();
    // Stalled-stream protection would watch a long poll, silent by design, with a 100 ms timer: ten
    // wake-ups a second while the worker is idle. Every attempt is already bounded by the timeout above.
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if std::env::var_os("AWS_REGION").is_none()
        && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        && let Some(region) = queue_url.and_then(region_of_queue_url)
    {
        // Profiles and instance metadata may still give a region; the queue URL's is the fallback.
        loader = loader.region(
            aws_config::meta::region::RegionProviderChain::default_provider()
                .or_else(Region::new(region)),
        );
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(NoRegion);
    }
    Ok(sdk)
}

/// An SQS client from `sdk` whose attempts may take the longest long poll (`long_poll`) plus
/// [`ATTEMPT_MARGIN`]: a receive waits that long by design.
pub fn sqs_client(sdk: &SdkConfig, long_poll: Duration) -> aws_sdk_sqs::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(long_poll + ATTEMPT_MARGIN)
        .build();
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn long_polls_get_their_wait_and_every_other_call_a_short_attempt() {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            .load()
            .await;
        let sqs = sqs_client(&sdk, Duration::from_secs(20));
        let attempt = |t: Option<&TimeoutConfig>| t.and_then(|t| t.operation_attempt_timeout());
        assert_eq!(
            attempt(sqs.config().timeout_config()),
            Some(Duration::from_secs(40))
        );
        let ecs = aws_sdk_ecs::Client::new(&sdk);
        assert_eq!(
            attempt(ecs.config().timeout_config()),
            Some(ATTEMPT_TIMEOUT)
        );
    }
}
