//! The worker's share of ECS's API budget, kept before each call: a call waits its turn in its category's
//! line, first come first served, and a throttled answer makes the worker take less for a while.
//!
//! Only the call at the head of a line waits for a token, with the rate of the moment: a cut slows the
//! line at once, and a recovery speeds it up at once, instead of each waiting call keeping the wait it
//! was given when it joined.
//!
//! Each category has its own bucket, so registrations waiting for theirs (one a second by default) never
//! hold up the reads of rollouts already being watched.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::error::AwsError;
use crate::decide::budget::{Bucket, Budget};

/// What the limiter tells whoever watches it (the metrics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A call of `category` waited `wait` for its turn.
    Waited {
        /// The API category.
        category: &'static str,
        /// How long.
        wait: Duration,
    },
    /// ECS throttled a call of `category`: the worker's rate for it is cut for a while.
    Throttled {
        /// The API category.
        category: &'static str,
    },
    /// The shared poll's interval is now this long (stretched when the watched rollouts need more calls
    /// than the budget allows).
    PollInterval(Duration),
}

/// Hears the limiter's events.
pub type Observer = Arc<dyn Fn(Event) + Send + Sync>;

/// The worker's API budget; cheap to clone, every clone shares the same buckets.
#[derive(Clone)]
pub struct ApiLimiter {
    /// Shared by every clone.
    inner: Arc<Inner>,
}

/// One category's calls waiting for a token.
struct Lane {
    /// The line: tokio's mutex hands itself over in the order it was asked for, so the head of the line
    /// is the call that asked first.
    line: tokio::sync::Mutex<()>,
    /// The bucket; locked only to take a token, never across a wait.
    bucket: Mutex<Bucket>,
}

struct Inner {
    /// The worker's share of each category.
    budget: Budget,
    /// The buckets' time zero.
    started: Instant,
    /// Each limited category's line and bucket.
    lanes: BTreeMap<&'static str, Lane>,
    /// Who hears the events.
    observer: Option<Observer>,
}

impl std::fmt::Debug for ApiLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiLimiter")
            .field("budget", &self.inner.budget)
            .finish_non_exhaustive()
    }
}

impl ApiLimiter {
    /// Keeps to `budget`; `observer` hears every wait, throttled answer and poll interval.
    pub fn new(budget: Budget, observer: Option<Observer>) -> Self {
        let lanes = budget
            .limits
            .iter()
            .map(|(name, limit)| {
                let lane = Lane {
                    line: tokio::sync::Mutex::new(()),
                    bucket: Mutex::new(Bucket::new(*limit)),
                };
                (*name, lane)
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                budget,
                started: Instant::now(),
                lanes,
                observer,
            }),
        }
    }

    /// No limits: for the subcommands a person runs, one call at a time.
    pub fn unlimited() -> Self {
        Self::new(Budget::unlimited(), None)
    }

    /// The budget kept to.
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    /// Waits until `operation` may be called.
    pub async fn turn(&self, operation: &str) {
        let Some((category, _)) = self.inner.budget.limit_for(operation) else {
            return;
        };
        let Some(lane) = self.inner.lanes.get(category) else {
            return;
        };
        let asked = Instant::now();
        // A call whose turn is now neither queues nor sleeps, and is not reported as having waited.
        let (head, mut waited) = match lane.line.try_lock() {
            Ok(head) => (head, false),
            Err(_) => (lane.line.lock().await, true),
        };
        loop {
            let now = self.inner.started.elapsed();
            let Some(wait) = bucket(lane).take(now) else {
                break;
            };
            waited = true;
            tokio::time::sleep(wait).await;
        }
        drop(head);
        if waited {
            let waited = asked.elapsed();
            self.tell(Event::Waited {
                category,
                wait: waited,
            });
        }
    }

    /// Learns from a call's answer: a throttled one means other clients take the account's bucket.
    pub fn answered<T>(&self, operation: &str, result: &Result<T, AwsError>) {
        let Err(error) = result else { return };
        if !error.throttled {
            return;
        }
        let Some((category, _)) = self.inner.budget.limit_for(operation) else {
            return;
        };
        if let Some(lane) = self.inner.lanes.get(category) {
            bucket(lane).throttled(self.inner.started.elapsed());
        }
        self.tell(Event::Throttled { category });
    }

    /// Tells the observer.
    pub fn tell(&self, event: Event) {
        if let Some(observer) = &self.inner.observer {
            observer(event);
        }
    }
}

/// A lane's bucket. A panic while it was locked cannot leave it in a state that matters more than
/// stopping every ECS call would.
fn bucket(lane: &Lane) -> MutexGuard<'_, Bucket> {
    lane.bucket.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::budget::Limit;

    fn limiter(burst: f64, rate: f64, events: Arc<Mutex<Vec<Event>>>) -> ApiLimiter {
        let budget = Budget {
            limits: [("task-definition-modify", Limit { burst, rate })].into(),
        };
        let observer: Observer =
            Arc::new(move |e| events.lock().map(|mut v| v.push(e)).unwrap_or(()));
        ApiLimiter::new(budget, Some(observer))
    }

    #[tokio::test(start_paused = true)]
    async fn calls_past_the_burst_wait_their_turn_and_other_categories_do_not() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let limiter = limiter(2.0, 1.0, events.clone());
        let start = Instant::now();
        let mut turns = tokio::task::JoinSet::new();
        for _ in 0..5 {
            let limiter = limiter.clone();
            turns.spawn(async move {
                limiter.turn("RegisterTaskDefinition").await;
                start.elapsed()
            });
        }
        // Reads are not held up by registrations waiting for theirs.
        limiter.turn("DescribeServices").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        let mut times: Vec<u64> = turns.join_all().await.iter().map(|d| d.as_secs()).collect();
        times.sort_unstable();
        assert_eq!(times, [0, 0, 1, 2, 3]);
        let waited = events.lock().map(|e| e.len()).unwrap_or(0);
        assert_eq!(waited, 3, "each wait is reported");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_answer_slows_the_category_down() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let limiter = limiter(1.0, 2.0, events.clone());
        limiter.turn("RegisterTaskDefinition").await;
        let throttled = AwsError::throttling("RegisterTaskDefinition");
        limiter.answered::<()>("RegisterTaskDefinition", &Err(throttled));
        let start = Instant::now();
        limiter.turn("RegisterTaskDefinition").await;
        // At the full rate a token would take 0.5 s; at the halved rate it takes 1 s.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        let seen = events.lock().map(|e| e.clone()).unwrap_or_default();
        assert!(seen.contains(&Event::Throttled {
            category: "task-definition-modify"
        }));
    }
}
