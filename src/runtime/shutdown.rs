//! Stop requests, passed to the worker as a value: the first asks for a graceful stop, a second for an
//! immediate one.

use tokio::sync::watch;

/// The worker's view of stop requests; cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown {
    /// How many stops were requested so far.
    requests: watch::Receiver<u32>,
}

/// Requests stops (the binary calls it on SIGTERM and SIGINT).
#[derive(Debug)]
pub struct StopSender {
    /// Counts requests; the worker waits on its receivers.
    requests: watch::Sender<u32>,
}

impl Shutdown {
    /// A pair: requests made through the sender are seen by the receiver and its clones.
    pub fn new() -> (StopSender, Shutdown) {
        let (requests, receiver) = watch::channel(0);
        (StopSender { requests }, Shutdown { requests: receiver })
    }

    /// Completes once a stop was requested. Never completes if the sender is dropped without one.
    pub async fn requested(&mut self) {
        self.at_least(1).await;
    }

    /// Completes once a stop was requested a second time: stop now.
    pub async fn forced(&mut self) {
        self.at_least(2).await;
    }

    async fn at_least(&mut self, count: u32) {
        if self.requests.wait_for(|n| *n >= count).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl StopSender {
    /// Requests a stop: graceful the first time, immediate the second.
    pub fn request(&self) {
        self.requests.send_modify(|n| *n = n.saturating_add(1));
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    /// Whether the future completes on its first poll.
    async fn completes_now(future: impl Future<Output = ()>) -> bool {
        tokio::select! {
            biased;
            () = future => true,
            () = std::future::ready(()) => false,
        }
    }

    #[tokio::test]
    async fn the_second_request_forces() {
        let (stop, mut shutdown) = Shutdown::new();
        assert!(!completes_now(shutdown.requested()).await);
        stop.request();
        assert!(completes_now(shutdown.requested()).await);
        assert!(!completes_now(shutdown.forced()).await);
        stop.request();
        assert!(completes_now(shutdown.clone().forced()).await);
        drop(stop);
        assert!(completes_now(shutdown.forced()).await);
    }

    #[tokio::test]
    async fn a_dropped_sender_is_no_request() {
        let (stop, mut shutdown) = Shutdown::new();
        drop(stop);
        assert!(!completes_now(shutdown.requested()).await);
    }
}
