//! The measurements turned into the results table's rows, with the targets.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::estimates::PerMessage;
use crate::plan::Plan;
use crate::report::{Row, mb, ms};
use crate::scenarios::{Fleet, Idle, Latency};
use crate::stats::{describe_calls_needed, median, percentile};
use crate::waves::{Watch, Wave};

/// Pick-up latency target: the median, seconds.
const PICKUP_LIMIT: f64 = 0.050;
/// Detection overhead beyond one poll interval, seconds.
const DETECTION_SLACK: f64 = 0.100;
/// Concurrency targets (wall ÷ one rollout) for the second and third fleet.
const CONCURRENCY_LIMITS: [Option<f64>; 3] = [None, Some(1.2), Some(1.5)];
/// Idle resident memory, bytes.
const IDLE_RSS_LIMIT: f64 = 20e6;
/// Idle CPU, percent of one core.
const IDLE_CPU_LIMIT: f64 = 0.5;
/// Start to first ReceiveMessage, seconds.
const START_LIMIT: f64 = 0.100;

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Measurements {
    /// Deployments one at a time.
    pub latency: Latency,
    /// The fleets, smallest first.
    pub fleets: Vec<Fleet>,
    /// The release waves, one per number of workers.
    pub waves: Vec<Wave>,
    /// The rollouts watched at once.
    pub watch: Watch,
    /// The idle worker.
    pub idle: Idle,
    /// Start → first ReceiveMessage of every worker, seconds.
    pub starts: Vec<f64>,
    /// The worker binary's size, bytes, and whether it is a release build.
    pub binary: (u64, bool),
    /// The criterion benchmark's result and its body's size in bytes, or why there is none.
    pub message_path: Result<(PerMessage, Option<u64>), String>,
}

