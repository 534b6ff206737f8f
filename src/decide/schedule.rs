//! Which message runs when, decided without any I/O: one deployment per service at a time, only the newest
//! message waiting for a busy service kept (an older one is superseded at once, as CI concurrency groups
//! treat pending runs), and a message sent before one already started for its service skipped as stale
//! (deploying it would undo the newer one).
//!
//! On a FIFO queue with `MessageGroupId` = service, SQS already hands out a service's messages in order; this
//! schedule makes a standard queue as safe for one worker, and turns a burst of messages for one service
//! into one rollout after the current one. What it remembers is bounded, whatever names arrive.

use std::collections::{BTreeMap, HashMap};

/// How many services' newest started message are remembered; past that, the one started longest ago is
/// forgotten.
pub const REMEMBERED_SERVICES: usize = 10_000;

/// Services with a deployment running, and what waits for them.
#[derive(Debug)]
pub struct Schedule<J> {
    /// Per busy service, the newest message waiting for it, if any.
    busy: HashMap<String, Option<Waiting<J>>>,
    /// Per service, the newest message started (sent at, message id, when it started in admissions):
    /// older ones arriving later are stale.
    newest_started: HashMap<String, Started>,
    /// The remembered services by when their newest message started, oldest first, to forget the oldest.
    by_start: BTreeMap<u64, String>,
    /// Admissions so far: the clock of `by_start`.
    admissions: u64,
}

/// The newest message started for a service.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Started {
    /// When it was sent (ms since the epoch, 0 when unknown).
    sent_at_ms: u64,
    /// Its message id.
    message_id: String,
    /// The admission it started at, for forgetting the oldest first.
    at: u64,
}

/// A message waiting for its service.
#[derive(Debug)]
struct Waiting<J> {
    /// When it was sent (ms since the epoch).
    sent_at_ms: u64,
    /// Its message id, for the stale check once it starts and for superseding it.
    message_id: String,
    /// What to run.
    job: J,
}

/// What to do with a message now.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission<J> {
    /// Its service is free: run it.
    Start(J),
    /// Its service is busy: it waits (its message kept hidden) and starts when the service is free. The
    /// message that waited before it, if any, is older and is handed back to be settled as superseded.
    Wait {
        /// The older waiting message this one replaces.
        superseded: Option<J>,
    },
    /// A message sent after it was already started for the service, or waits for it; it must not be
    /// deployed.
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
            by_start: BTreeMap::new(),
            admissions: 0,
        }
    }
}

impl<J> Schedule<J> {
    /// Decides about a message for `service` sent at `sent_at_ms` (0 when unknown: never stale, and
    /// newer than what waits).
    pub fn admit(
        &mut self,
        service: &str,
        sent_at_ms: u64,
        message_id: &str,
        job: J,
    ) -> Admission<J> {
        self.admissions += 1;
        if let Some(newest) = self.newest_started.get(service)
            && sent_at_ms > 0
            && sent_at_ms < newest.sent_at_ms
            && newest.message_id != message_id
        {
            return Admission::Stale {
                job,
                newer_message_id: newest.message_id.clone(),
            };
        }
        let Some(slot) = self.busy.get_mut(service) else {
            self.busy.insert(service.to_owned(), None);
            self.started(service, sent_at_ms, message_id);
            return Admission::Start(job);
        };
        let arriving = Waiting {
            sent_at_ms,
            message_id: message_id.to_owned(),
            job,
        };
        match slot.take() {
            None => {
                *slot = Some(arriving);
                Admission::Wait { superseded: None }
            }
            // The waiting one was sent after the arriving one: the arriving one is stale.
            Some(waiting)
                if sent_at_ms > 0 && waiting.sent_at_ms > 0 && sent_at_ms < waiting.sent_at_ms =>
            {
                let newer_message_id = waiting.message_id.clone();
                *slot = Some(waiting);
                Admission::Stale {
                    job: arriving.job,
                    newer_message_id,
                }
            }
            // Sent after, at the same moment, or at an unknown time: the later arrival is the newer.
            Some(waiting) => {
                *slot = Some(arriving);
                Admission::Wait {
                    superseded: Some(waiting.job),
                }
            }
        }
    }

    /// The service's deployment ended: the message waiting for it, which now runs, if any.
    pub fn finish(&mut self, service: &str) -> Option<J> {
        let next = self.busy.get_mut(service)?.take();
        match next {
            None => {
                self.busy.remove(service);
                None
            }
            Some(next) => {
                self.started(service, next.sent_at_ms, &next.message_id);
                Some(next.job)
            }
        }
    }

    /// Takes every waiting message out (to release them on shutdown); running ones stay busy.
    pub fn take_waiting(&mut self) -> Vec<J> {
        self.busy
            .values_mut()
            .filter_map(Option::take)
            .map(|w| w.job)
            .collect()
    }

    /// How many messages wait for a busy service.
    pub fn waiting(&self) -> usize {
        self.busy.values().filter(|w| w.is_some()).count()
    }

