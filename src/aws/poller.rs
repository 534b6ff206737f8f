//! One DescribeServices call per ten watched services of a cluster, and one DescribeServiceDeployments
//! call per twenty service deployments, per poll interval, shared by every rollout in flight.
//!
//! Each rollout asks for its service's next reading and waits; on each tick the poller answers every
//! waiting rollout with as few calls as the APIs allow. Ten rollouts watched at once cost one
//! DescribeServices call per interval, not ten. When the rollouts in flight need more calls per interval
//! than the worker's API budget allows, the interval stretches to what it does allow, and says so.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ecs::types::Service;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::aws::ecs::{DESCRIBE_SERVICE_DEPLOYMENTS_BATCH, DESCRIBE_SERVICES_BATCH, Ecs};
use crate::aws::error::AwsError;
use records::Records;

mod records;
use crate::aws::limiter::{ApiLimiter, Event};
use crate::decide::names::service_name;
use crate::decide::service::ServiceDeploymentState;

/// One reading of a service.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The service, `None` when the cluster no longer has it.
    pub service: Option<Service>,
    /// ECS's record of the service deployment asked about, when it was read.
    pub deployment: Option<ServiceDeploymentState>,
}

/// A service's reading, or the failed DescribeServices call.
pub type Reading = Result<Observed, AwsError>;

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
    /// The service deployment whose record is wanted too.
    deployment: Option<String>,
    /// Where the reading goes.
    reply: oneshot::Sender<Reading>,
}

impl ServicePoller {
    /// Starts polling every `interval`, through `client` in turns of `limiter`, the services asked about
    /// in their clusters.
    pub fn spawn(client: aws_sdk_ecs::Client, interval: Duration, limiter: ApiLimiter) -> Self {
        let (requests, pending) = mpsc::unbounded_channel();
        tokio::spawn(serve(client, interval, limiter, pending));
        Self { requests }
    }

