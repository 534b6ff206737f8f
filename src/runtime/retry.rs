//! What happens while AWS keeps failing: capped exponential backoff with jitter, one log line per change
//! of error, and, for a deployment's ECS calls, giving the message back once the deadline passes.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::error::AwsError;
use crate::decide::outcome::Outcome;

/// The shortest wait after a failed receive.
const MIN_RECEIVE_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait after failed receives in a row.
pub const MAX_RECEIVE_BACKOFF: Duration = Duration::from_secs(60);
/// The longest wait between two reads of a rollout while ECS keeps failing.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(30);

/// Waits between SQS calls that keep failing: exponential with jitter from half a second, capped at a
/// minute.
pub fn receive_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(MIN_RECEIVE_BACKOFF)
        .with_max_delay(MAX_RECEIVE_BACKOFF)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Waits between reads of a rollout while ECS keeps failing: exponential with jitter from the poll
/// interval, capped.
pub fn error_backoff(poll_interval: Duration) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(poll_interval)
        .with_max_delay(MAX_ERROR_BACKOFF.max(poll_interval))
        .with_jitter()
        .without_max_times()
        .build()
}

/// Calls ECS until it answers, backing off (from `poll_interval`) while it fails for a reason worth
/// retrying, up to `deadline`. A call ECS refuses rejects the message; one still failing at the deadline
/// gives it back for later.
pub async fn retrying<T, F, Fut>(
    poll_interval: Duration,
    deadline: Instant,
    mut call: F,
) -> Result<T, Outcome>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut backoff = error_backoff(poll_interval);
    let mut last_error: Option<String> = None;
    loop {
        match call().await {
            Ok(value) => {
                if let Some(error) = last_error {
                    info!(%error, "ECS answers again");
                }
                return Ok(value);
            }
            Err(e) if e.rejects_request => {
                return Err(Outcome::Rejected {
                    reason: format!("ECS refused the request: {e}"),
                });
            }
            Err(e) => {
                let error = e.to_string();
                if last_error.as_deref() != Some(error.as_str()) {
                    warn!(%error, "ECS call failed; retrying with backoff");
                    last_error = Some(error.clone());
                }
                let delay = backoff.next().unwrap_or(MAX_ERROR_BACKOFF);
                if Instant::now() + delay >= deadline {
                    warn!(%error, "ECS kept failing; the message will be tried again later");
                    return Err(Outcome::RetryLater { reason: error });
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}
