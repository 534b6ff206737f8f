//! The measured runs, each against the same moto and ecs-sim with its own queue, services and worker
//! process: one deployment at a time (pick-up latency and detection overhead), fleets deployed at once
//! (concurrency, API economy, peak memory), and an idle worker (memory, CPU).
//!
//! Timestamps come from where the events happen: ecs-sim's own `registeredAt` and a deployment's
//! `createdAt`/`updatedAt`, and the recording pass-throughs in front of moto and ecs-sim for the worker's
//! calls. The harness never infers a time from its own polling.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use testbed::TestBed;

use crate::plan::Plan;
use crate::process::WorkerProcess;
use crate::proxy::{self, Proxy};
use crate::requests::{string, task_definition};
use crate::stats::burst_sizes;

/// How long any one wait may take before the run is abandoned as broken (not slow: a slow machine
/// finishes well within it).
pub(crate) const DEADLINE: Duration = Duration::from_secs(300);
/// How long a stopping worker gets to exit.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(10);

/// Deployments sent one at a time.
#[derive(Debug, Clone, Default)]
pub struct Latency {
    /// SendMessage → RegisterTaskDefinition at ecs-sim, seconds.
    pub pickup: Vec<f64>,
    /// ecs-sim completes the rollout → DeleteMessage, seconds.
    pub detection: Vec<f64>,
    /// The worker's part of the pick-up: ReceiveMessage answered with the message →
    /// RegisterTaskDefinition at ecs-sim, seconds.
    pub worker_pickup: Vec<f64>,
}

/// Services deployed at once.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    /// How many.
    pub services: usize,
    /// First SendMessage → last DeleteMessage, seconds.
    pub wall: f64,
    /// Each service's rollout as ecs-sim timed it (UpdateService → COMPLETED), seconds.
    pub rollouts: Vec<f64>,
    /// The worker's ECS calls by operation, as the pass-through saw them.
    pub ecs_calls: BTreeMap<String, u64>,
    /// The same calls as ecs-sim's `/_sim/stats` counted them (a cross-check of the pass-through).
    pub sim_total: u64,
    /// The worker's SQS calls by operation.
    pub sqs_calls: BTreeMap<String, u64>,
    /// DescribeServices calls per poll while every service was being watched.
    pub polls: Vec<usize>,
    /// The worker's peak resident memory, bytes.
    pub peak_rss: u64,
}

/// A worker on an empty queue.
#[derive(Debug, Clone, Default)]
pub struct Idle {
    /// How long it was watched.
    pub window: Duration,
    /// CPU time it used meanwhile.
    pub cpu: Duration,
    /// Its resident memory at the end, bytes.
    pub rss: u64,
    /// Its SQS calls meanwhile.
    pub sqs_calls: usize,
}

/// The emulators, the pass-throughs and the clients the harness plays producer and observer with.
pub struct Bench {
    /// What to run.
    pub plan: Plan,
    /// moto and ecs-sim.
    pub(crate) bed: TestBed,
    /// The producer's SQS client, straight to moto (its calls are not the worker's).
    pub(crate) sqs: aws_sdk_sqs::Client,
    /// The observer's ECS client, straight to ecs-sim.
    pub(crate) ecs: aws_sdk_ecs::Client,
    /// The worker's way to moto.
    pub(crate) sqs_proxy: Proxy,
    /// The worker's way to ecs-sim.
    pub(crate) ecs_proxy: Proxy,
    /// The `ecs-deployment` binary measured.
    pub(crate) worker: PathBuf,
    /// Where worker logs go.
    pub(crate) logs: PathBuf,
    /// Start → first ReceiveMessage of every worker started, seconds.
    pub starts: Vec<f64>,
}

