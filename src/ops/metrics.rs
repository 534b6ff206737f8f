//! The worker's metrics, served in Prometheus text format at `/metrics` (see [`crate::ops::http`]),
//! including every failed AWS call attempt by service, operation and error.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::aws::attempts::FailedAttempts;
use crate::aws::limiter::{Event, Observer};

/// Upper bounds of the deployment duration histogram, in seconds: from a register-only message to a slow
/// rollout plus its rollback.
const DURATION_BUCKETS: [f64; 12] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 180.0, 300.0, 450.0, 600.0, 900.0, 1800.0,
];

/// Labels of a finished deployment.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// [`crate::decide::outcome::Outcome::label`].
    outcome: String,
}

/// Labels of a failed AWS call attempt.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AwsErrorLabels {
    /// `sqs`, `ecs` or `sns`.
    service: String,
    /// The API operation, such as `DescribeServices`.
    operation: String,
    /// The service's error code, or `timeout`, `connection`, `http_NNN`.
    error: String,
}

/// Labels of a policy refusal.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    /// The rule that refused the message (`privileged`, `image`, `own_service`, ...).
    rule: String,
}

/// Labels of a notification.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    /// `slack`, `sns` or `reply`.
    sink: String,
    /// `delivered`, `failed` or `dropped` (its queue was full).
    result: String,
}

/// Labels of an ECS API category.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CategoryLabels {
    /// The category, as `ECS_API_LIMITS` names it (`task-definition-modify`).
    category: String,
}

/// Counters and gauges of one worker; cheap to clone, every clone counts into the same metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Shared by every clone.
    inner: Arc<Inner>,
}

