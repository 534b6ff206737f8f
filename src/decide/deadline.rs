//! How long a rollout may take. `ECS_TIMEOUT` is for ECS starting the rollout's tasks: its [`Clock`] stops
//! while ECS's record says ECS waits on a schedule of its own (a bake, a lifecycle hook, a traffic shift) or
//! ECS is still finding capacity. Where the record cannot be read, what the deployment configuration says
//! those take is added to it instead ([`extra`]).

use std::time::Duration;

use crate::decide::service::Timing;

/// ECS's timeout for a lifecycle hook that names none: 24 hours.
const DEFAULT_HOOK_TIMEOUT_MINUTES: u64 = 24 * 60;
/// The stages that come again at every traffic step of a linear or canary deployment: "For linear and
/// canary deployments, this stage is invoked before every traffic shift step" (PRE_PRODUCTION_TRAFFIC_SHIFT)
/// and "at every traffic shift step" (PRODUCTION_TRAFFIC_SHIFT).
const PER_STEP_STAGES: [&str; 2] = ["PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"];

/// How many traffic steps the strategy of `timing` takes: LINEAR one per `stepPercent`, CANARY two, the
/// others one.
fn traffic_steps(timing: &Timing) -> u64 {
    match timing.strategy.as_deref() {
        Some("LINEAR") => {
            let (step, _) = timing.linear.unwrap_or((100.0, 0));
            if step > 0.0 {
                (100.0 / step).ceil().clamp(1.0, 100.0) as u64
            } else {
                1
            }
        }
        Some("CANARY") => 2,
        _ => 1,
    }
}

/// What the deployment configuration `timing` adds to `ECS_TIMEOUT` where ECS's record cannot be read:
/// the strategy's bakes (BLUE_GREEN's bake; LINEAR's bake after every step but the last; CANARY's bake
/// after the canary; the final bake of LINEAR and CANARY when given) and each lifecycle hook's timeout at
/// every stage it runs at, every traffic step for the stages that come again at each.
pub fn extra(timing: &Timing) -> Duration {
    let minutes = |m: Option<i32>| u64::try_from(m.unwrap_or(0)).unwrap_or(0);
    let steps = traffic_steps(timing);
    let strategy = match timing.strategy.as_deref() {
        Some("BLUE_GREEN") => minutes(timing.bake_minutes),
        Some("LINEAR") => {
            let (_, step_bake) = timing.linear.unwrap_or((100.0, 0));
            (steps - 1) * minutes(Some(step_bake)) + minutes(timing.bake_minutes)
        }
        Some("CANARY") => minutes(timing.canary_bake_minutes) + minutes(timing.bake_minutes),
        _ => 0,
    };
    let hooks: u64 = timing
        .hooks
        .iter()
        .map(|(timeout, stages)| {
            let timeout = timeout.map_or(DEFAULT_HOOK_TIMEOUT_MINUTES, |t| minutes(Some(t)));
            let runs: u64 = stages
                .iter()
                .map(|s| {
                    if PER_STEP_STAGES.contains(&s.as_str()) {
                        steps
                    } else {
                        1
                    }
                })
                .sum();
            timeout * runs
        })
        .sum();
    Duration::from_secs((strategy + hooks) * 60)
}

/// `ECS_TIMEOUT`'s clock for one rollout: it runs while ECS works on the rollout's tasks and stops while
/// ECS says it waits on a schedule of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// How long it may run.
    limit: Duration,
    /// How long it has run.
    spent: Duration,
    /// When it was last read (time since the watch began), and whether it ran since.
    last: Option<(Duration, bool)>,
}

impl Clock {
    /// A clock that may run for `limit`.
    pub fn new(limit: Duration) -> Self {
        Self {
            limit,
            spent: Duration::ZERO,
            last: None,
        }
    }

    /// Notes that `elapsed` after the watch began, ECS works on the tasks (`waiting` false) or waits on
    /// its own schedule (true) from now on; the time since the last note is counted as that one said.
    pub fn note(&mut self, elapsed: Duration, waiting: bool) {
        if let Some((at, running)) = self.last
            && running
        {
            self.spent += elapsed.saturating_sub(at);
        }
        self.last = Some((elapsed, !waiting));
    }

    /// Sets how long it may run (`ECS_TIMEOUT`, plus [`extra`] while ECS's record cannot be read).
    pub fn set_limit(&mut self, limit: Duration) {
        self.limit = limit;
    }