    fn started(&mut self, service: &str, sent_at_ms: u64, message_id: &str) {
        let at = self.admissions;
        if let Some(newest) = self.newest_started.get_mut(service) {
            self.by_start.remove(&newest.at);
            newest.at = at;
            if sent_at_ms >= newest.sent_at_ms {
                newest.sent_at_ms = sent_at_ms;
                newest.message_id = message_id.to_owned();
            }
        } else {
            if self.newest_started.len() >= REMEMBERED_SERVICES {
                self.forget_oldest();
            }
            self.newest_started.insert(
                service.to_owned(),
                Started {
                    sent_at_ms,
                    message_id: message_id.to_owned(),
                    at,
                },
            );
        }
        self.by_start.insert(at, service.to_owned());
    }

    /// Forgets the service whose newest message started longest ago and that is not busy now.
    fn forget_oldest(&mut self) {
        let oldest = self
            .by_start
            .iter()
            .find(|(_, service)| !self.busy.contains_key(*service))
            .map(|(at, service)| (*at, service.clone()));
        if let Some((at, service)) = oldest {
            self.by_start.remove(&at);
            self.newest_started.remove(&service);
        }
    }

    /// How many services the schedule remembers.
    pub fn remembered(&self) -> usize {
        self.newest_started.len()
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
    use Admission::{Stale, Start};
    use Step::{Admit, Finish};

    /// Waits, replacing no one.
    fn wait() -> Admission<&'static str> {
        Admission::Wait { superseded: None }
    }

    /// Waits, replacing `older`.
    fn replacing(older: &'static str) -> Admission<&'static str> {
        Admission::Wait {
            superseded: Some(older),
        }
    }

    fn stale(job: &'static str, newer: &str) -> Admission<&'static str> {
        Stale {
            job,
            newer_message_id: newer.into(),
        }
    }

    #[test]
    fn one_deployment_per_service_and_only_the_newest_waits() {
        let cases: Vec<(&str, Vec<Step>)> = vec![
            (
                "different services run at once",
                vec![
                    Admit("web", 10, "a", Start("a")),
                    Admit("api", 11, "b", Start("b")),
                ],
            ),
            (
                "a busy service's newest message waits; an older one that arrives later is stale",
                vec![
                    Admit("web", 10, "a", Start("a")),
                    Admit("web", 30, "c", wait()),
                    Admit("web", 20, "b", stale("b", "c")),
                    Finish("web", Some("c")),
                    Finish("web", None),
                    Admit("web", 40, "d", Start("d")),
                ],
            ),
            (
                "a newer message replaces the one that waited",
                vec![
                    Admit("web", 10, "a", Start("a")),
                    Admit("web", 20, "b", wait()),
                    Admit("web", 30, "c", replacing("b")),
                    Admit("web", 40, "d", replacing("c")),
                    Finish("web", Some("d")),
                    Finish("web", None),
                ],
            ),
            (
                "a message sent before one already started is stale",
                vec![
                    Admit("web", 20, "b", Start("b")),
                    Admit("web", 10, "a", stale("a", "b")),
                    Finish("web", None),
                    Admit("web", 15, "a2", stale("a2", "b")),
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
                "an unknown send time is never stale, and counts as newer than what waits",
                vec![
                    Admit("web", 20, "b", Start("b")),
                    Finish("web", None),
                    Admit("web", 0, "x", Start("x")),
                    Admit("web", 30, "y", wait()),
                    Admit("web", 0, "z", replacing("y")),
                ],
            ),
            (
                "same send time: the later arrival is the newer",
                vec![
                    Admit("web", 10, "a", Start("a")),
                    Admit("web", 10, "b", wait()),
                    Admit("web", 10, "c", replacing("b")),
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
        assert_eq!(schedule.admit("web", 2, "b", "b"), wait());
        assert_eq!(schedule.admit("api", 3, "c", "c"), Start("c"));
        assert_eq!(schedule.admit("api", 4, "d", "d"), wait());
        assert_eq!(schedule.waiting(), 2);
        let mut taken = schedule.take_waiting();
        taken.sort_unstable();
        assert_eq!(taken, ["b", "d"]);
        assert_eq!(schedule.waiting(), 0);
        assert_eq!(schedule.finish("web"), None);
        assert_eq!(schedule.admit("api", 5, "e", "e"), wait());
    }

    #[test]
    fn what_is_remembered_stays_bounded_whatever_names_arrive() {
        let mut schedule = Schedule::default();
        for i in 0..REMEMBERED_SERVICES + 500 {
            let service = format!("service-{i}");
            assert_eq!(schedule.admit(&service, 10, "m", ()), Start(()));
            schedule.finish(&service);
        }
        assert_eq!(schedule.remembered(), REMEMBERED_SERVICES);
        // A busy service is never the one forgotten.
        assert_eq!(schedule.admit("busy", 10, "b", ()), Start(()));
        for i in 0..REMEMBERED_SERVICES {
            let service = format!("later-{i}");
            schedule.admit(&service, 10, "m", ());
            schedule.finish(&service);
        }
        assert_eq!(schedule.admit("busy", 5, "older", ()), stale_unit("b"));
    }

    fn stale_unit(newer: &str) -> Admission<()> {
        Stale {
            job: (),
            newer_message_id: newer.into(),
        }
    }
}