impl Bench {
    /// Starts moto, ecs-sim and the pass-throughs, and creates the cluster.
    pub async fn start(plan: Plan, worker: PathBuf) -> Result<Self, String> {
        // On the calling thread (main's, under block_on), which outlives the run: moto is killed when the
        // thread that started it ends, so not on a blocking-pool thread that exits when idle.
        let bed = TestBed::start(Some(plan.tick));
        let sqs = testbed::sqs_client(&bed.moto.endpoint());
        let ecs = testbed::ecs_client(&bed.sim.endpoint());
        ecs.create_cluster()
            .send()
            .await
            .map_err(|e| format!("CreateCluster: {e:?}"))?;
        let sqs_proxy = proxy::start(&bed.moto.endpoint()).await?;
        let ecs_proxy = proxy::start(&bed.sim.endpoint()).await?;
        let logs = std::env::temp_dir().join(format!("ecs-bench-{}", std::process::id()));
        std::fs::create_dir_all(&logs)
            .map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
        Ok(Self {
            plan,
            bed,
            sqs,
            ecs,
            sqs_proxy,
            ecs_proxy,
            worker,
            logs,
            starts: Vec::new(),
        })
    }

    /// Where worker logs are kept.
    pub fn logs(&self) -> &PathBuf {
        &self.logs
    }

    /// Deploys one service `samples` times, one message at a time.
    pub async fn latency(&mut self) -> Result<Latency, String> {
        let service = "latency";
        self.services(service, 1).await?;
        let queue = self.queue(service).await?;
        let interval = self.plan.poll_interval;
        let worker = self
            .start_worker(service, &queue, &[("ECS_POLL_INTERVAL", millis(interval))])
            .await?;
        let name = format!("{service}-0");
        let mut latency = Latency::default();
        for i in 0..self.plan.samples {
            let body = task_definition(&name, &format!("nginx:1.27.{}", i + 1), "healthy");
            // Producers send at any moment, not in step with the worker's polls: start each send at a
            // random point of the poll interval, or every sample would see the same phase.
            tokio::time::sleep(interval.mul_f64(random_fraction())).await;
            let mark = self.sqs_proxy.recorder.mark();
            let sent = SystemTime::now();
            let sent_at = epoch(sent);
            self.sqs
                .send_message()
                .queue_url(&queue)
                .message_body(body)
                .message_attributes("service", string(&name)?)
                .send()
                .await
                .map_err(|e| format!("SendMessage: {e:?}"))?;
            let deleted = self
                .sqs_proxy
                .recorder
                .wait_for(mark, "DeleteMessage", 1, DEADLINE)
                .await
                .map_err(|e| failed(&worker, &e))?;
            let revision = format!("{name}:{}", i + 2);
            let registered_at = self.registered_at(&revision).await?;
            let (_, completed) = self
                .completed_rollout(&name, &revision)
                .await
                .map_err(|e| failed(&worker, &e))?;
            latency.pickup.push(registered_at - sent_at);
            if let Some(delivery) = self.sqs_proxy.recorder.delivery_after(sent) {
                latency
                    .worker_pickup
                    .push(registered_at - epoch(delivery.at));
            }
            latency.detection.push(epoch(deleted[0].at) - completed);
        }
        worker.stop(STOP_GRACE);
        Ok(latency)
    }