    /// The reading of `service` in `cluster` at the next tick, with ECS's record of the service
    /// deployment `deployment` when asked for and readable.
    pub async fn next(&self, cluster: &str, service: &str, deployment: Option<&str>) -> Reading {
        let (reply, reading) = oneshot::channel();
        let request = Request {
            service: (cluster.to_owned(), service_name(service).to_owned()),
            deployment: deployment.map(str::to_owned),
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
    limiter: ApiLimiter,
    mut pending: mpsc::UnboundedReceiver<Request>,
) {
    let mut pace = Pace::new(interval);
    let mut records = Records::default();
    // The rollouts in flight, with the reading each last asked in: a rollout answered early in a long
    // reading asks again for the next one, so one reading's requests are not all of them.
    let mut in_flight: BTreeMap<(String, String), (u64, Option<String>)> = BTreeMap::new();
    let mut reading: u64 = 0;
    limiter.tell(Event::PollInterval(interval));
    while let Some(first) = pending.recv().await {
        pace.wait().await;
        reading += 1;
        let mut waiting: BTreeMap<(String, String), Vec<Request>> = BTreeMap::new();
        let mut add = |r: Request| waiting.entry(r.service.clone()).or_default().push(r);
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
        let wanted: BTreeSet<String> = waiting
            .values()
            .flatten()
            .filter_map(|r| r.deployment.clone())
            .collect();
        for (key, requests) in &waiting {
            let deployment = requests.iter().find_map(|r| r.deployment.clone());
            in_flight.insert(key.clone(), (reading, deployment));
        }
        in_flight.retain(|_, (asked, _)| *asked + 1 >= reading);
        let calls = calls_per_reading(&in_flight, records.unavailable.is_none());
        let stretched = limiter.budget().poll_interval(interval, &calls);
        if pace.set(stretched) {
            report_interval(interval, stretched, in_flight.len());
            limiter.tell(Event::PollInterval(stretched));
        }
        let ecs = Ecs::limited(client.clone(), "", limiter.clone());
        let found = records.read(&ecs, wanted).await;
        for (cluster, names) in by_cluster {
            let ecs = Ecs::limited(client.clone(), &cluster, limiter.clone());
            read(&ecs, &names, &found, &mut waiting).await;
        }
    }
}

/// The calls one reading of every rollout in flight makes, per operation: one DescribeServices per ten
/// services of a cluster, one DescribeServiceDeployments per twenty service deployments (while readable).
fn calls_per_reading(
    in_flight: &BTreeMap<(String, String), (u64, Option<String>)>,
    records_readable: bool,
) -> [(&'static str, u32); 2] {
    let mut per_cluster: BTreeMap<&str, usize> = BTreeMap::new();
    for (cluster, _) in in_flight.keys() {
        *per_cluster.entry(cluster.as_str()).or_default() += 1;
    }
    let services: usize = per_cluster
        .values()
        .map(|n| n.div_ceil(DESCRIBE_SERVICES_BATCH))
        .sum();
    let deployments: BTreeSet<&String> =
        in_flight.values().filter_map(|(_, d)| d.as_ref()).collect();
    let records = if records_readable {
        deployments
            .len()
            .div_ceil(DESCRIBE_SERVICE_DEPLOYMENTS_BATCH)
    } else {
        0
    };
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    [
        ("DescribeServices", count(services)),
        ("DescribeServiceDeployments", count(records)),
    ]
}

/// Says that the poll interval changed: stretched past `ECS_POLL_INTERVAL`, or back to it.
fn report_interval(wanted: Duration, now: Duration, services: usize) {
    let every = humantime::format_duration(now).to_string();
    if now > wanted {
        warn!(
            services,
            interval = %every,
            "the rollouts in flight need more ECS reads than the worker's API budget (ECS_API_SHARE) allows every ECS_POLL_INTERVAL; reading them less often"
        );
    } else {
        info!(services, interval = %every, "reading rollouts every ECS_POLL_INTERVAL again");
    }
}

/// Reads `names` in `ecs`'s cluster, ten at a time, and answers the rollouts waiting for them with the
/// service deployment records `found`.
async fn read(
    ecs: &Ecs,
    names: &[String],
    found: &BTreeMap<String, ServiceDeploymentState>,
    waiting: &mut BTreeMap<(String, String), Vec<Request>>,
) {
    for batch in names.chunks(DESCRIBE_SERVICES_BATCH) {
        let result = ecs.describe_services(batch).await;
        for name in batch {
            let key = (ecs.cluster().to_owned(), name.clone());
            for request in waiting.remove(&key).into_iter().flatten() {
                let reading = match &result {
                    Ok(services) => Ok(Observed {
                        service: services
                            .iter()
                            .find(|s| s.service_name() == Some(name.as_str()))
                            .cloned(),
                        deployment: request
                            .deployment
                            .as_ref()
                            .and_then(|arn| found.get(arn))
                            .cloned(),
                    }),
                    Err(e) => Err(e.clone()),
                };
                // A rollout that stopped waiting (its deployment ended) needs no answer.
                let _ = request.reply.send(reading);
            }
        }
    }
}

/// When readings are made: the first after an idle spell at once, and each at least the interval after
/// the one before. (Keeping to a fixed grid instead would read twice in quick succession when a request
/// arrives just before a grid tick.)
#[derive(Debug)]
struct Pace {
    /// The time between two readings now.
    interval: Duration,
    /// When the last reading was made.
    last: Option<Instant>,
}

impl Pace {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: None,
        }
    }

    /// Waits until the next reading may be made.
    async fn wait(&mut self) {
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + self.interval).await;
        }
        self.last = Some(Instant::now());
    }

    /// Sets the interval; says whether it changed.
    fn set(&mut self, interval: Duration) -> bool {
        std::mem::replace(&mut self.interval, interval) != interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn readings_come_at_once_after_idling_and_then_an_interval_apart() {
        let interval = Duration::from_secs(5);
        let mut ticks = Pace::new(interval);
        let start = tokio::time::Instant::now();
        ticks.wait().await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the first reading is at once"
        );
        // Idle for most of an interval and then some: a request arrives 0.1 s before the grid's tick.
        tokio::time::sleep(Duration::from_millis(14_900)).await;
        let asked = tokio::time::Instant::now();
        ticks.wait().await;
        assert_eq!(asked.elapsed(), Duration::ZERO, "after idling, at once");
        let read = tokio::time::Instant::now();
        ticks.wait().await;
        assert_eq!(
            read.elapsed(),
            interval,
            "then a whole interval later, not at the grid's tick"
        );
        let read = tokio::time::Instant::now();
        ticks.wait().await;
        assert_eq!(read.elapsed(), interval);
    }
}
