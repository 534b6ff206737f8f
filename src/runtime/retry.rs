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

/// How a deployment's ECS calls are retried while they fail for a reason worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// The first wait between attempts (`ECS_POLL_INTERVAL`), growing from there.
    pub first_wait: Duration,
    /// How long calls may keep failing before the message is given back (`ECS_TIMEOUT`).
    pub give_up_after: Duration,
}

impl Retry {
    /// Calls until it answers: [`retrying`] with these settings.
    pub async fn call<T, F, Fut>(self, call: F) -> Result<T, Outcome>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        retrying(self.first_wait, self.give_up_after, call).await
    }
}

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
/// retrying, or every `poll_interval` while it is throttled. A call ECS refuses rejects the message; calls that keep failing for `patience` give it back
/// for later. The time a call waits for its turn in the API budget is not failing: a registration that
/// waits its turn behind a release wave is not given back for it.
pub async fn retrying<T, F, Fut>(
    poll_interval: Duration,
    patience: Duration,
    mut call: F,
) -> Result<T, Outcome>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut backoff = error_backoff(poll_interval);
    let mut last_error: Option<String> = None;
    let mut failing_since: Option<Instant> = None;
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
                let since = *failing_since.get_or_insert_with(Instant::now);
                let error = e.to_string();
                if last_error.as_deref() != Some(error.as_str()) {
                    warn!(%error, "ECS call failed; retrying with backoff");
                    last_error = Some(error.clone());
                }
                // ECS refused the call for its rate: the API budget paces the next one, so it is tried
                // again after a poll interval, without the backoff of an outage growing.
                let delay = if e.throttled {
                    poll_interval
                } else {
                    backoff.next().unwrap_or(MAX_ERROR_BACKOFF)
                };
                if Instant::now() + delay >= since + patience {
                    warn!(%error, "ECS kept failing; the message will be tried again later");
                    return Err(Outcome::RetryLater { reason: error });
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waiting_for_a_turn_is_not_failing_but_failing_for_the_patience_gives_the_message_back()
    {
        let patience = Duration::from_secs(30);
        let calls = AtomicU32::new(0);
        // A registration that waits 100 s for its turn, is throttled once, then goes through.
        let registered = retrying(Duration::from_secs(1), patience, || async {
            if calls.fetch_add(1, Ordering::Relaxed) == 0 {
                tokio::time::sleep(Duration::from_secs(100)).await;
                return Err(AwsError::throttling("RegisterTaskDefinition"));
            }
            Ok("td:2")
        })
        .await;
        assert_eq!(registered, Ok("td:2"));
        let start = Instant::now();
        let given_back = retrying(Duration::from_secs(1), patience, || async {
            Err::<(), _>(AwsError::throttling("UpdateService"))
        })
        .await;
        assert!(
            matches!(given_back, Err(Outcome::RetryLater { .. })),
            "{given_back:?}"
        );
        assert!(start.elapsed() <= patience);
    }
}