    /// Deploys `n` services at once, each rollout as long as the others.
    pub async fn fleet(&mut self, n: usize) -> Result<Fleet, String> {
        let prefix = format!("fleet{n}");
        let names = self.services(&prefix, n).await?;
        let queue = self.queue(&prefix).await?;
        let worker = self
            .start_worker(
                &prefix,
                &queue,
                &[
                    ("ECS_POLL_INTERVAL", millis(self.plan.poll_interval)),
                    ("CONCURRENCY", self.plan.concurrency.to_string()),
                ],
            )
            .await?;
        // As for one deployment: no particular phase of the worker's poll interval.
        tokio::time::sleep(self.plan.poll_interval.mul_f64(random_fraction())).await;
        self.bed.sim.reset_stats();
        let (sqs_mark, ecs_mark) = (
            self.sqs_proxy.recorder.mark(),
            self.ecs_proxy.recorder.mark(),
        );
        let behaviour = format!("slow:{}", self.plan.pending_secs);
        let started = epoch(SystemTime::now());
        self.send_all(&queue, &names, &behaviour, false).await?;
        let deleted = self
            .sqs_proxy
            .recorder
            .wait_for(sqs_mark, "DeleteMessage", n, DEADLINE)
            .await
            .map_err(|e| failed(&worker, &e))?;
        // Read before the harness's own reads below reach ecs-sim.
        let sim_total = self.bed.sim.stats()["total"].as_u64().unwrap_or(0);
        let peak_rss = worker.memory()?.1;
        let last_delete = deleted.iter().map(|c| epoch(c.at)).fold(0.0, f64::max);
        let mut rollouts = Vec::new();
        for name in &names {
            let (created, completed) = self
                .completed_rollout(name, &format!("{name}:2"))
                .await
                .map_err(|e| failed(&worker, &e))?;
            rollouts.push(completed - created);
        }
        let ecs_calls = self.ecs_proxy.recorder.since(ecs_mark);
        let last_update = ecs_calls
            .iter()
            .filter(|c| c.operation == "UpdateService")
            .map(|c| c.instant)
            .max();
        let first_list = ecs_calls
            .iter()
            .filter(|c| c.operation == "ListTasks")
            .map(|c| c.instant)
            .min();
        let watched: Vec<Instant> = ecs_calls
            .iter()
            .filter(|c| c.operation == "DescribeServices")
            .map(|c| c.instant)
            .filter(|&at| last_update.is_some_and(|u| at > u) && first_list.is_none_or(|l| at < l))
            .collect();
        worker.stop(STOP_GRACE);
        Ok(Fleet {
            services: n,
            wall: last_delete - started,
            rollouts,
            ecs_calls: by_operation(ecs_calls.iter().map(|c| c.operation.as_str())),
            sim_total,
            sqs_calls: by_operation(
                self.sqs_proxy
                    .recorder
                    .since(sqs_mark)
                    .iter()
                    .map(|c| c.operation.as_str()),
            ),
            polls: burst_sizes(&watched, self.plan.poll_interval / 2),
            peak_rss,
        })
    }

    /// Watches a worker with its default settings on an empty queue.
    pub async fn idle(&mut self) -> Result<Idle, String> {
        let queue = self.queue("idle").await?;
        let worker = self.start_worker("idle", &queue, &[]).await?;
        let mark = self.sqs_proxy.recorder.mark();
        let (cpu_before, from) = (worker.cpu_time()?, Instant::now());
        // The measurement window itself: nothing is awaited, the worker is watched doing nothing.
        tokio::time::sleep(self.plan.idle).await;
        let (cpu_after, window) = (worker.cpu_time()?, from.elapsed());
        let rss = worker.memory()?.0;
        let sqs_calls = self.sqs_proxy.recorder.since(mark).len();
        worker.stop(STOP_GRACE);
        Ok(Idle {
            window,
            cpu: cpu_after.saturating_sub(cpu_before),
            rss,
            sqs_calls,
        })
    }

    /// Starts and stops a worker with default settings `count` times on an empty queue, to time its start.
    pub async fn starts(&mut self, count: usize) -> Result<(), String> {
        let queue = self.queue("starts").await?;
        for i in 0..count {
            let worker = self
                .start_worker(&format!("start-{i}"), &queue, &[])
                .await?;
            worker.stop(STOP_GRACE);
        }
        Ok(())
    }
}

/// The error, with the end of the worker's log.
pub(crate) fn failed(worker: &WorkerProcess, error: &str) -> String {
    format!("{error}; the worker's log ends:\n{}", worker.log_tail())
}

/// A pseudo-random number in [0, 1), from the standard library's randomly seeded hasher.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (bits >> 11) as f64 / (1_u64 << 53) as f64
}

fn epoch(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn millis(duration: Duration) -> String {
    format!("{}ms", duration.as_millis())
}

fn by_operation<'a>(operations: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for operation in operations {
        *counts.entry(operation.to_owned()).or_default() += 1;
    }
    counts
}
