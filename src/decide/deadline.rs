//! How long a rollout may take: `ECS_TIMEOUT` for its tasks, plus the time the service's deployment
//! configuration says ECS spends beyond them (bakes, traffic steps, lifecycle hooks).

use std::time::Duration;

use crate::decide::service::Timing;

/// ECS's timeout for a lifecycle hook that names none: 24 hours.
const DEFAULT_HOOK_TIMEOUT_MINUTES: u64 = 24 * 60;
/// The longest a rollout is watched: SQS keeps a message invisible for at most 12 hours from its receipt,
/// so past this the message could not be held and another worker would take it.
pub const LONGEST_WATCH: Duration = Duration::from_secs(11 * 3600 + 30 * 60);

/// What the deployment configuration `timing` adds to `ECS_TIMEOUT`: the strategy's bakes (BLUE_GREEN's
/// bake; LINEAR's bake after every step but the last; CANARY's bake after the canary; the final bake of
/// LINEAR and CANARY when given) and each lifecycle hook's timeout once per stage it runs at.
pub fn extra(timing: &Timing) -> Duration {
    let minutes = |m: Option<i32>| u64::try_from(m.unwrap_or(0)).unwrap_or(0);
    let strategy = match timing.strategy.as_deref() {
        Some("BLUE_GREEN") => minutes(timing.bake_minutes),
        Some("LINEAR") => {
            let (step, step_bake) = timing.linear.unwrap_or((100.0, 0));
            let steps = if step > 0.0 {
                (100.0 / step).ceil().clamp(1.0, 100.0) as u64
            } else {
                1
            };
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
            timeout * u64::try_from(*stages).unwrap_or(0)
        })
        .sum();
    Duration::from_secs((strategy + hooks) * 60)
}

/// How long a rollout to a service with the deployment configuration `timing` may take, given
/// `ECS_TIMEOUT`: both added, at most [`LONGEST_WATCH`]; and whether that bound cut it short.
pub fn rollout_timeout(ecs_timeout: Duration, timing: &Timing) -> (Duration, bool) {
    let wanted = ecs_timeout.saturating_add(extra(timing));
    (wanted.min(LONGEST_WATCH), wanted > LONGEST_WATCH)
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
                    hooks: vec![(Some(30), 2), (None, 1)],
                    ..timing("BLUE_GREEN")
                },
                1 + 60 + 24 * 60,
            ),
            (
                "nonsense is no time",
                Timing {
                    linear: Some((0.0, -5)),
                    bake_minutes: Some(-1),
                    hooks: vec![(Some(-3), 4)],
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
    fn a_rollout_is_watched_no_longer_than_sqs_can_hold_its_message() {
        let five = Duration::from_secs(300);
        let bake = Timing {
            bake_minutes: Some(60),
            ..timing("BLUE_GREEN")
        };
        assert_eq!(
            rollout_timeout(five, &bake),
            (Duration::from_secs(300 + 3600), false)
        );
        let paused = Timing {
            hooks: vec![(None, 1)],
            ..timing("BLUE_GREEN")
        };
        assert_eq!(rollout_timeout(five, &paused), (LONGEST_WATCH, true));
        assert_eq!(rollout_timeout(five, &Timing::default()), (five, false));
    }
}
