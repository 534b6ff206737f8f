//! Notifications of each deployment's start and end: a Slack incoming webhook (`SLACK_WEBHOOK`), a
//! Microsoft Teams Workflows webhook (`TEAMS_WEBHOOK`), a generic signed webhook (`WEBHOOK_URL`), an SNS
//! topic (`SNS_TOPIC`, JSON or the old script's format), and a reply to the queue a message names in its
//! `reply_to` attribute.
//!
//! A notification never fails or delays a deployment: each sink has its own bounded queue and task, a full
//! queue drops the notification (counted and logged), and a failed delivery is logged and counted.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::ops::config::Config;
use crate::ops::metrics::Metrics;

pub mod legacy;
pub mod markup;
pub mod notice;
pub mod post;
pub mod reply;
pub mod slack;
pub mod sns;
pub mod teams;
pub mod webhook;

#[cfg(test)]
mod fixtures;

pub use notice::{Event, Notice};
use reply::ReplySink;
use slack::SlackSink;
use sns::SnsSink;
use teams::TeamsSink;
use webhook::WebhookSink;

/// How many notifications may wait for one sink before new ones are dropped.
const SINK_QUEUE: usize = 256;

/// Sends notifications to every configured sink without ever making the caller wait; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    /// One queue per sink.
    sinks: Vec<SinkQueue>,
    /// Counts dropped notifications.
    metrics: Metrics,
}

#[derive(Debug, Clone)]
struct SinkQueue {
    /// `slack`, `sns` or `reply`.
    name: &'static str,
    /// Whether the sink takes only notices that carry a `reply_to`.
    replies_only: bool,
    /// Into the sink's task.
    tx: mpsc::Sender<Arc<Notice>>,
}

/// The sinks' tasks, to let them finish what is queued when the worker stops.
#[derive(Debug, Default)]
pub struct Deliveries {
    /// One per sink.
    tasks: Vec<JoinHandle<()>>,
}

impl Deliveries {
    /// Waits until every queued notification was delivered or failed, or `limit` passed.
    pub async fn finish(self, limit: Duration) {
        let all = async {
            for task in self.tasks {
                let _ = task.await;
            }
        };
        if tokio::time::timeout(limit, all).await.is_err() {
            warn!("notifications still queued when the worker stopped were not sent");
        }
    }
}

/// Where one sink delivers.
enum Sink {
    /// `SLACK_WEBHOOK`.
    Slack(SlackSink),
    /// `SNS_TOPIC`.
    Sns(SnsSink),
    /// `TEAMS_WEBHOOK`.
    Teams(TeamsSink),
    /// `WEBHOOK_URL`.
    Webhook(WebhookSink),
    /// Each message's `reply_to` queue.
    Reply(ReplySink),
}

