//! Waiting on a condition with a deadline instead of sleeping.

use std::future::Future;
use std::time::{Duration, Instant};

/// Waits until `ready` returns `Some`, checking every 20 ms, and panics naming `what` at the deadline.
pub fn wait_until_blocking<T>(
    what: &str,
    deadline: Duration,
    mut ready: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `ready` resolves to `Some`, checking every 20 ms, and panics naming `what` at the deadline.
pub async fn wait_until<T, F, Fut>(what: &str, deadline: Duration, mut ready: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = ready().await {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