/// The table's rows, numbered as the issue numbers its measures.
pub fn rows(plan: &Plan, m: &Measurements) -> Vec<Row> {
    let mut rows = Vec::new();
    let interval = plan.poll_interval.as_secs_f64();
    let summary = |samples: &[f64]| -> Option<(f64, f64, f64)> {
        Some((
            median(samples)?,
            percentile(samples, 95.0)?,
            percentile(samples, 100.0)?,
        ))
    };

    let pickup = "Pick-up latency: SendMessage → RegisterTaskDefinition received by ecs-sim";
    let pickup = format!(
        "{pickup} ({} messages, one at a time)",
        m.latency.pickup.len()
    );
    rows.push(match summary(&m.latency.pickup) {
        Some((med, p95, _)) => Row::judged(
            "1",
            pickup,
            "median < 50 ms",
            match median(&m.latency.worker_pickup) {
                Some(own) => format!(
                    "{} median, {} p95; the worker's part (ReceiveMessage answered → \
                     RegisterTaskDefinition): {} median",
                    ms(med),
                    ms(p95),
                    ms(own)
                ),
                None => format!("{} median, {} p95", ms(med), ms(p95)),
            },
            med < PICKUP_LIMIT,
        ),
        None => Row::reference("1", pickup, "no samples"),
    });

    let limit = interval + DETECTION_SLACK;
    let detection = format!(
        "Detection overhead: ecs-sim completes the rollout → DeleteMessage ({} deployments, \
         ECS_POLL_INTERVAL {})",
        m.latency.detection.len(),
        human(plan.poll_interval)
    );
    rows.push(match summary(&m.latency.detection) {
        Some((med, p95, max)) => Row::judged(
            "2",
            detection,
            format!("median and p95 < {} (interval + 100 ms)", ms(limit)),
            format!("{} median, {} p95, {} max", ms(med), ms(p95), ms(max)),
            p95 < limit,
        ),
        None => Row::reference("2", detection, "no samples"),
    });

    for (i, fleet) in m.fleets.iter().enumerate() {
        let measure = format!(
            "Concurrency: {} at once (CONCURRENCY {}): wall time ÷ one rollout",
            services(fleet.services),
            plan.concurrency
        );
        let rollout = median(&fleet.rollouts).unwrap_or(0.0);
        let ratio = if rollout > 0.0 {
            fleet.wall / rollout
        } else {
            f64::INFINITY
        };
        let measured = format!("{ratio:.3} ({:.2} s ÷ {rollout:.2} s)", fleet.wall);
        rows.push(match CONCURRENCY_LIMITS.get(i).copied().flatten() {
            Some(limit) => {
                Row::judged("3", measure, format!("≤ {limit}"), measured, ratio <= limit)
            }
            None => Row::reference("3", measure, measured),
        });
    }

    for fleet in [m.fleets.first(), m.fleets.last()].into_iter().flatten() {
        let needed = describe_calls_needed(fleet.services);
        let measure = format!(
            "API economy: DescribeServices calls per poll, {} watched",
            services(fleet.services)
        );
        rows.push(match fleet.polls.iter().max() {
            Some(&max) => Row::judged(
                "4",
                measure,
                format!("≤ ceil({}/10) = {needed}", fleet.services),
                format!(
                    "{max} max, {:.2} mean over {} polls",
                    fleet.polls.iter().sum::<usize>() as f64 / fleet.polls.len() as f64,
                    fleet.polls.len()
                ),
                max <= needed,
            ),
            None => Row::reference("4", measure, "no poll while all were watched"),
        });
        rows.push(Row::reference(
            "4",
            format!(
                "API economy: calls per deployment, {} at once",
                services(fleet.services)
            ),
            format!(
                "ECS {}; SQS {}",
                per_deployment(&fleet.ecs_calls, fleet.services),
                per_deployment(&fleet.sqs_calls, fleet.services)
            ),
        ));
    }

    let idle = format!("{:.0} s", m.idle.window.as_secs_f64());
    rows.push(Row::judged(
        "5",
        format!("Footprint: RSS after {idle} idle on an empty queue (defaults: 20 s long polls)"),
        "< 20 MB",
        mb(m.idle.rss),
        (m.idle.rss as f64) < IDLE_RSS_LIMIT,
    ));
    let window = m.idle.window.as_secs_f64();
    let cpu_percent = if window > 0.0 {
        m.idle.cpu.as_secs_f64() / window * 100.0
    } else {
        0.0
    };
    rows.push(Row::judged(
        "5",
        format!("Footprint: CPU while idle for {idle}"),
        "< 0.5 % of a core",
        format!(
            "{cpu_percent:.3} % ({} of CPU time, {} SQS calls)",
            ms(m.idle.cpu.as_secs_f64()),
            m.idle.sqs_calls
        ),
        cpu_percent < IDLE_CPU_LIMIT,
    ));
    if let Some(fleet) = m.fleets.last() {
        rows.push(Row::reference(
            "5",
            format!(
                "Footprint: peak RSS with {} rollouts in flight",
                fleet.services
            ),
            mb(fleet.peak_rss),
        ));
    }
    let (size, release) = m.binary;
    rows.push(Row::reference(
        "5",
        if release {
            "Footprint: release binary (stripped)"
        } else {
            "Footprint: binary (debug build, not what ships)"
        },
        mb(size),
    ));
    let start = format!(
        "Footprint: start → first ReceiveMessage ({} starts)",
        m.starts.len()
    );
    rows.push(match (summary(&m.starts), m.starts.first()) {
        (Some((med, p95, max)), Some(first)) => Row::judged(
            "5",
            start,
            "p95 < 100 ms",
            format!(
                "{} median, {} p95, {} max; the run's first start: {}",
                ms(med),
                ms(p95),
                ms(max),
                ms(*first)
            ),
            p95 < START_LIMIT,
        ),
        _ => Row::reference("5", start, "no starts"),
    });

    let path =
        "Message path: parse and validate a task definition, tag it, write the request (criterion)";
    rows.push(match &m.message_path {
        Ok((estimate, bytes)) => Row::reference(
            "6",
            match bytes {
                Some(bytes) => format!("{path}, {bytes}-byte body"),
                None => path.to_owned(),
            },
            format!(
                "{:.0} messages/s ({:.1} µs each; 95 % CI {:.1}–{:.1} µs)",
                estimate.per_second(),
                estimate.mean_ns / 1e3,
                estimate.low_ns / 1e3,
                estimate.high_ns / 1e3
            ),
        ),
        Err(why) => Row::reference("6", path, format!("not measured: {why}")),
    });
    rows
}

/// `1 service`, `10 services`.
fn services(n: usize) -> String {
    if n == 1 {
        "1 service".to_owned()
    } else {
        format!("{n} services")
    }
}

