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
use tracing::{error, warn};

use crate::ops::metrics::Metrics;
use crate::ops::vars::{Problem, Vars};

pub mod legacy;
pub mod markup;
pub mod notice;
pub mod post;
pub mod sink;

#[cfg(test)]
mod fixtures;

pub use notice::{Event, Notice};
pub use sink::{AwsClients, NotificationSink};

/// Declares the sinks, each `Type in file`: the file's module, [`Settings`] with a field of each, the
/// variables they read, and the dispatch to them.
macro_rules! sinks {
    ($($sink:ident in $file:ident),+ $(,)?) => {
        $(pub mod $file;)+
        $(pub use $file::$sink;)+

        /// What the sinks' variables set: each sink's settings, `None` where its variables do not set it up.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Settings {
            $(
                #[doc = concat!("[`", stringify!($sink), "`]'s settings.")]
                pub $file: Option<<$sink as NotificationSink>::Settings>,
            )+
        }

        impl Settings {
            /// Reads every sink's variables; the error names the variable at fault.
            pub fn read(vars: &Vars) -> Result<Self, Problem> {
                Ok(Self {
                    $($file: $sink::settings(vars)?,)+
                })
            }
        }

        /// Every sink's name, as the `sink` label of the notification metric has it.
        pub const SINK_NAMES: &[&str] = &[$($sink::NAME),+];

        /// Every variable the sinks read, in the order they are listed.
        pub fn variables() -> impl Iterator<Item = &'static str> {
            [$($sink::VARIABLES),+].into_iter().flatten().copied()
        }

        /// One sink that runs, by its type's name.
        #[allow(clippy::enum_variant_names)]
        enum Sink {
            $(
                #[doc = concat!("[`", stringify!($sink), "`].")]
                $sink($sink),
            )+
        }

        impl Sink {
            /// Every sink `settings` sets up, each given to `add` with its name and whether it takes
            /// only replies; one that cannot run is logged and left out.
            fn start_all(
                settings: &Settings,
                aws: &AwsClients,
                add: &mut dyn FnMut(&'static str, bool, Sink),
            ) {
                $(
                    if let Some(settings) = &settings.$file {
                        match $sink::start(settings, aws) {
                            Ok(sink) => add($sink::NAME, $sink::REPLIES_ONLY, Self::$sink(sink)),
                            Err(e) => error!(sink = $sink::NAME, error = %e, "this sink's notifications are off"),
                        }
                    }
                )+
            }

            /// Posts `notice` through the sink.
            async fn deliver(&self, notice: &Notice) -> Result<(), String> {
                match self {
                    $(Self::$sink(sink) => sink.deliver(notice).await,)+
                }
            }
        }
    };
}

sinks! {
    SlackSink in slack,
    TeamsSink in teams,
    WebhookSink in webhook,
    SnsSink in sns,
    ReplySink in reply,
}

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
    /// The sink's name (one of [`SINK_NAMES`]).
    name: &'static str,
    /// Whether the sink takes only notices that carry a `reply_to`.
    replies_only: bool,
    /// Into the sink's task.
    tx: mpsc::Sender<Arc<Notice>>,
}

/// The sinks' tasks, to let them finish what is queued when the worker stops.
#[derive(Debug, Default)]
pub struct SinkTasks {
    /// One per sink.
    tasks: Vec<JoinHandle<()>>,
}

impl SinkTasks {
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

impl Notifier {
    /// A notifier for the sinks `settings` sets up (replies always, since any message may ask for one),
    /// posting through `aws` where a sink needs to. The returned [`SinkTasks`] finish once every clone of
    /// the notifier is dropped.
    pub fn start(settings: &Settings, aws: &AwsClients, metrics: Metrics) -> (Self, SinkTasks) {
        let mut sinks = Vec::new();
        let mut tasks = Vec::new();
        Sink::start_all(settings, aws, &mut |name, replies_only, sink| {
            let (tx, rx) = mpsc::channel(SINK_QUEUE);
            tasks.push(tokio::spawn(deliver_all(name, sink, rx, metrics.clone())));
            sinks.push(SinkQueue {
                name,
                replies_only,
                tx,
            });
        });
        (Self { sinks, metrics }, SinkTasks { tasks })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::outcome::Outcome;
    use crate::ops::config::Config;
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
        let settings = config.notify.clone();
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
        let (notifier, _sink_tasks) =
            Notifier::start(&settings, &AwsClients { sqs, sns }, metrics.clone());
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
