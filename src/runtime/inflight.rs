//! The messages this worker holds (deploying, or waiting for their service), the heartbeat that keeps
//! them hidden from other receivers for as long as they are held, and their release to another receiver.
//!
//! An extension and a release of the same message must never cross: an extension that reaches SQS after
//! the release would hide the message again for a whole visibility timeout. Both go through one gate, and
//! the final release stops the heartbeat for good before it gives anything back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tracing::{debug, error, info, warn};

use crate::aws::sqs::{MAX_BATCH, Queue, Receipt};
use crate::ops::health::Health;

/// The shortest pause before the heartbeat tries again after SQS refused or failed an extension.
const MIN_RETRY: Duration = Duration::from_millis(200);
/// How long a stopping worker spends releasing unsettled messages at most.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(3);

/// Held messages by message id; cheap to clone, shared by the receive loop, the deployments and the
/// heartbeat.
#[derive(Debug, Clone, Default)]
pub struct InFlight {
    /// Message id -> the delivery's state.
    held: Arc<Mutex<HashMap<String, Held>>>,
    /// Held by the heartbeat while it extends and by a release while it gives messages back, so the two
    /// never cross; `true` once the heartbeat stopped for good.
    gate: Arc<tokio::sync::Mutex<bool>>,
}

/// One held message.
#[derive(Debug, Clone)]
struct Held {
    /// The latest receipt handle: SQS deletes and extends only by the newest one.
    receipt_handle: String,
    /// SQS said the handle no longer holds the message (its visibility lapsed and another receiver may
    /// have it); the heartbeat stops extending it.
    lost: bool,
}

impl InFlight {
    /// Holds a message; `false` when it was held already (SQS delivered it again), in which case the newer
    /// receipt handle replaces the old one and no second deployment must start.
    pub fn hold(&self, message_id: &str, receipt_handle: &str) -> bool {
        let mut held = self.lock();
        let again = held.contains_key(message_id);
        held.insert(
            message_id.to_owned(),
            Held {
                receipt_handle: receipt_handle.to_owned(),
                lost: false,
            },
        );
        !again
    }

    /// Stops holding a message and gives its latest receipt handle, to delete or release it with.
    pub fn take(&self, message_id: &str) -> Option<String> {
        self.lock().remove(message_id).map(|h| h.receipt_handle)
    }

    /// Every held message.
    fn take_all(&self) -> Vec<Receipt> {
        self.lock()
            .drain()
            .map(|(message_id, h)| Receipt {
                message_id,
                receipt_handle: h.receipt_handle,
            })
            .collect()
    }

    /// Stops holding these messages and gives them to another receiver at once; an extension in flight
    /// finishes first.
    pub async fn release(&self, queue: &Queue, message_ids: &[String]) {
        let _gate = self.gate.lock().await;
        let handles: Vec<Receipt> = message_ids
            .iter()
            .filter_map(|id| {
                Some(Receipt {
                    message_id: id.clone(),
                    receipt_handle: self.take(id)?,
                })
            })
            .collect();
        release(queue, &handles).await;
    }

    /// Stops the heartbeat for good (after the extension in flight, if any), then gives every message
    /// still held to another receiver: what a stopping worker does last.
    pub async fn release_all(&self, queue: &Queue) {
        let mut stopped = self.gate.lock().await;
        *stopped = true;
        let handles = self.take_all();
        release(queue, &handles).await;
    }

    /// How many messages are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no message is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Held messages whose visibility is still ours to extend.
    fn extendable(&self) -> Vec<Receipt> {
        self.lock()
            .iter()
            .filter(|(_, h)| !h.lost)
            .map(|(id, h)| Receipt {
                message_id: id.clone(),
                receipt_handle: h.receipt_handle.clone(),
            })
            .collect()
    }

