//! Which message runs when, decided without any I/O: one deployment per service at a time, and of the
//! messages waiting for a busy service only the newest deployed (the others are superseded, as CI
//! concurrency groups treat pending runs), and a message sent before one already admitted for its service
//! skipped as stale (deploying it would undo the newer one).
//!
//! Only an admitted message (the guard let it through and the service was updated) supersedes others or
//! counts as the newest: one refused once it runs leaves the messages waiting behind it as they were, and
//! the newest of them runs next. A sender cannot have a good deployment dropped by sending a bad one after it.
//!
//! On a FIFO queue with `MessageGroupId` = service, SQS already hands out a service's messages in order; this
//! schedule makes a standard queue as safe for one worker, and turns a burst of messages for one service
//! into one rollout after the current one. What it remembers is bounded, whatever names arrive.

use std::collections::{BTreeMap, HashMap};

/// How many services' newest admitted message are remembered; past that, the one admitted longest ago is
/// forgotten.
pub const REMEMBERED_SERVICES: usize = 10_000;

/// Services with a deployment running, and what waits for them.
#[derive(Debug)]
pub struct Schedule<J> {
    /// Per busy service, the message running for it and those waiting, oldest first.
    busy: HashMap<String, Busy<J>>,
    /// Per service, the newest message admitted: older ones arriving later are stale.
    newest_admitted: HashMap<String, Admitted>,
    /// The remembered services by when their newest message was admitted, oldest first, to forget the
    /// oldest.
    by_admission: BTreeMap<u64, String>,
    /// Admissions so far: the clock of `by_admission`.
    admissions: u64,
}

/// A busy service.
#[derive(Debug)]
struct Busy<J> {
    /// The message running for it, whose admission supersedes the older ones waiting.
    running: Sent,
    /// The messages waiting for it, oldest first.
    waiting: Vec<Waiting<J>>,
}

/// When a message was sent (ms since the epoch, 0 when unknown) and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    sent_at_ms: u64,
    message_id: String,
}

impl Sent {
    /// Whether this was sent before `other`; an unknown time is never before anything.
    fn before(&self, other: &Sent) -> bool {
        self.sent_at_ms > 0 && other.sent_at_ms > 0 && self.sent_at_ms < other.sent_at_ms
    }
}

/// The newest message admitted for a service.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Admitted {
    /// When it was sent, and its id.
    sent: Sent,
    /// The admission it came at, for forgetting the oldest first.
    at: u64,
}

/// A message waiting for its service.
#[derive(Debug)]
struct Waiting<J> {
    /// When it was sent, and its id.
    sent: Sent,
    /// What to run.
    job: J,
}

/// What to do with a message now.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission<J> {
    /// Its service is free: run it.
    Start(J),
    /// Its service is busy: it waits (its message kept hidden) until the service is free, or until a newer
    /// message is admitted for it.
    Wait,
    /// A message sent before one already admitted for the service; it must not be deployed.
    Stale {
        /// The message, to settle as superseded.
        job: J,
        /// The newer message.
        newer_message_id: String,
    },
}

/// A message the schedule will not run, and the newer one that replaced it.
#[derive(Debug, PartialEq, Eq)]
pub struct Superseded<J> {
    /// The message, to settle as superseded.
    pub job: J,
    /// The newer message, admitted for its service.
    pub newer_message_id: String,
}

impl<J> Default for Schedule<J> {
    fn default() -> Self {
        Self {
            busy: HashMap::new(),
            newest_admitted: HashMap::new(),
            by_admission: BTreeMap::new(),
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
        let sent = Sent {
            sent_at_ms,
            message_id: message_id.to_owned(),
        };
        if let Some(newest) = self.newest_admitted.get(service)
            && sent.before(&newest.sent)
            && newest.sent.message_id != message_id
        {
            return Admission::Stale {
                job,
                newer_message_id: newest.sent.message_id.clone(),
            };
        }
        let Some(busy) = self.busy.get_mut(service) else {
            self.busy.insert(
                service.to_owned(),
                Busy {
                    running: sent,
                    waiting: Vec::new(),
                },
            );
            return Admission::Start(job);
        };
        // After every message it was not sent before: the later arrival is the newer unless both times
        // are known and it was sent earlier.
        let at = busy
            .waiting
            .iter()
            .rposition(|w| !sent.before(&w.sent))
            .map_or(0, |i| i + 1);
        busy.waiting.insert(at, Waiting { sent, job });
        Admission::Wait
    }

    /// The message running for `service` was admitted: it is the newest admitted, and the messages waiting
    /// that were sent before it are superseded. Nothing, when `message_id` is not the one running.
    pub fn admitted(&mut self, service: &str, message_id: &str) -> Vec<Superseded<J>> {
        let Some(busy) = self.busy.get_mut(service) else {
            return Vec::new();
        };
        if busy.running.message_id != message_id {
            return Vec::new();
        }
        let running = busy.running.clone();
        let (older, newer): (Vec<_>, Vec<_>) = std::mem::take(&mut busy.waiting)
            .into_iter()
            .partition(|w| w.sent.before(&running));
        busy.waiting = newer;
        self.remember(service, running);
        older
            .into_iter()
            .map(|w| Superseded {
                job: w.job,
                newer_message_id: message_id.to_owned(),
            })
            .collect()
    }

    /// The service's deployment ended: the newest message waiting for it, which now runs, if any; the
    /// others keep waiting until it is admitted, or ends without being admitted.
    pub fn finish(&mut self, service: &str) -> Option<J> {
        let busy = self.busy.get_mut(service)?;
        match busy.waiting.pop() {
            None => {
                self.busy.remove(service);
                None
            }
            Some(next) => {
                busy.running = next.sent;
                Some(next.job)
            }
        }
    }

    /// Takes every waiting message out (to release them on shutdown); running ones stay busy.
    pub fn take_waiting(&mut self) -> Vec<J> {
        self.busy
            .values_mut()
            .flat_map(|b| std::mem::take(&mut b.waiting))
            .map(|w| w.job)
            .collect()
    }

    /// How many messages wait for a busy service.
    pub fn waiting(&self) -> usize {
        self.busy.values().map(|b| b.waiting.len()).sum()
    }

    /// Records `sent` as the newest admitted for `service`, unless a newer one was.
    fn remember(&mut self, service: &str, sent: Sent) {
        self.admissions += 1;
        let at = self.admissions;
        if let Some(newest) = self.newest_admitted.get_mut(service) {
            self.by_admission.remove(&newest.at);
            newest.at = at;
            if !sent.before(&newest.sent) {
                newest.sent = sent;
            }
        } else {
            if self.newest_admitted.len() >= REMEMBERED_SERVICES {
                self.forget_oldest();
            }
            self.newest_admitted
                .insert(service.to_owned(), Admitted { sent, at });
        }
        self.by_admission.insert(at, service.to_owned());
    }

    /// Forgets the service whose newest message was admitted longest ago and that is not busy now.
    fn forget_oldest(&mut self) {
        let oldest = self
            .by_admission
            .iter()
            .find(|(_, service)| !self.busy.contains_key(*service))
            .map(|(at, service)| (*at, service.clone()));
        if let Some((at, service)) = oldest {
            self.by_admission.remove(&at);
            self.newest_admitted.remove(&service);
        }
    }

    /// How many services the schedule remembers.
    pub fn remembered(&self) -> usize {
        self.newest_admitted.len()
    }
}

#[cfg(test)]
mod tests;
