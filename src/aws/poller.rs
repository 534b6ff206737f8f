//! One DescribeServices call per ten watched services of a cluster per poll interval, shared by every
//! rollout in flight.
//!
//! Each rollout asks for its service's next reading and waits; on each tick the poller answers every
//! waiting rollout with as few calls as DescribeServices allows (ten services per call). Ten rollouts watched
//! at once cost one call per interval, not ten, which keeps a busy worker far from ECS's rate limits.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ecs::types::Service;
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use crate::aws::ecs::{DESCRIBE_SERVICES_BATCH, Ecs};
use crate::aws::error::AwsError;
use crate::decide::names::service_name;

/// A service's reading: the service, `None` when the cluster no longer has it, or the failed call.
pub type Reading = Result<Option<Service>, AwsError>;

/// Hands out service readings; cheap to clone. The polling task stops once every clone is dropped.
#[derive(Debug, Clone)]
pub struct ServicePoller {
    /// Readings asked for and not yet answered, to the polling task.
    requests: mpsc::UnboundedSender<Request>,
}

/// One rollout waiting for its service's next reading.
#[derive(Debug)]
struct Request {
    /// The cluster and the service's name (the last part of an ARN).
    service: (String, String),
    /// Where the reading goes.
    reply: oneshot::Sender<Reading>,
}

impl ServicePoller {
    /// Starts polling every `interval`, through `client`, the services asked about in their clusters.
    pub fn spawn(client: aws_sdk_ecs::Client, interval: Duration) -> Self {
        let (requests, pending) = mpsc::unbounded_channel();
        tokio::spawn(serve(client, interval, pending));
        Self { requests }
    }

    /// The reading of `service` in `cluster` at the next tick.
    pub async fn next(&self, cluster: &str, service: &str) -> Reading {
        let (reply, reading) = oneshot::channel();
        let request = Request {
            service: (cluster.to_owned(), service_name(service).to_owned()),
            reply,
        };
        if self.requests.send(request).is_err() {
            return Err(AwsError::unexpected(
                "DescribeServices",
                "the service poller has stopped",
            ));
        }
        reading.await.unwrap_or_else(|_| {
            Err(AwsError::unexpected(
                "DescribeServices",
                "the service poller dropped the request",
            ))
        })
    }
}

/// Answers requests tick by tick until every [`ServicePoller`] is dropped.
async fn serve(
    client: aws_sdk_ecs::Client,
    interval: Duration,
    mut pending: mpsc::UnboundedReceiver<Request>,
) {
    let mut ticks = ticks(interval);
    while let Some(first) = pending.recv().await {
        ticks.tick().await;
        let mut waiting: BTreeMap<(String, String), Vec<oneshot::Sender<Reading>>> =
            BTreeMap::new();
        let mut add = |r: Request| waiting.entry(r.service).or_default().push(r.reply);
        add(first);
        while let Ok(request) = pending.try_recv() {
            add(request);
        }
        let mut by_cluster: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (cluster, name) in waiting.keys() {
            by_cluster
                .entry(cluster.clone())
                .or_default()
                .push(name.clone());
        }
        for (cluster, names) in by_cluster {
            let ecs = Ecs::new(client.clone(), &cluster);
            read(&ecs, &names, &mut waiting).await;
        }
    }
}

/// Reads `names` in `ecs`'s cluster, ten at a time, and answers the rollouts waiting for them.
async fn read(
    ecs: &Ecs,
    names: &[String],
    waiting: &mut BTreeMap<(String, String), Vec<oneshot::Sender<Reading>>>,
) {
    for batch in names.chunks(DESCRIBE_SERVICES_BATCH) {
        let result = ecs.describe_services(batch).await;
        for name in batch {
            let reading = match &result {
                Ok(services) => Ok(services
                    .iter()
                    .find(|s| s.service_name() == Some(name.as_str()))
                    .cloned()),
                Err(e) => Err(e.clone()),
            };
            let key = (ecs.cluster().to_owned(), name.clone());
            for reply in waiting.remove(&key).into_iter().flatten() {
                // A rollout that stopped waiting (its deployment ended) needs no answer.
                let _ = reply.send(reading.clone());
            }
        }
    }
}

/// The poll ticks: the first reading after an idle spell comes at once, and readings are always at least
/// `interval` apart. (Keeping to a fixed grid instead would read twice in quick succession when a request
/// arrives just before a grid tick.)
fn ticks(interval: Duration) -> tokio::time::Interval {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn readings_come_at_once_after_idling_and_then_an_interval_apart() {
        let interval = Duration::from_secs(5);
        let mut ticks = ticks(interval);
        let start = tokio::time::Instant::now();
        ticks.tick().await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the first reading is at once"
        );
        // Idle for most of an interval and then some: a request arrives 0.1 s before the grid's tick.
        tokio::time::sleep(Duration::from_millis(14_900)).await;
        let asked = tokio::time::Instant::now();
        ticks.tick().await;
        assert_eq!(asked.elapsed(), Duration::ZERO, "after idling, at once");
        let read = tokio::time::Instant::now();
        ticks.tick().await;
        assert_eq!(
            read.elapsed(),
            interval,
            "then a whole interval later, not at the grid's tick"
        );
        let read = tokio::time::Instant::now();
        ticks.tick().await;
        assert_eq!(read.elapsed(), interval);
    }
}
