//! What a container does once its task starts, chosen by the docker label `ecs-sim.behaviour` on its
//! container definition, the way real life chooses it: by what the container is.

use std::fmt;
use std::str::FromStr;

/// The docker label that selects a behaviour.
pub const LABEL: &str = "ecs-sim.behaviour";
/// Simulated seconds after RUNNING at which a `crash` container exits.
pub const CRASH_SECS: u64 = 2;
/// The first word of a command that makes a container exit: `["ecs-sim-exit", "<code>"]`, optionally
/// with `"<seconds>"` after it ([`CRASH_SECS`] by default).
pub const EXIT_COMMAND: &str = "ecs-sim-exit";

/// How one container behaves once ECS starts its task (`unplaceable` and `slow` hold up the whole task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// It starts, passes its health check (if it has one) and keeps running.
    #[default]
    Healthy,
    /// It reaches RUNNING, then exits with code 1 after this many simulated seconds (`crash` is 2, before
    /// a health check could pass; `crash:N` for others): an essential container stops its task.
    Crash(u64),
    /// It reaches RUNNING but its health check fails.
    Unhealthy,
    /// Its task cannot be placed; ECS keeps reporting that it is unable to place a task.
    Unplaceable,
    /// Its task takes this many simulated seconds in PENDING before it runs (then it behaves as `Healthy`).
    Slow(u64),
    /// Its task waits this many simulated seconds in PROVISIONING, as for capacity being scaled out (then
    /// it behaves as `Healthy`).
    Provisioning(u64),
    /// It reaches RUNNING, then exits with this code after this many simulated seconds (`exit:CODE:SECS`,
    /// or the command `["ecs-sim-exit", "CODE", "SECS"]`): a one-off task's migration or smoke test.
    Exit(i32, u64),
}

impl Behaviour {
    /// The behaviour a container's command asks for: `["ecs-sim-exit", "<code>"]`, optionally with
    /// `"<seconds>"`; `None` for any other command, the error for a malformed one.
    pub fn from_command(command: &[&str]) -> Option<Result<Behaviour, String>> {
        let (first, rest) = command.split_first()?;
        if *first != EXIT_COMMAND {
            return None;
        }
        let parsed = match rest {
            [code] => code.parse().ok().map(|code| Self::Exit(code, CRASH_SECS)),
            [code, seconds] => code
                .parse()
                .ok()
                .zip(seconds.parse().ok())
                .map(|(code, seconds)| Self::Exit(code, seconds)),
            _ => None,
        };
        Some(parsed.ok_or_else(|| {
            format!(
                "command {command:?}: expected [\"{EXIT_COMMAND}\", \"<exit code>\"] or [\"{EXIT_COMMAND}\", \"<exit code>\", \"<seconds>\"]"
            )
        }))
    }

    /// How a task of containers labelled `behaviours` is placed and started: `unplaceable` when any
    /// container is, else the longest `provisioning`, else the slowest `slow`, else as any task.
    pub fn placement(behaviours: impl IntoIterator<Item = Behaviour>) -> Behaviour {
        let rank = |b: &Behaviour| match b {
            Behaviour::Unplaceable => (3, 0),
            Behaviour::Provisioning(s) => (2, *s),
            Behaviour::Slow(s) => (1, *s),
            _ => (0, 0),
        };
        behaviours
            .into_iter()
            .filter(|b| rank(b).0 > 0)
            .max_by_key(rank)
            .unwrap_or(Behaviour::Healthy)
    }
}

impl FromStr for Behaviour {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "healthy" => Ok(Self::Healthy),
            "crash" => Ok(Self::Crash(CRASH_SECS)),
            "unhealthy" => Ok(Self::Unhealthy),
            "unplaceable" => Ok(Self::Unplaceable),
            other => {
                let seconds = |prefix: &str| other.strip_prefix(prefix)?.parse::<u64>().ok();
                if let Some(seconds) = seconds("slow:") {
                    Ok(Self::Slow(seconds))
                } else if let Some(seconds) = seconds("provisioning:") {
                    Ok(Self::Provisioning(seconds))
                } else if let Some(seconds) = seconds("crash:") {
                    Ok(Self::Crash(seconds))
                } else if let Some(Some(Ok(exit))) = other.strip_prefix("exit:").map(|rest| {
                    let mut command = vec![EXIT_COMMAND];
                    command.extend(rest.split(':'));
                    Self::from_command(&command)
                }) {
                    Ok(exit)
                } else {
                    Err(format!(
                        "docker label {LABEL} is '{other}'; expected healthy, crash, crash:<seconds>, \
                         unhealthy, unplaceable, slow:<seconds>, provisioning:<seconds> or exit:<code>[:<seconds>]"
                    ))
                }
            }
        }
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Healthy => f.write_str("healthy"),
            Self::Crash(CRASH_SECS) => f.write_str("crash"),
            Self::Crash(seconds) => write!(f, "crash:{seconds}"),
            Self::Unhealthy => f.write_str("unhealthy"),
            Self::Unplaceable => f.write_str("unplaceable"),
            Self::Slow(seconds) => write!(f, "slow:{seconds}"),
            Self::Provisioning(seconds) => write!(f, "provisioning:{seconds}"),
            Self::Exit(code, seconds) => write!(f, "exit:{code}:{seconds}"),
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
            ("crash", Behaviour::Crash(CRASH_SECS)),
            ("crash:30", Behaviour::Crash(30)),
            ("unhealthy", Behaviour::Unhealthy),
            ("unplaceable", Behaviour::Unplaceable),
            ("slow:30", Behaviour::Slow(30)),
            ("provisioning:90", Behaviour::Provisioning(90)),
            ("exit:3:5", Behaviour::Exit(3, 5)),
        ] {
            assert_eq!(label.parse::<Behaviour>(), Ok(behaviour));
            assert_eq!(behaviour.to_string(), label);
        }
        for bad in [
            "", "Crash", "slow:", "slow:x", "slow:-1", "crash:", "exit:", "exit:x",
        ] {
            let err = bad.parse::<Behaviour>().expect_err(bad);
            assert!(err.contains(LABEL), "{err}");
        }
    }

    #[test]
    fn a_command_may_ask_a_container_to_exit() {
        let exit = |command: &[&str]| Behaviour::from_command(command);
        assert_eq!(exit(&["bin/migrate"]), None);
        assert_eq!(exit(&[]), None);
        assert_eq!(
            exit(&[EXIT_COMMAND, "0"]),
            Some(Ok(Behaviour::Exit(0, CRASH_SECS)))
        );
        assert_eq!(
            exit(&[EXIT_COMMAND, "3", "30"]),
            Some(Ok(Behaviour::Exit(3, 30)))
        );
        for bad in [
            &[EXIT_COMMAND][..],
            &[EXIT_COMMAND, "x"],
            &[EXIT_COMMAND, "1", "2", "3"],
        ] {
            let err = exit(bad).and_then(Result::err).expect("an error");
            assert!(err.contains(EXIT_COMMAND), "{err}");
        }
    }
}