    /// How long it may run.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// How much longer it may run, `elapsed` after the watch began; `None` while it is stopped.
    pub fn left(&self, elapsed: Duration) -> Option<Duration> {
        let (at, running) = self.last.unwrap_or((Duration::ZERO, true));
        running.then(|| {
            self.limit
                .saturating_sub(self.spent + elapsed.saturating_sub(at))
        })
    }

    /// Gives `more` back to it, as for time ECS spent finding capacity.
    pub fn credit(&mut self, more: Duration) {
        self.spent = self.spent.saturating_sub(more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(strategy: &str) -> Timing {
        Timing {
            strategy: Some(strategy.into()),
            ..Timing::default()
        }
    }

    fn hook(timeout: Option<i32>, stages: &[&str]) -> (Option<i32>, Vec<String>) {
        (timeout, stages.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn each_strategy_adds_its_bakes_and_hooks_their_timeouts() {
        let cases = [
            ("rolling, nothing added", Timing::default(), 0),
            (
                "rolling ignores a bake it does not run",
                Timing {
                    bake_minutes: Some(10),
                    ..timing("ROLLING")
                },
                0,
            ),
            (
                "blue/green bakes",
                Timing {
                    bake_minutes: Some(15),
                    ..timing("BLUE_GREEN")
                },
                15,
            ),
            (
                "linear 25 %: three step bakes, then the final bake",
                Timing {
                    linear: Some((25.0, 2)),
                    bake_minutes: Some(5),
                    ..timing("LINEAR")
                },
                3 * 2 + 5,
            ),
            (
                "linear 30 %: four steps, three step bakes",
                Timing {
                    linear: Some((30.0, 1)),
                    ..timing("LINEAR")
                },
                3,
            ),
            (
                "canary bake and final bake",
                Timing {
                    canary_bake_minutes: Some(10),
                    bake_minutes: Some(3),
                    ..timing("CANARY")
                },
                13,
            ),
            (
                "a hook at two stages, and one with ECS's default timeout",
                Timing {
                    bake_minutes: Some(1),
                    hooks: vec![
                        hook(Some(30), &["POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT"]),
                        hook(None, &["PRE_SCALE_UP"]),
                    ],
                    ..timing("BLUE_GREEN")
                },
                1 + 60 + 24 * 60,
            ),
            (
                "linear in four steps: the production traffic hooks run at every one",
                Timing {
                    linear: Some((25.0, 0)),
                    hooks: vec![
                        hook(
                            Some(5),
                            &["PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"],
                        ),
                        hook(Some(7), &["POST_PRODUCTION_TRAFFIC_SHIFT"]),
                    ],
                    ..timing("LINEAR")
                },
                4 * 5 + 4 * 5 + 7,
            ),
            (
                "canary: two steps",
                Timing {
                    hooks: vec![hook(Some(5), &["PRODUCTION_TRAFFIC_SHIFT"])],
                    ..timing("CANARY")
                },
                2 * 5,
            ),
            (
                "nonsense is no time",
                Timing {
                    linear: Some((0.0, -5)),
                    bake_minutes: Some(-1),
                    hooks: vec![hook(Some(-3), &["POST_SCALE_UP"; 4])],
                    ..timing("LINEAR")
                },
                0,
            ),
        ];
        for (case, timing, minutes) in cases {
            assert_eq!(extra(&timing), Duration::from_secs(minutes * 60), "{case}");
        }
    }

    #[test]
    fn the_clock_stops_while_ecs_waits_and_can_be_given_time_back() {
        let s = Duration::from_secs;
        let mut clock = Clock::new(s(60));
        assert_eq!(clock.left(s(0)), Some(s(60)));
        clock.note(s(0), false);
        assert_eq!(clock.left(s(20)), Some(s(40)));
        // ECS bakes from 20 s to 500 s: the clock stands still.
        clock.note(s(20), true);
        assert_eq!(clock.left(s(300)), None);
        clock.note(s(500), false);
        assert_eq!(clock.left(s(500)), Some(s(40)));
        assert_eq!(clock.left(s(540)), Some(s(0)));
        // Time ECS spent finding capacity is given back.
        clock.credit(s(15));
        assert_eq!(clock.left(s(540)), Some(s(15)));
        clock.set_limit(s(100));
        assert_eq!(clock.left(s(540)), Some(s(55)));
        assert_eq!(clock.limit(), s(100));
    }
}
