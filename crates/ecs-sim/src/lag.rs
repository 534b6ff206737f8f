//! Eventually consistent reads: the clusters as they were at the end of each of the last simulated
//! seconds, and which of them a read sees.
//!
//! ECS's API is eventually consistent: a read right after a change may not show it, and two reads in a row
//! may come from replicas that are behind by different amounts. With a lag of N seconds, each read of
//! services, tasks or service deployments sees the state of between 0 and N simulated seconds ago,
//! picked at random (from a seed, so a run can be repeated).

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;

use crate::cluster::Cluster;

/// The operations whose answers may lag.
pub const LAGGED_READS: &[&str] = &[
    "DescribeServices",
    "ListTasks",
    "DescribeTasks",
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "DescribeServiceRevisions",
];

/// Reads that may see the state of a few simulated seconds ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaleReads {
    /// The most simulated seconds a read may be behind; 0 turns lagging reads off.
    pub max_lag_seconds: u64,
    /// Seeds the choice of each read's lag, so a run can be repeated.
    #[serde(default)]
    pub seed: u64,
}

impl StaleReads {
    /// The lag these settings ask for, or `None` for reads of the present.
    pub fn lag(self) -> Option<Lag> {
        (self.max_lag_seconds > 0).then(|| Lag::new(self.max_lag_seconds, self.seed))
    }
}

/// Past states and the random choice among them.
#[derive(Debug)]
pub struct Lag {
    /// The most simulated seconds a read may be behind.
    max_seconds: u64,
    /// Picks each read's lag.
    rng: fastrand::Rng,
    /// (simulated second, the clusters at its end), oldest first, at most `max_seconds` of them.
    past: VecDeque<(u64, BTreeMap<String, Cluster>)>,
}

impl Lag {
    /// Reads up to `max_seconds` behind, their lags drawn from `seed`.
    pub fn new(max_seconds: u64, seed: u64) -> Self {
        Self {
            max_seconds,
            rng: fastrand::Rng::with_seed(seed),
            past: VecDeque::new(),
        }
    }

    /// Keeps the clusters as they are at the end of second `now`, forgetting what no read may see any more.
    pub fn record(&mut self, now: u64, clusters: &BTreeMap<String, Cluster>) {
        self.past.push_back((now, clusters.clone()));
        while self.past.len() as u64 > self.max_seconds {
            self.past.pop_front();
        }
    }

    /// The past state the next read sees, or `None` for the present.
    pub fn pick(&mut self, now: u64) -> Option<(u64, BTreeMap<String, Cluster>)> {
        let behind = self.rng.u64(0..=self.max_seconds);
        if behind == 0 {
            return None;
        }
        let second = now.saturating_sub(behind);
        // Before the first recorded second, the oldest one kept is the furthest a read can be behind.
        self.past
            .iter()
            .find(|(at, _)| *at >= second)
            .map(|(at, clusters)| (*at, clusters.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::state::State;

    fn state_with_lag(max: u64) -> State {
        let mut state = State::new(Identity {
            region: "us-east-1".into(),
            account_id: "1".into(),
        });
        state.lag = Some(Lag::new(max, 7));
        state
    }

    #[test]
    fn reads_see_the_present_or_up_to_the_lag_behind_it() {
        let mut state = state_with_lag(3);
        for _ in 0..10 {
            state.tick();
        }
        let seen: Vec<u64> = (0..200).map(|_| state.read(|s| s.now)).collect();
        assert!(seen.iter().all(|t| (7..=10).contains(t)), "{seen:?}");
        for t in 7..=10 {
            assert!(seen.contains(&t), "{t} never seen: {seen:?}");
        }
        assert_eq!(state.now, 10, "the present is back after each read");
    }

    #[test]
    fn without_a_lag_every_read_sees_the_present() {
        let mut state = state_with_lag(0);
        for _ in 0..5 {
            state.tick();
        }
        assert!((0..50).all(|_| state.read(|s| s.now) == 5));
    }
}