    /// Marks the delivery with this receipt handle lost; `false` when the message is no longer held under
    /// that handle (it was settled, or delivered again), so nothing was lost.
    fn mark_lost(&self, message_id: &str, receipt_handle: &str) -> bool {
        match self.lock().get_mut(message_id) {
            Some(held) if held.receipt_handle == receipt_handle => {
                held.lost = true;
                true
            }
            _ => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        // The map stays consistent even if a holder panicked: every change is one insert or remove.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Extends every held message's visibility to `visibility` every third of it, in batches of ten, each
/// call given up after a sixth of it; after a failure it tries again soon, while the visibility still
/// lasts. Runs until the final release stops it.
/// Each successful extension counts as contact with SQS for `health`.
pub async fn heartbeat(queue: Queue, in_flight: InFlight, visibility: Duration, health: Health) {
    let period = visibility / 3;
    let within = period / 2;
    let mut pause = period;
    let mut failing: Option<String> = None;
    loop {
        tokio::time::sleep(pause).await;
        let gate = in_flight.gate.lock().await;
        if *gate {
            return;
        }
        let mut trouble: Option<String> = None;
        for batch in in_flight.extendable().chunks(MAX_BATCH) {
            match queue.extend_visibility(batch, visibility, within).await {
                Ok(failures) => {
                    health.contact();
                    for failure in failures {
                        let handle = batch
                            .iter()
                            .find(|r| r.message_id == failure.message_id)
                            .map_or("", |r| r.receipt_handle.as_str());
                        if !failure.lost() {
                            trouble = Some(format!("{}: {}", failure.code, failure.message));
                        } else if in_flight.mark_lost(&failure.message_id, handle) {
                            error!(message_id = %failure.message_id, code = %failure.code, reason = %failure.message,
                                "lost hold of the message: its visibility could not be extended and another receiver may get it; the deployment goes on, and a redelivery resumes it rather than deploying twice");
                        } else {
                            debug!(message_id = %failure.message_id, code = %failure.code, "not extended: the message was settled or delivered again meanwhile");
                        }
                    }
                }
                Err(e) => trouble = Some(e.to_string()),
            }
        }
        drop(gate);
        match (&trouble, &failing) {
            (Some(now), previous) if previous.as_ref() != Some(now) => {
                warn!(error = %now, "cannot extend the visibility of messages in progress; retrying soon");
            }
            (None, Some(previous)) => {
                info!(error = %previous, "extending visibility works again");
            }
            _ => {}
        }
        pause = if trouble.is_some() {
            (period / 4).max(MIN_RETRY)
        } else {
            period
        };
        failing = trouble;
    }
}

/// Sets the messages' visibility to zero so another worker receives them at once; bounded in time, since a
/// stopping worker must not hang on SQS.
pub async fn release(queue: &Queue, messages: &[Receipt]) {
    let work = async {
        for batch in messages.chunks(MAX_BATCH) {
            match queue.change_visibility(batch, Duration::ZERO).await {
                Ok(failures) => {
                    for Receipt { message_id: id, .. } in batch {
                        match failures.iter().find(|f| &f.message_id == id) {
                            None => {
                                warn!(message_id = %id, "released unsettled: another worker resumes it")
                            }
                            Some(f) => {
                                warn!(message_id = %id, code = %f.code, "cannot release; it reappears when its visibility timeout passes")
                            }
                        }
                    }
                }
                Err(e) => {
                    warn!(error = %e, count = batch.len(), "cannot release messages; they reappear when their visibility timeout passes");
                }
            }
        }
    };
    if tokio::time::timeout(RELEASE_TIMEOUT, work).await.is_err() {
        warn!(
            "releasing messages took too long; the rest reappear when their visibility timeout passes"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(message_id: &str, receipt_handle: &str) -> Receipt {
        Receipt {
            message_id: message_id.into(),
            receipt_handle: receipt_handle.into(),
        }
    }

    #[test]
    fn a_second_delivery_replaces_the_receipt_handle() {
        let in_flight = InFlight::default();
        assert!(in_flight.hold("m1", "r1"));
        assert!(!in_flight.hold("m1", "r2"));
        assert!(in_flight.hold("m2", "r3"));
        assert!(!in_flight.mark_lost("m2", "r-old"));
        assert!(in_flight.mark_lost("m2", "r3"));
        assert_eq!(in_flight.extendable(), [receipt("m1", "r2")]);
        assert_eq!(in_flight.take("m1").as_deref(), Some("r2"));
        assert_eq!(in_flight.take("m1"), None);
        assert_eq!(in_flight.take_all(), [receipt("m2", "r3")]);
        assert!(in_flight.is_empty());
    }
}