struct Inner {
    /// Every metric below, for encoding.
    registry: Registry,
    /// Messages received from the deployment queue.
    received: Counter,
    /// Deployments (messages settled or left) by outcome.
    deployments: Family<OutcomeLabels, Counter>,
    /// From receipt to settlement, by outcome.
    duration: Family<OutcomeLabels, Histogram, fn() -> Histogram>,
    /// Deployments running now.
    in_flight: Gauge,
    /// Messages waiting for a deployment of their service to finish.
    waiting: Gauge,
    /// Failed AWS call attempts, retried ones included.
    aws_errors: Family<AwsErrorLabels, Counter>,
    /// Notifications by sink and result.
    notifications: Family<NotificationLabels, Counter>,
    /// Messages the policy refused, by rule.
    policy_refusals: Family<RuleLabels, Counter>,
    /// How long ECS calls waited for their turn in the worker's API budget, by category.
    api_wait: Family<CategoryLabels, Counter<f64, AtomicU64>>,
    /// Calls ECS throttled, by category: the account's bucket was empty.
    api_throttled: Family<CategoryLabels, Counter>,
    /// The interval rollouts are read at now: `ECS_POLL_INTERVAL`, or more when stretched to the budget.
    poll_interval: Gauge<f64, AtomicU64>,
    /// When a ReceiveMessage call last succeeded, in seconds since the epoch (0 before the first).
    last_receive: Gauge<f64, AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

impl Metrics {
    /// Fresh metrics, all zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ecs_deployment");
        let received = Counter::default();
        registry.register(
            "messages_received",
            "Messages received from the deployment queue",
            received.clone(),
        );
        let deployments = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "deployments",
            "Deployments finished, by outcome",
            deployments.clone(),
        );
        let duration = Family::<OutcomeLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram,
        );
        registry.register(
            "deployment_duration_seconds",
            "From receiving a message to settling it, by outcome",
            duration.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "deployments_in_flight",
            "Deployments running now",
            in_flight.clone(),
        );
        let waiting = Gauge::default();
        registry.register(
            "messages_waiting",
            "Messages held until a deployment of their service finishes",
            waiting.clone(),
        );
        let aws_errors = Family::<AwsErrorLabels, Counter>::default();
        registry.register(
            "aws_errors",
            "Failed AWS call attempts (the SDK's retries included), by service, operation and error",
            aws_errors.clone(),
        );
        let notifications = Family::<NotificationLabels, Counter>::default();
        registry.register(
            "notifications",
            "Notifications by sink and result",
            notifications.clone(),
        );
        let policy_refusals = Family::<RuleLabels, Counter>::default();
        registry.register(
            "policy_refusals",
            "Messages the admission policy refused, by rule",
            policy_refusals.clone(),
        );
        let api_wait = Family::<CategoryLabels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "ecs_api_wait_seconds",
            "How long ECS calls waited for their turn in the worker's API budget (ECS_API_SHARE), by category",
            api_wait.clone(),
        );
        let api_throttled = Family::<CategoryLabels, Counter>::default();
        registry.register(
            "ecs_api_throttled",
            "ECS calls throttled (the account's bucket was empty), by category",
            api_throttled.clone(),
        );
        let poll_interval = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "poll_interval_seconds",
            "How often rollouts are read now: ECS_POLL_INTERVAL, or longer when the rollouts in flight need more calls than the API budget allows",
            poll_interval.clone(),
        );
        let last_receive = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_successful_receive_timestamp_seconds",
            "When a ReceiveMessage call last succeeded, in seconds since the Unix epoch",
            last_receive.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                received,
                deployments,
                duration,
                in_flight,
                waiting,
                aws_errors,
                notifications,
                policy_refusals,
                api_wait,
                api_throttled,
                poll_interval,
                last_receive,
            }),
        }
    }

    /// A ReceiveMessage call succeeded with `count` messages.
    pub fn received(&self, count: usize) {
        self.inner.received.inc_by(count as u64);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.inner.last_receive.set(now.as_secs_f64());
    }

    /// A deployment ended with `outcome` after `duration`.
    pub fn finished(&self, outcome: &str, duration: Duration) {
        let labels = OutcomeLabels {
            outcome: outcome.to_owned(),
        };
        self.inner.deployments.get_or_create(&labels).inc();
        self.inner
            .duration
            .get_or_create(&labels)
            .observe(duration.as_secs_f64());
    }

    /// How many deployments run and how many messages wait now.
    pub fn load(&self, in_flight: usize, waiting: usize) {
        self.inner
            .in_flight
            .set(i64::try_from(in_flight).unwrap_or(i64::MAX));
        self.inner
            .waiting
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// An AWS call attempt failed.
    pub fn aws_error(&self, service: &str, operation: &str, error: &str) {
        self.inner
            .aws_errors
            .get_or_create(&AwsErrorLabels {
                service: service.to_ascii_lowercase(),
                operation: operation.to_owned(),
                error: error.to_owned(),
            })
            .inc();
    }

    /// A notification to `sink` ended with `result`.
    pub fn notification(&self, sink: &str, result: &str) {
        self.inner
            .notifications
            .get_or_create(&NotificationLabels {
                sink: sink.to_owned(),
                result: result.to_owned(),
            })
            .inc();
    }

    /// The policy refused a message by `rule`.
    pub fn policy_refusal(&self, rule: &str) {
        self.inner
            .policy_refusals
            .get_or_create(&RuleLabels {
                rule: rule.to_owned(),
            })
            .inc();
    }

    /// Every metric in the text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry);
        text
    }

    /// Hears the API budget's events: waits, throttled calls and the poll interval.
    pub fn api_observer(&self) -> Observer {
        let metrics = self.clone();
        Arc::new(move |event| metrics.api_event(event))
    }

    fn api_event(&self, event: Event) {
        let labels = |category: &str| CategoryLabels {
            category: category.to_owned(),
        };
        match event {
            Event::Waited { category, wait } => {
                self.inner
                    .api_wait
                    .get_or_create(&labels(category))
                    .inc_by(wait.as_secs_f64());
            }
            Event::Throttled { category } => {
                self.inner
                    .api_throttled
                    .get_or_create(&labels(category))
                    .inc();
            }
            Event::PollInterval(interval) => {
                self.inner.poll_interval.set(interval.as_secs_f64());
            }
        }
    }

    /// An interceptor for an SDK client's configuration that counts its failed attempts here.
    pub fn interceptor(&self) -> FailedAttempts {
        let metrics = self.clone();
        FailedAttempts::new(move |attempt| {
            metrics.aws_error(attempt.service, attempt.operation, attempt.error);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_encoded_with_their_labels() {
        let metrics = Metrics::new();
        metrics.received(2);
        metrics.finished("deployed", Duration::from_secs(20));
        metrics.load(3, 1);
        metrics.aws_error("ECS", "DescribeServices", "ThrottlingException");
        metrics.notification("slack", "failed");
        metrics.policy_refusal("privileged");
        let text = metrics.encode();
        for line in [
            "ecs_deployment_messages_received_total 2",
            "ecs_deployment_deployments_total{outcome=\"deployed\"} 1",
            "ecs_deployment_deployment_duration_seconds_bucket{le=\"30.0\",outcome=\"deployed\"} 1",
            "ecs_deployment_deployments_in_flight 3",
            "ecs_deployment_messages_waiting 1",
            "ecs_deployment_aws_errors_total{service=\"ecs\",operation=\"DescribeServices\",error=\"ThrottlingException\"} 1",
            "ecs_deployment_notifications_total{sink=\"slack\",result=\"failed\"} 1",
            "ecs_deployment_policy_refusals_total{rule=\"privileged\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(text.contains("ecs_deployment_last_successful_receive_timestamp_seconds 1"));
    }
}
