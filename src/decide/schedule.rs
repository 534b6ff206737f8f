//! Which message runs when, decided without any I/O: one deployment per service at a time, a service's
//! messages in the order they were sent, and a message sent before one already started for its service
//! skipped as stale (deploying it would undo the newer one).
//!
//! On a FIFO queue with `MessageGroupId` = service, SQS already hands out a service's messages one at a time
//! and in order; this schedule makes a standard queue as safe for one worker, and keeps messages of one
//! service that arrive in the same receive in order.

use std::collections::HashMap;

/// Services with a deployment running, and what waits for them.
#[derive(Debug)]
pub struct Schedule<J> {
    /// Per busy service, the messages waiting for it, oldest sent first.
    busy: HashMap<String, Vec<Waiting<J>>>,
    /// Per service, the newest message started (sent at, message id): older ones arriving later are stale.
    newest_started: HashMap<String, (u64, String)>,
}

/// A message waiting for its service.
#[derive(Debug)]
struct Waiting<J> {
    /// When it was sent (ms since the epoch).
    sent_at_ms: u64,
    /// Its message id, for the stale check once it starts.
    message_id: String,
    /// What to run.
    job: J,
}

/// What to do with a message now.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission<J> {
    /// Its service is free: run it.
    Start(J),
    /// Its service is busy: it waits (its message kept hidden) and starts when the service is free.
    Wait,
    /// A message sent after it was already started for the service; it must not be deployed.
    Stale {
        /// The message, to settle as superseded.
        job: J,
        /// The newer message.
        newer_message_id: String,
    },
}

impl<J> Default for Schedule<J> {
    fn default() -> Self {
        Self {
            busy: HashMap::new(),
            newest_started: HashMap::new(),
        }
    }
}

impl<J> Schedule<J> {
    /// Decides about a message for `service` sent at `sent_at_ms` (0 when unknown: never stale).
    pub fn admit(
        &mut self,
        service: &str,
        sent_at_ms: u64,
        message_id: &str,
        job: J,
    ) -> Admission<J> {
        if let Some((newest, newer_id)) = self.newest_started.get(service)
            && sent_at_ms > 0
            && sent_at_ms < *newest
            && newer_id != message_id
        {
            return Admission::Stale {
                job,
                newer_message_id: newer_id.clone(),
            };
        }
        match self.busy.get_mut(service) {
            Some(waiting) => {
                let at = waiting.partition_point(|w| w.sent_at_ms <= sent_at_ms);
                waiting.insert(
                    at,
                    Waiting {
                        sent_at_ms,
                        message_id: message_id.to_owned(),
                        job,
                    },
                );
                Admission::Wait
            }
            None => {
                self.busy.insert(service.to_owned(), Vec::new());
                self.started(service, sent_at_ms, message_id);
                Admission::Start(job)
            }
        }
    }

    /// The service's deployment ended: the next message waiting for it, which now runs, if any.
    pub fn finish(&mut self, service: &str) -> Option<J> {
        let waiting = self.busy.get_mut(service)?;
        if waiting.is_empty() {
            self.busy.remove(service);
            return None;
        }
        let next = waiting.remove(0);
        self.started(service, next.sent_at_ms, &next.message_id);
        Some(next.job)
    }

    /// Takes every waiting message out (to release them on shutdown); running ones stay busy.
    pub fn take_waiting(&mut self) -> Vec<J> {
        self.busy
            .values_mut()
            .flat_map(std::mem::take)
            .map(|w| w.job)
            .collect()
    }

    /// How many messages wait for a busy service.
    pub fn waiting(&self) -> usize {
        self.busy.values().map(Vec::len).sum()
    }

    fn started(&mut self, service: &str, sent_at_ms: u64, message_id: &str) {
        let newest = self
            .newest_started
            .entry(service.to_owned())
            .or_insert((0, String::new()));
        if sent_at_ms >= newest.0 {
            *newest = (sent_at_ms, message_id.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One step: admit (service, sent at, id) and expect; or finish a service and expect the next.
    enum Step {
        Admit(&'static str, u64, &'static str, Admission<&'static str>),
        Finish(&'static str, Option<&'static str>),
    }
    use Admission::{Stale, Start, Wait};
    use Step::{Admit, Finish};

    #[test]
    fn one_deployment_per_service_in_the_order_sent() {
        let cases: Vec<(&str, Vec<Step>)> = vec![
            (
                "different services run at once",
                vec![
                    Admit("web", 10, "a", Start("a")),
                    Admit("api", 11, "b", Start("b")),
                ],
            ),
            (
                "a busy service's messages wait and run in the order sent",
                vec![
                    Admit("web", 10, "a", Start("a")),
                    Admit("web", 30, "c", Wait),
                    Admit("web", 20, "b", Wait),
                    Finish("web", Some("b")),
                    Finish("web", Some("c")),
                    Finish("web", None),
                    Admit("web", 40, "d", Start("d")),
                ],
            ),
            (
                "a message sent before one already started is stale",
                vec![
                    Admit("web", 20, "b", Start("b")),
                    Admit(
                        "web",
                        10,
                        "a",
                        Stale {
                            job: "a",
                            newer_message_id: "b".into(),
                        },
                    ),
                    Finish("web", None),
                    Admit(
                        "web",
                        15,
                        "a2",
                        Stale {
                            job: "a2",
                            newer_message_id: "b".into(),
                        },
                    ),
                ],
            ),
            (
                "the same message again (a redelivery) is not stale",
                vec![
                    Admit("web", 20, "b", Start("b")),
                    Finish("web", None),
                    Admit("web", 20, "b", Start("b")),
                ],
            ),
            (
                "an unknown send time is never stale",
                vec![
                    Admit("web", 20, "b", Start("b")),
                    Finish("web", None),
                    Admit("web", 0, "x", Start("x")),
                ],
            ),
            (
                "same send time keeps arrival order",
                vec![
                    Admit("web", 10, "a", Start("a")),
                    Admit("web", 10, "b", Wait),
                    Admit("web", 10, "c", Wait),
                    Finish("web", Some("b")),
                    Finish("web", Some("c")),
                ],
            ),
            (
                "finishing an idle service starts nothing",
                vec![Finish("web", None)],
            ),
        ];
        for (name, steps) in cases {
            let mut schedule = Schedule::default();
            for (i, step) in steps.into_iter().enumerate() {
                match step {
                    Admit(service, sent, id, expected) => {
                        assert_eq!(
                            schedule.admit(service, sent, id, id),
                            expected,
                            "{name}, step {i}"
                        );
                    }
                    Finish(service, expected) => {
                        assert_eq!(schedule.finish(service), expected, "{name}, step {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn waiting_messages_can_be_taken_out() {
        let mut schedule = Schedule::default();
        assert_eq!(schedule.admit("web", 1, "a", "a"), Start("a"));
        assert_eq!(schedule.admit("web", 2, "b", "b"), Wait);
        assert_eq!(schedule.admit("api", 3, "c", "c"), Start("c"));
        assert_eq!(schedule.admit("api", 4, "d", "d"), Wait);
        assert_eq!(schedule.waiting(), 2);
        let mut taken = schedule.take_waiting();
        taken.sort_unstable();
        assert_eq!(taken, ["b", "d"]);
        assert_eq!(schedule.waiting(), 0);
        assert_eq!(schedule.finish("web"), None);
        assert_eq!(schedule.admit("api", 5, "e", "e"), Wait);
    }
}
