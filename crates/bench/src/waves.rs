//! Release waves against ecs-sim enforcing ECS's API rate limits: hundreds of services sent at once to
//! one or several workers on a FIFO queue, timed against the physical limit the registration bucket sets;
//! and a thousand rollouts watched at once, their reads per second held against the worker's share.
//!
//! ecs-sim's buckets refill in simulated time, so every time here is in simulated seconds, and the
//! workers are given the same limits per real second (the rates times the simulated seconds a real one
//! holds) and a poll interval of 5 simulated seconds.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde_json::{Value, json};

use crate::process::log_lines;
use crate::requests::{string, task_definition};
use crate::scenarios::{Bench, DEADLINE, STOP_GRACE, failed};
use crate::stats::median;

/// The ECS API categories the worker calls, with AWS's burst and sustained rate per second: the same
/// numbers as ecs-sim's `--api-limits aws`.
pub const AWS_LIMITS: [(&str, u32, u32); 8] = [
    ("cluster-read", 50, 20),
    ("task-definition-modify", 20, 1),
    ("task-definition-read", 50, 20),
    ("tag-modify", 20, 10),
    ("cluster-resource-read", 100, 20),
    ("service-modify", 50, 5),
    ("service-read", 100, 20),
    ("service-deployment-read", 50, 20),
];
/// The worker's poll interval, simulated seconds (`ECS_POLL_INTERVAL`'s default).
const POLL_SECS: f64 = 5.0;
/// Raised registration, service-update and tagging quotas for the watch scenario, so a thousand rollouts
/// start quickly (and each is tagged with its deployment): it measures the reads, not the writes.
const RAISED: [(&str, u32, u32); 3] = [
    ("task-definition-modify", 1000, 100),
    ("service-modify", 1000, 100),
    ("tag-modify", 1000, 100),
];

/// The watch scenario's share of the account's budget (`ECS_API_SHARE`'s default).
pub const WATCH_SHARE: f64 = 0.5;
/// The categories a watched rollout reads, with their operations.
const WATCHED: [(&str, &[&str]); 3] = [
    ("service-read", &["DescribeServices", "ListServices"]),
    (
        "service-deployment-read",
        &["DescribeServiceDeployments", "ListServiceDeployments"],
    ),
    ("cluster-resource-read", &["DescribeTasks", "ListTasks"]),
];

/// A wave's measures.
#[derive(Debug, Clone, Default)]
pub struct Wave {
    /// Services, one new revision each.
    pub services: usize,
    /// Worker processes on the queue.
    pub workers: usize,
    /// First SendMessage → last DeleteMessage, simulated seconds.
    pub wall: f64,
    /// Registering every revision at the account's rate: (services − burst) ÷ rate, simulated seconds.
    pub registration_limit: f64,
    /// One rollout as ecs-sim timed it (UpdateService → COMPLETED, the median), simulated seconds.
    pub rollout: f64,
    /// Calls ecs-sim throttled, by operation.
    pub throttled: BTreeMap<String, u64>,
    /// Deployments by outcome, from the workers' final log lines.
    pub outcomes: BTreeMap<String, u64>,
    /// Each worker's peak resident memory, bytes.
    pub peak_rss: Vec<u64>,
}

/// The watch scenario's measures.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// Rollouts in flight at once.
    pub services: usize,
    /// The measured window, simulated seconds.
    pub window: f64,
    /// Calls per simulated second in the window, by category.
    pub rates: BTreeMap<String, f64>,
    /// The worker's share of each category, calls per simulated second.
    pub share: BTreeMap<String, f64>,
    /// How fast ecs-sim's time ran in the window, as a fraction of its nominal speed (1: it kept up).
    pub pace: f64,
    /// The longest poll interval the worker said it stretched to, simulated.
    pub stretched: Option<Duration>,
    /// Calls ecs-sim throttled in the window.
    pub throttled: u64,
    /// The worker's peak resident memory, bytes.
    pub peak_rss: u64,
}

impl Bench {
    /// Simulated seconds per real second.
    fn speed(&self) -> f64 {
        1.0 / self.plan.tick.as_secs_f64()
    }

