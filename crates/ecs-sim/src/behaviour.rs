//! What the tasks of a task definition do, chosen by the docker label `ecs-sim.behaviour` on any of its
//! container definitions, the way real life chooses it: by what the containers are.

use std::fmt;
use std::str::FromStr;

/// The docker label that selects a behaviour.
pub const LABEL: &str = "ecs-sim.behaviour";

/// How the tasks of one task definition behave once ECS starts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Tasks start, pass their health check and keep running.
    #[default]
    Healthy,
    /// Tasks reach RUNNING, then their essential container exits.
    Crash,
    /// Tasks reach RUNNING but their health check never passes; ECS replaces them.
    Unhealthy,
    /// No task can be placed; ECS keeps reporting that it is unable to place a task.
    Unplaceable,
    /// Tasks take this many simulated seconds in PENDING before they run (then behave as `Healthy`).
    Slow(u64),
}

impl FromStr for Behaviour {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "healthy" => Ok(Self::Healthy),
            "crash" => Ok(Self::Crash),
            "unhealthy" => Ok(Self::Unhealthy),
            "unplaceable" => Ok(Self::Unplaceable),
            other => match other.strip_prefix("slow:").map(str::parse::<u64>) {
                Some(Ok(seconds)) => Ok(Self::Slow(seconds)),
                _ => Err(format!(
                    "docker label {LABEL} is '{other}'; expected healthy, crash, unhealthy, \
                     unplaceable or slow:<seconds>"
                )),
            },
        }
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Healthy => f.write_str("healthy"),
            Self::Crash => f.write_str("crash"),
            Self::Unhealthy => f.write_str("unhealthy"),
            Self::Unplaceable => f.write_str("unplaceable"),
            Self::Slow(seconds) => write!(f, "slow:{seconds}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_and_print_back() {
        for (label, behaviour) in [
            ("healthy", Behaviour::Healthy),
            ("crash", Behaviour::Crash),
            ("unhealthy", Behaviour::Unhealthy),
            ("unplaceable", Behaviour::Unplaceable),
            ("slow:30", Behaviour::Slow(30)),
        ] {
            assert_eq!(label.parse::<Behaviour>(), Ok(behaviour));
            assert_eq!(behaviour.to_string(), label);
        }
        for bad in ["", "Crash", "slow:", "slow:x", "slow:-1"] {
            let err = bad.parse::<Behaviour>().expect_err(bad);
            assert!(err.contains(LABEL), "{err}");
        }
    }
}