/// `12.4 (DescribeServices 10.2, ListTasks 1.0, …)`: calls per deployment, total then by operation.
pub fn per_deployment(calls: &BTreeMap<String, u64>, deployments: usize) -> String {
    let n = deployments.max(1) as f64;
    let total: u64 = calls.values().sum();
    let parts: Vec<String> = calls
        .iter()
        .map(|(op, count)| format!("{op} {}", round(*count as f64 / n)))
        .collect();
    format!("{} ({})", round(total as f64 / n), parts.join(", "))
}

/// Two decimals at most, without trailing zeros.
fn round(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `1 s`, `200 ms`, `60 s`.
pub fn human(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else if millis >= 1000 {
        format!("{:.1} s", duration.as_secs_f64())
    } else {
        format!("{millis} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(services: usize, wall: f64, rollout: f64, polls: Vec<usize>) -> Fleet {
        Fleet {
            services,
            wall,
            rollouts: vec![rollout; services],
            ecs_calls: BTreeMap::from([("DescribeServices".into(), 3 * services as u64)]),
            sim_total: 0,
            sqs_calls: BTreeMap::from([("DeleteMessage".into(), services as u64)]),
            polls,
            peak_rss: 15_000_000,
        }
    }

    fn measured() -> Measurements {
        Measurements {
            latency: Latency {
                pickup: vec![0.010, 0.012, 0.060],
                detection: vec![0.3, 0.6, 1.05],
                worker_pickup: vec![0.004, 0.005, 0.006],
            },
            fleets: vec![
                fleet(1, 11.0, 10.0, vec![1, 1]),
                fleet(10, 11.5, 10.0, vec![1, 1, 1]),
                fleet(50, 16.0, 10.0, vec![5, 6, 5]),
            ],
            waves: Vec::new(),
            watch: Watch::default(),
            idle: Idle {
                window: Duration::from_secs(60),
                cpu: Duration::from_millis(120),
                rss: 9_500_000,
                sqs_calls: 4,
            },
            starts: vec![0.02, 0.03, 0.2],
            binary: (14_000_000, true),
            message_path: Err("criterion has not run".into()),
        }
    }

    #[test]
    fn every_measure_gets_a_row_judged_against_its_target() {
        let rows = rows(&Plan::full(), &measured());
        let verdicts: Vec<(&str, Option<bool>)> = rows.iter().map(|r| (r.number, r.met)).collect();
        assert_eq!(
            verdicts,
            [
                ("1", Some(true)),  // median 12 ms
                ("2", Some(true)),  // p95 1.005 s < 1.1 s
                ("3", None),        // one service: reference
                ("3", Some(true)),  // 1.15 ≤ 1.2
                ("3", Some(false)), // 1.6 > 1.5
                ("4", Some(true)),  // 1 ≤ 1
                ("4", None),
                ("4", Some(false)), // a poll of 6 > 5
                ("4", None),
                ("5", Some(true)), // 9.5 MB
                ("5", Some(true)), // 0.2 %
                ("5", None),
                ("5", None),
                ("5", Some(false)), // p95 183 ms
                ("6", None),
            ]
        );
        assert_eq!(
            rows[0].measured,
            "12.0 ms median, 55.2 ms p95; the worker's part (ReceiveMessage answered → \
             RegisterTaskDefinition): 5.0 ms median"
        );
        assert_eq!(rows[4].measured, "1.600 (16.00 s ÷ 10.00 s)");
        assert_eq!(
            rows[10].measured,
            "0.200 % (120 ms of CPU time, 4 SQS calls)"
        );
        assert!(rows[14].measured.contains("criterion has not run"));
        assert_eq!(
            rows[1].target,
            "median and p95 < 1100 ms (interval + 100 ms)"
        );
        assert_eq!(
            rows[13].measured,
            "30.0 ms median, 183 ms p95, 200 ms max; the run's first start: 20.0 ms"
        );
    }

    #[test]
    fn calls_per_deployment_read_plainly() {
        let calls = BTreeMap::from([("DescribeServices".into(), 25), ("ListTasks".into(), 10)]);
        assert_eq!(
            per_deployment(&calls, 10),
            "3.5 (DescribeServices 2.5, ListTasks 1)"
        );
        assert_eq!(human(Duration::from_secs(60)), "60 s");
        assert_eq!(human(Duration::from_millis(200)), "200 ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
    }
}
