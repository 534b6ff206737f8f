//! The AWS SDK's configuration for every client, worker and subcommands alike: the standard chain for
//! credentials, region and endpoints, with every call attempt bounded in time.

use std::time::Duration;

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::decide::names::region_of_queue_url;

/// How long connecting to an AWS endpoint may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much longer than its long-poll wait (if any) one attempt of an AWS call may take.
pub const ATTEMPT_MARGIN: Duration = Duration::from_secs(20);

/// No region anywhere: not in the environment, a profile, instance metadata or the queue URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "AWS_REGION: is not set, and no queue URL names a region; set AWS_REGION or a profile's region"
)]
pub struct NoRegion;

/// The SDK's configuration from its standard chain (environment, profile, container or instance role),
/// every call attempt bounded by the longest long poll (`long_poll`, zero for none) plus
/// [`ATTEMPT_MARGIN`], so no call can hang; without a region anywhere, the one in `queue_url`.
pub async fn sdk_config(
    queue_url: Option<&str>,
    long_poll: Duration,
) -> Result<SdkConfig, NoRegion> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(long_poll + ATTEMPT_MARGIN)
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