    /// `ECS_API_LIMITS` for AWS's limits (with `raised` ones) in real time at this speed.
    fn limits_in_real_time(&self, raised: &[(&str, u32, u32)]) -> String {
        AWS_LIMITS
            .iter()
            .map(|(name, burst, rate)| {
                let (burst, rate) = raised
                    .iter()
                    .find(|(r, _, _)| r == name)
                    .map_or((*burst, *rate), |(_, b, r)| (*b, *r));
                format!("{name}={burst}/{}", f64::from(rate) * self.speed())
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The workers' settings at this speed: limits, poll interval, `timeout` (simulated seconds), and a
    /// share of the budget.
    fn budget_settings(
        &self,
        raised: &[(&str, u32, u32)],
        share: &str,
        concurrency: usize,
        timeout: f64,
    ) -> Vec<(&'static str, String)> {
        let real = |sim_secs: f64| format!("{}ms", (sim_secs / self.speed() * 1000.0).round());
        vec![
            ("ECS_API_LIMITS", self.limits_in_real_time(raised)),
            ("ECS_API_SHARE", share.to_owned()),
            ("ECS_POLL_INTERVAL", real(POLL_SECS)),
            ("ECS_TIMEOUT", real(timeout)),
            ("CONCURRENCY", concurrency.to_string()),
        ]
    }

    /// Sends one deployment per service in `names` to `queue` (a FIFO queue when `fifo`), in batches of
    /// ten, behaving as `behaviour`.
    pub(crate) async fn send_all(
        &self,
        queue: &str,
        names: &[String],
        behaviour: &str,
        fifo: bool,
    ) -> Result<(), String> {
        let mut sends = tokio::task::JoinSet::new();
        for (batch_no, batch) in names.chunks(10).enumerate() {
            let mut request = self.sqs.send_message_batch().queue_url(queue);
            for (i, name) in batch.iter().enumerate() {
                let mut entry = SendMessageBatchRequestEntry::builder()
                    .id(format!("m{batch_no}-{i}"))
                    .message_body(task_definition(name, "nginx:1.28.0", behaviour))
                    .message_attributes("service", string(name)?);
                if fifo {
                    entry = entry
                        .message_group_id(name)
                        .message_deduplication_id(format!("{name}-2"));
                }
                request = request.entries(entry.build().map_err(|e| e.to_string())?);
            }
            sends.spawn(request.send());
        }
        while let Some(sent) = sends.join_next().await {
            let sent = sent
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("SendMessageBatch: {e:?}"))?;
            if let Some(failure) = sent.failed().first() {
                return Err(format!("SendMessageBatch refused a message: {failure:?}"));
            }
        }
        Ok(())
    }

    /// A wave of `n` services sent at once to `workers` workers on a FIFO queue, with ecs-sim enforcing
    /// AWS's limits and each worker given the whole account's budget (a release window).
    pub async fn wave(&mut self, n: usize, workers: usize) -> Result<Wave, String> {
        let prefix = format!("wave{n}x{workers}");
        let names = self.services(&prefix, n).await?;
        let queue = self.fifo_queue(&prefix).await?;
        let settings = self.budget_settings(&[], "100%", n, 600.0);
        let mut running = Vec::new();
        for i in 0..workers {
            let settings: Vec<(&str, String)> = settings.clone();
            running.push(
                self.start_worker(&format!("{prefix}-{i}"), &queue, &settings)
                    .await?,
            );
        }
        self.bed.sim.reset_stats();
        self.bed.sim.api_limits(Some(json!({})));
        let mark = self.sqs_proxy.recorder.mark();
        let sim_start = self.bed.sim.advance(0);
        let behaviour = format!("slow:{}", self.plan.pending_secs);
        self.send_all(&queue, &names, &behaviour, true).await?;
        let waited = self
            .sqs_proxy
            .recorder
            .wait_for(mark, "DeleteMessage", n, DEADLINE)
            .await;
        let sim_end = self.bed.sim.advance(0);
        let stats = self.bed.sim.stats();
        self.bed.sim.api_limits(None);
        if let Err(e) = waited {
            return Err(failed(&running[0], &e));
        }
        let mut rollouts = Vec::new();
        for name in &names {
            let (created, completed) = self
                .completed_rollout(name, &format!("{name}:2"))
                .await
                .map_err(|e| failed(&running[0], &e))?;
            rollouts.push(completed - created);
        }
        let mut peak_rss = Vec::new();
        let mut outcomes = BTreeMap::new();
        for worker in running {
            peak_rss.push(worker.memory()?.1);
            let log = worker.log.clone();
            // Stopped first, so every final log line is written.
            worker.stop(STOP_GRACE);
            for (outcome, count) in finished(&log) {
                *outcomes.entry(outcome).or_default() += count;
            }
        }
        let (_, burst, rate) = AWS_LIMITS[1];
        Ok(Wave {
            services: n,
            workers,
            wall: sim_seconds(sim_end.saturating_sub(sim_start)),
            registration_limit: (n as f64 - f64::from(burst)).max(0.0) / f64::from(rate),
            rollout: median(&rollouts).unwrap_or(0.0) * self.speed(),
            throttled: counts(&stats["throttled"]),
            outcomes,
            peak_rss,
        })
    }

    /// `n` rollouts watched at once by one worker with the default share of AWS's limits (registrations
    /// and updates raised, so they all start quickly): its reads per simulated second over a window.
    pub async fn watch(&mut self, n: usize) -> Result<Watch, String> {
        let prefix = format!("watch{n}");
        let names = self.services(&prefix, n).await?;
        let queue = self.queue(&prefix).await?;
        let mut settings =
            self.budget_settings(&RAISED, &format!("{}%", WATCH_SHARE * 100.0), n, 3600.0);
        // The scenario ends after the window: the worker then gives its messages back at once.
        settings.push(("SHUTDOWN_GRACE", "0".to_owned()));
        let worker = self.start_worker(&prefix, &queue, &settings).await?;
        let overrides: serde_json::Map<String, Value> = RAISED
            .iter()
            .map(|(name, burst, rate)| ((*name).to_owned(), json!({"burst": burst, "rate": rate})))
            .collect();
        self.bed.sim.api_limits(Some(Value::Object(overrides)));
        let ecs_mark = self.ecs_proxy.recorder.mark();
        // Rollouts long enough that none ends in the window: they start within about n / 10 simulated seconds
        // (the initial DescribeServices of each deployment at half of 20 a second).
        let pending = self.plan.watch_window + 60 + n as u64 / 5;
        self.send_all(&queue, &names, &format!("slow:{pending}"), false)
            .await?;
        // A rollout is watched once its service points at the new revision and the deployment is
        // recorded on it (TagResource).
        let mut started = self
            .ecs_proxy
            .recorder
            .wait_for(ecs_mark, "UpdateService", n, DEADLINE)
            .await;
        if started.is_ok() {
            started = self
                .ecs_proxy
                .recorder
                .wait_for(ecs_mark, "TagResource", n, DEADLINE)
                .await;
        }
        if let Err(e) = started {
            self.bed.sim.api_limits(None);
            return Err(failed(&worker, &e));
        }
        // The window: from every rollout started until `watch_window` simulated seconds later.
        let window = Duration::from_secs_f64(self.plan.watch_window as f64 / self.speed());
        self.bed.sim.reset_stats();
        let (sim_from, real_from) = (self.bed.sim.advance(0), std::time::Instant::now());
        // The measurement window itself: the worker is watched reading, nothing is awaited.
        tokio::time::sleep(window).await;
        let (stats, sim_to) = (self.bed.sim.stats(), self.bed.sim.advance(0));
        self.bed.sim.api_limits(None);
        let elapsed = sim_seconds(sim_to.saturating_sub(sim_from));
        let pace = elapsed / real_from.elapsed().as_secs_f64() / self.speed();
        let calls = counts(&stats["calls"]);
        let mut rates = BTreeMap::new();
        let mut share = BTreeMap::new();
        for (category, operations) in WATCHED {
            let count: u64 = operations
                .iter()
                .map(|o| calls.get(*o).copied().unwrap_or(0))
                .sum();
            rates.insert(category.to_owned(), count as f64 / elapsed.max(1.0));
            let rate = AWS_LIMITS
                .iter()
                .find(|(name, _, _)| *name == category)
                .map_or(0.0, |(_, _, rate)| f64::from(*rate));
            share.insert(category.to_owned(), rate * WATCH_SHARE);
        }
        let throttled = counts(&stats["throttled"]).values().sum();
        let peak_rss = worker.memory()?.1;
        let log = worker.log.clone();
        worker.stop(STOP_GRACE);
        let speed = self.speed();
        Ok(Watch {
            services: n,
            window: elapsed,
            pace,
            rates,
            share,
            stretched: stretched_interval(&log).map(|real| real.mul_f64(speed)),
            throttled,
            peak_rss,
        })
    }
}

/// Whole simulated seconds as a number.
fn sim_seconds(seconds: u64) -> f64 {
    seconds as f64
}

/// A `{"Operation": count}` object as a map.
fn counts(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
        .collect()
}

/// A worker's deployments by outcome, from the "deployment finished" lines of its log.
fn finished(log: &Path) -> BTreeMap<String, u64> {
    let mut outcomes = BTreeMap::new();
    for line in log_lines(log) {
        if line["message"] == "deployment finished" {
            let outcome = line["outcome"].as_str().unwrap_or("unknown").to_owned();
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    outcomes
}

/// The longest poll interval a worker's log says it stretched to, in real time.
fn stretched_interval(log: &Path) -> Option<Duration> {
    log_lines(log)
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.ends_with("reading them less often"))
        })
        .filter_map(|l| humantime::parse_duration(l["interval"].as_str()?).ok())
        .max()
}
