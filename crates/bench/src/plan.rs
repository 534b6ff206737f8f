//! The sizes and speeds of a run: the quick check or the full measurement.

use std::time::Duration;

/// The sizes and speeds of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// A few seconds to check the harness works, or the full run.
    pub quick: bool,
    /// Real time per simulated second in ecs-sim.
    pub tick: Duration,
    /// The same for the release waves, slower: the worker's fixed costs in real time (receiving 300
    /// messages from moto) would otherwise weigh more in simulated time than they do for real.
    pub wave_tick: Duration,
    /// The same for the rollouts watched at once, slower still: ecs-sim keeping a thousand services
    /// must keep pace.
    pub watch_tick: Duration,
    /// `ECS_POLL_INTERVAL` of the measured workers.
    pub poll_interval: Duration,
    /// Deployments sent one at a time for pick-up latency and detection overhead.
    pub samples: usize,
    /// Simulated seconds the fleets' new tasks spend in PENDING: sets one rollout's length.
    pub pending_secs: u64,
    /// Services deployed at once, smallest first.
    pub fleets: [usize; 3],
    /// `CONCURRENCY` of the fleet workers.
    pub concurrency: usize,
    /// Tasks per service.
    pub desired: i32,
    /// How long the idle worker is watched.
    pub idle: Duration,
    /// Workers started and stopped only to time their start.
    pub starts: usize,
    /// Services in a release wave against ECS's API limits.
    pub wave: usize,
    /// Worker processes sharing the wave's FIFO queue, one run each.
    pub wave_workers: [usize; 2],
    /// Rollouts watched at once against ECS's API limits.
    pub watched: usize,
    /// How long their reads are counted, simulated seconds.
    pub watch_window: u64,
}

impl Plan {
    /// The run BENCHMARKS.md reports.
    pub fn full() -> Self {
        Self {
            quick: false,
            tick: Duration::from_millis(100),
            wave_tick: Duration::from_millis(250),
            watch_tick: Duration::from_millis(500),
            poll_interval: Duration::from_secs(1),
            samples: 50,
            pending_secs: 100,
            fleets: [1, 10, 50],
            concurrency: 50,
            desired: 2,
            idle: Duration::from_secs(60),
            starts: 20,
            wave: 300,
            wave_workers: [1, 3],
            watched: 1000,
            watch_window: 60,
        }
    }

    /// A few seconds, to show the harness still works.
    pub fn quick() -> Self {
        Self {
            quick: true,
            tick: Duration::from_millis(20),
            wave_tick: Duration::from_millis(20),
            watch_tick: Duration::from_millis(20),
            poll_interval: Duration::from_millis(200),
            samples: 5,
            pending_secs: 20,
            fleets: [1, 3, 6],
            concurrency: 50,
            desired: 2,
            idle: Duration::from_secs(1),
            starts: 2,
            wave: 12,
            wave_workers: [1, 3],
            watched: 20,
            watch_window: 10,
        }
    }
}