impl Notifier {
    /// A notifier for the sinks `config` sets up (replies always, since any message may ask for one).
    /// The returned [`Deliveries`] finish once every clone of the notifier is dropped.
    pub fn start(
        config: &Config,
        sqs: aws_sdk_sqs::Client,
        sns: aws_sdk_sns::Client,
        metrics: Metrics,
    ) -> (Self, Deliveries) {
        let mut sinks = Vec::new();
        let mut tasks = Vec::new();
        let mut add = |name: &'static str, replies_only: bool, sink: Sink| {
            let (tx, rx) = mpsc::channel(SINK_QUEUE);
            tasks.push(tokio::spawn(deliver_all(name, sink, rx, metrics.clone())));
            sinks.push(SinkQueue {
                name,
                replies_only,
                tx,
            });
        };
        if let Some(slack) = &config.slack {
            match SlackSink::new(slack) {
                Ok(sink) => add("slack", false, Sink::Slack(sink)),
                Err(e) => {
                    tracing::error!(error = %e, "cannot make an HTTPS client (are CA certificates installed?); Slack notifications are off")
                }
            }
        }
        if let Some(teams) = &config.teams {
            match TeamsSink::new(teams) {
                Ok(sink) => add("teams", false, Sink::Teams(sink)),
                Err(e) => {
                    tracing::error!(error = %e, "cannot make an HTTPS client (are CA certificates installed?); Teams notifications are off")
                }
            }
        }
        if let Some(webhook) = &config.webhook {
            match WebhookSink::new(webhook) {
                Ok(sink) => add("webhook", false, Sink::Webhook(sink)),
                Err(e) => {
                    tracing::error!(error = %e, "cannot make an HTTPS client (are CA certificates installed?); webhook notifications are off")
                }
            }
        }
        if let Some(topic) = &config.sns_topic {
            add(
                "sns",
                false,
                Sink::Sns(SnsSink {
                    client: sns,
                    topic: topic.clone(),
                    format: config.sns_format,
                }),
            );
        }
        add("reply", true, Sink::Reply(ReplySink { client: sqs }));
        (Self { sinks, metrics }, Deliveries { tasks })
    }

    /// Queues `notice` for every sink that takes it; returns at once.
    pub fn notify(&self, notice: Notice) {
        let notice = Arc::new(notice);
        for sink in &self.sinks {
            if sink.replies_only && notice.reply_to.is_none() {
                continue;
            }
            if sink.tx.try_send(Arc::clone(&notice)).is_err() {
                self.metrics.notification(sink.name, "dropped");
                warn!(sink = sink.name, message_id = %notice.message_id, event = notice.event.label(),
                    "notification dropped: too many are waiting for this sink");
            }
        }
    }
}

/// Delivers a sink's notifications one after the other, in the order they came.
async fn deliver_all(
    name: &'static str,
    sink: Sink,
    mut rx: mpsc::Receiver<Arc<Notice>>,
    metrics: Metrics,
) {
    while let Some(notice) = rx.recv().await {
        match sink.deliver(&notice).await {
            Ok(()) => metrics.notification(name, "delivered"),
            Err(error) => {
                metrics.notification(name, "failed");
                warn!(sink = name, message_id = %notice.message_id, event = notice.event.label(), %error,
                    "notification not delivered; the deployment is not affected");
            }
        }
    }
}

impl Sink {
    async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        match self {
            Self::Slack(sink) => sink.deliver(notice).await,
            Self::Teams(sink) => sink.deliver(notice).await,
            Self::Webhook(sink) => sink.deliver(notice).await,
            Self::Sns(sink) => sink.deliver(notice).await,
            Self::Reply(sink) => sink.deliver(notice).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::outcome::Outcome;
    use crate::ops::notify::fixtures::report;

    #[tokio::test]
    async fn a_sink_that_cannot_keep_up_drops_new_notices_and_counts_them() {
        // A webhook that takes connections and never answers: the first post hangs, the rest queue up.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let config = Config::from_vars([
            (
                "SQS_URL".to_owned(),
                "https://sqs.us-east-1.amazonaws.com/1/q".to_owned(),
            ),
            ("SLACK_WEBHOOK".to_owned(), format!("http://{address}/hook")),
        ])
        .expect("config");
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
                .build(),
        );
        let sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::Config::builder()
                .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
                .build(),
        );
        let metrics = Metrics::new();
        let (notifier, _deliveries) = Notifier::start(&config, sqs, sns, metrics.clone());
        let sent = SINK_QUEUE + 50;
        for _ in 0..sent {
            notifier.notify(Notice::finished(&report(Outcome::Deployed), None));
        }
        let text = metrics.encode();
        let dropped = text
            .lines()
            .find(|l| {
                l.starts_with(
                    r#"ecs_deployment_notifications_total{sink="slack",result="dropped"}"#,
                )
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        // At most the queue and the one in flight are kept; notify never waited.
        assert!(
            (sent - SINK_QUEUE - 1..=sent - SINK_QUEUE).contains(&dropped),
            "{text}"
        );
    }
}
