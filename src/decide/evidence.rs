//! What ECS said during a rollout that is worth quoting in a failure: its notable service events and the
//! reasons its tasks stopped, newest last.

/// How many of ECS's own messages (events, stopped-task reasons) a failure reason quotes.
const QUOTED_EVIDENCE: usize = 3;
/// Words that make a service event worth quoting in a failure reason.
/// (Stopped tasks are quoted by their own reasons, so ECS's routine "has stopped N running tasks" is not.)
const NOTABLE_EVENT_WORDS: [&str; 5] = ["unable", "fail", "roll", "error", "unhealthy"];

/// ECS's words gathered while watching one service's rollouts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// ECS's notable service events, newest last, quoted in failure reasons.
    events: Vec<String>,
    /// Distinct reasons of stopped tasks, newest last, quoted in failure reasons.
    stopped_reasons: Vec<String>,
}

impl Evidence {
    /// Notes a new service event when it is notable; says whether it was.
    pub fn event(&mut self, message: &str) -> bool {
        let lower = message.to_lowercase();
        let notable = NOTABLE_EVENT_WORDS.iter().any(|w| lower.contains(w));
        if notable {
            note(&mut self.events, message);
        }
        notable
    }

    /// Notes why a task stopped.
    pub fn stopped(&mut self, reason: &str) {
        note(&mut self.stopped_reasons, reason);
    }

    /// `reason` with ECS's latest notable events and stopped tasks' reasons quoted.
    pub fn quote(&self, reason: &str) -> String {
        let mut quoted = reason.to_owned();
        if !self.events.is_empty() {
            quoted.push_str(&format!("; ECS said: {}", latest(&self.events).join(" | ")));
        }
        if !self.stopped_reasons.is_empty() {
            quoted.push_str(&format!(
                "; tasks stopped: {}",
                latest(&self.stopped_reasons).join(" | ")
            ));
        }
        quoted
    }

    /// ECS's latest notable events, then its latest stopped tasks' reasons.
    pub fn said(&self) -> Vec<String> {
        let mut said = latest(&self.events).to_vec();
        said.extend_from_slice(latest(&self.stopped_reasons));
        said
    }
}

/// Appends `text` to `list` unless it is there already.
fn note(list: &mut Vec<String>, text: &str) {
    if !list.iter().any(|t| t == text) {
        list.push(text.to_owned());
    }
}

/// The newest entries a reason quotes.
fn latest(all: &[String]) -> &[String] {
    &all[all.len().saturating_sub(QUOTED_EVIDENCE)..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_notable_words_are_quoted_and_only_the_latest() {
        let mut evidence = Evidence::default();
        assert_eq!(evidence.quote("failed"), "failed");
        assert!(!evidence.event("(service web) has started 2 tasks: (task a) (task b)."));
        assert!(evidence.event("(service web) was unable to place a task."));
        assert!(evidence.event("(service web) was unable to place a task."));
        for n in 1..=4 {
            evidence.stopped(&format!(
                "Essential container in task exited; app: exit {n}"
            ));
        }
        evidence.stopped("Essential container in task exited; app: exit 4");
        assert_eq!(
            evidence.quote("the rollout failed"),
            "the rollout failed; ECS said: (service web) was unable to place a task.; tasks stopped: \
             Essential container in task exited; app: exit 2 | Essential container in task exited; \
             app: exit 3 | Essential container in task exited; app: exit 4"
        );
        assert_eq!(evidence.said().len(), 4);
        assert_eq!(
            evidence.said()[0],
            "(service web) was unable to place a task."
        );
    }
}
