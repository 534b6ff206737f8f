//! The release waves' and the watched rollouts' measures as rows of the results table, with the issue's
//! targets: a wave within 1.15 × its physical limit with nothing failed or given back, and reads within
//! the worker's share of every bucket.

use std::collections::BTreeMap;

use crate::report::{Row, mb};
use crate::results::per_deployment;
use crate::waves::{WATCH_SHARE, Watch, Wave};

/// A wave's wall time ÷ (registering every revision at the account's rate + one rollout).
const WAVE_LIMIT: f64 = 1.15;

/// Rows 7 (each wave) and 8 (the watch).
pub fn rows(waves: &[Wave], watch: &Watch) -> Vec<Row> {
    let mut rows = Vec::new();
    for wave in waves {
        let who = format!(
            "{} services, {} on a FIFO queue, ECS_API_SHARE 100%",
            wave.services,
            workers(wave.workers)
        );
        let limit = wave.registration_limit + wave.rollout;
        let ratio = if limit > 0.0 {
            wave.wall / limit
        } else {
            f64::INFINITY
        };
        rows.push(Row::judged(
            "7",
            format!("Release wave: {who}: wall time ÷ (registration limit + one rollout)"),
            format!("≤ {WAVE_LIMIT}"),
            format!(
                "{ratio:.3} ({:.0} s ÷ ({:.0} s + {:.0} s), simulated)",
                wave.wall, wave.registration_limit, wave.rollout
            ),
            ratio <= WAVE_LIMIT,
        ));
        let throttled: u64 = wave.throttled.values().sum();
        rows.push(Row::reference(
            "7",
            format!("Release wave: {who}: calls ECS throttled, per deployment"),
            if throttled == 0 {
                "0".to_owned()
            } else {
                per_deployment(&wave.throttled, wave.services)
            },
        ));
        let deployed = wave.outcomes.get("deployed").copied().unwrap_or(0);
        let others: u64 = wave
            .outcomes
            .iter()
            .filter(|(outcome, _)| *outcome != "deployed")
            .map(|(_, n)| n)
            .sum();
        rows.push(Row::judged(
            "7",
            format!("Release wave: {who}: deployments failed or given back"),
            "0",
            format!("{others} ({deployed} deployed{})", outcomes(&wave.outcomes)),
            others == 0 && deployed == wave.services as u64,
        ));
        rows.push(Row::reference(
            "7",
            format!("Release wave: {who}: peak RSS per worker"),
            wave.peak_rss
                .iter()
                .map(|b| mb(*b))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let who = format!(
        "{} rollouts watched at once, ECS_API_SHARE {:.0}%",
        watch.services,
        WATCH_SHARE * 100.0
    );
    for (category, rate) in &watch.rates {
        let share = watch.share.get(category).copied().unwrap_or(0.0);
        rows.push(Row::judged(
            "8",
            format!("Polling: {who}: {category} calls per simulated second"),
            format!("≤ {share:.0} (the share of the sustained rate)"),
            format!(
                "{rate:.2} over {:.0} s; {} throttled; ecs-sim kept {:.0} % of its pace",
                watch.window,
                watch.throttled,
                watch.pace * 100.0
            ),
            *rate <= share * 1.02 && watch.throttled == 0,
        ));
    }
    rows.push(Row::reference(
        "8",
        format!("Polling: {who}: poll interval (ECS_POLL_INTERVAL 5 s)"),
        match watch.stretched {
            Some(interval) => format!(
                "stretched to {:.1} s (simulated), said in the log and in \
                 ecs_deployment_poll_interval_seconds",
                interval.as_secs_f64()
            ),
            None => "not stretched".to_owned(),
        },
    ));
    rows.push(Row::reference(
        "8",
        format!("Polling: {who}: peak RSS"),
        mb(watch.peak_rss),
    ));
    rows
}

/// `1 worker`, `3 workers`.
pub fn workers(n: usize) -> String {
    if n == 1 {
        "1 worker".to_owned()
    } else {
        format!("{n} workers")
    }
}

/// `, 2 retry_later` for each outcome other than deployed.
fn outcomes(outcomes: &BTreeMap<String, u64>) -> String {
    outcomes
        .iter()
        .filter(|(outcome, _)| *outcome != "deployed")
        .map(|(outcome, n)| format!(", {n} {outcome}"))
        .collect()
}
