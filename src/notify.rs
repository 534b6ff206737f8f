//! Notifications of each deployment's start and end: a Slack incoming webhook (`SLACK_WEBHOOK`), an SNS
//! topic (`SNS_TOPIC`, a JSON body), and a reply to the queue a message names in its `reply_to` attribute.
//!
//! A notification never fails or delays a deployment: each sink has its own bounded queue and task, a full
//! queue drops the notification (counted and logged), and a failed delivery is logged and counted.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sns::types::MessageAttributeValue as SnsAttribute;
use aws_sdk_sqs::types::MessageAttributeValue as SqsAttribute;
use backon::{ExponentialBuilder, Retryable};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::config::{Config, Slack};
use crate::error::AwsError;
use crate::metrics::Metrics;
use crate::rollout::short_arn;
use crate::worker::Report;

/// The message attribute a reply's original message id travels in.
pub const ORIGINAL_MESSAGE_ID_ATTRIBUTE: &str = "original_message_id";
/// The message attribute that says which event a reply or SNS message is.
pub const EVENT_ATTRIBUTE: &str = "event";
/// How many notifications may wait for one sink before new ones are dropped.
const SINK_QUEUE: usize = 256;
/// How long one Slack request may take.
const SLACK_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a Slack request is tried when Slack is unreachable or fails.
const SLACK_ATTEMPTS: usize = 3;
/// SNS limits a subject to 100 ASCII characters.
const MAX_SUBJECT: usize = 100;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The service was pointed at the new task definition; the rollout is being watched.
    Started,
    /// The deployment has its outcome and its message was settled.
    Finished,
    /// ECS or SQS failed before anything changed; the message is left for a later try.
    Retrying,
}

impl Event {
    /// As the JSON and message attributes spell it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Finished => "finished",
            Self::Retrying => "retrying",
        }
    }
}

/// One notification: the JSON body of SNS messages and replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// What happened.
    pub event: Event,
    /// The SQS message id of the deployment request: replies are correlated by it.
    pub message_id: String,
    /// The `service` attribute (`false` for register-only).
    pub service: String,
    /// The cluster (`ECS_CLUSTER`).
    pub cluster: String,
    /// The task definition the service ran before.
    pub previous_task_definition: Option<String>,
    /// The task definition registered from the message.
    pub new_task_definition: Option<String>,
    /// The `commit_url` attribute.
    pub commit_url: Option<String>,
    /// How the deployment ended (`finished` and `retrying` only).
    pub outcome: Option<String>,
    /// Whether the service now runs the task definition (or it was registered, for register-only).
    pub success: Option<bool>,
    /// What happened about rolling back a failed rollout.
    pub rollback: Option<String>,
    /// Why it failed or was not deployed; empty for success.
    pub reason: Option<String>,
    /// ECS's own words on a failure: notable service events and stopped tasks' reasons, newest last.
    #[serde(default)]
    pub ecs_said: Vec<String>,
    /// From receipt to settlement (`finished` and `retrying` only).
    pub duration_ms: Option<u64>,
    /// When the worker received the message (RFC 3339).
    pub received_at: String,
    /// When this notification was made (RFC 3339).
    pub at: String,
    /// The queue the producer asked the outcome to be sent to; not part of the JSON.
    #[serde(skip)]
    pub reply_to: Option<String>,
}

impl Notice {
    /// The service was pointed at the new revision.
    pub fn started(
        report: &Report,
        previous: Option<&str>,
        new: Option<&str>,
        reply_to: Option<&str>,
    ) -> Self {
        Self {
            event: Event::Started,
            message_id: report.message_id.clone(),
            service: report.service.clone(),
            cluster: report.cluster.clone(),
            previous_task_definition: previous.map(str::to_owned),
            new_task_definition: new.map(str::to_owned),
            commit_url: report.commit_url.clone(),
            outcome: None,
            success: None,
            rollback: None,
            reason: None,
            ecs_said: Vec::new(),
            duration_ms: None,
            received_at: rfc3339(report.received_at),
            at: rfc3339(SystemTime::now()),
            reply_to: reply_to.map(str::to_owned),
        }
    }

    /// A deployment ended (or, for `retry_later`, will be tried again).
    pub fn finished(report: &Report, reply_to: Option<&str>) -> Self {
        let reason = report.outcome.reason();
        Self {
            event: if report.outcome.label() == "retry_later" {
                Event::Retrying
            } else {
                Event::Finished
            },
            outcome: Some(report.outcome.label().to_owned()),
            success: Some(report.outcome.succeeded()),
            rollback: report.outcome.rollback().map(|r| r.label().to_owned()),
            reason: (!reason.is_empty()).then_some(reason),
            ecs_said: report.ecs_said.clone(),
            duration_ms: Some(u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX)),
            ..Self::started(
                report,
                report.previous_task_definition.as_deref(),
                report.new_task_definition.as_deref(),
                reply_to,
            )
        }
    }

    /// The notice as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// One line for people: what happened to which service.
    pub fn headline(&self) -> String {
        let to = self.new_task_definition.as_deref().map(short_arn);
        let from = self.previous_task_definition.as_deref().map(short_arn);
        let change = match (from, to) {
            (Some(from), Some(to)) if from != to => format!(": {from} → {to}"),
            (_, Some(to)) => format!(": {to}"),
            _ => String::new(),
        };
        let target = if self.service == "false" {
            format!("a task definition in {}", self.cluster)
        } else {
            format!("{} in {}", self.service, self.cluster)
        };
        match (self.event, self.outcome.as_deref()) {
            (Event::Started, _) => format!("Deploying {target}{change}"),
            (Event::Retrying, _) => format!("Deployment of {target} will be retried{change}"),
            (Event::Finished, Some("deployed")) => format!("Deployed {target}{change}"),
            (Event::Finished, Some("registered")) => format!("Registered {}", to.unwrap_or("")),
            (Event::Finished, Some(outcome)) => {
                format!(
                    "Deployment of {target} {}{change}",
                    outcome.replace('_', " ")
                )
            }
            (Event::Finished, None) => format!("Deployment of {target} finished{change}"),
        }
    }
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

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
    Slack {
        http: reqwest::Client,
        slack: Slack,
    },
    Sns {
        client: aws_sdk_sns::Client,
        topic: String,
    },
    Reply {
        client: aws_sdk_sqs::Client,
    },
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
            match reqwest::Client::builder()
                .timeout(SLACK_TIMEOUT)
                .user_agent(concat!("ecs-deployment/", env!("CARGO_PKG_VERSION")))
                .build()
            {
                Ok(http) => add(
                    "slack",
                    false,
                    Sink::Slack {
                        http,
                        slack: slack.clone(),
                    },
                ),
                Err(e) => {
                    tracing::error!(error = %e, "cannot make an HTTPS client (are CA certificates installed?); Slack notifications are off")
                }
            }
        }
        if let Some(topic) = &config.sns_topic {
            add(
                "sns",
                false,
                Sink::Sns {
                    client: sns,
                    topic: topic.clone(),
                },
            );
        }
        add("reply", true, Sink::Reply { client: sqs });
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
            Self::Slack { http, slack } => {
                let payload = slack_payload(notice, slack);
                (|| post_slack(http, &slack.webhook, &payload))
                    .retry(
                        ExponentialBuilder::default()
                            .with_min_delay(Duration::from_secs(1))
                            .with_max_times(SLACK_ATTEMPTS - 1)
                            .with_jitter(),
                    )
                    .when(|e: &SlackError| e.transient)
                    .await
                    .map_err(|e| e.message)
            }
            Self::Sns { client, topic } => {
                let json = notice.to_json();
                let attribute = |value: &str| {
                    SnsAttribute::builder()
                        .data_type("String")
                        .string_value(value)
                        .build()
                        .map_err(|e| e.to_string())
                };
                let mut publish = client
                    .publish()
                    .topic_arn(topic)
                    .subject(sns_subject(&notice.headline()))
                    .message(&json)
                    .message_attributes(EVENT_ATTRIBUTE, attribute(notice.event.label())?)
                    .message_attributes("service", attribute(non_empty(&notice.service))?)
                    .message_attributes("cluster", attribute(non_empty(&notice.cluster))?);
                if let Some(outcome) = &notice.outcome {
                    publish = publish.message_attributes("outcome", attribute(outcome)?);
                }
                if topic.ends_with(".fifo") {
                    publish = publish
                        .message_group_id(non_empty(&notice.service))
                        .message_deduplication_id(digest(&json));
                }
                publish
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsError::new("Publish", e).to_string())
            }
            Self::Reply { client } => {
                let Some(queue) = notice.reply_to.as_deref() else {
                    return Ok(());
                };
                if !(queue.starts_with("https://") || queue.starts_with("http://")) {
                    return Err(format!(
                        "message attribute 'reply_to' ({queue:?}) is not an SQS queue URL"
                    ));
                }
                let json = notice.to_json();
                let attribute = |value: &str| {
                    SqsAttribute::builder()
                        .data_type("String")
                        .string_value(value)
                        .build()
                        .map_err(|e| e.to_string())
                };
                let mut send = client
                    .send_message()
                    .queue_url(queue)
                    .message_body(&json)
                    .message_attributes(
                        ORIGINAL_MESSAGE_ID_ATTRIBUTE,
                        attribute(&notice.message_id)?,
                    )
                    .message_attributes(EVENT_ATTRIBUTE, attribute(notice.event.label())?);
                if queue.ends_with(".fifo") {
                    send = send
                        .message_group_id(&notice.message_id)
                        .message_deduplication_id(digest(&json));
                }
                send.send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsError::new("SendMessage", e).to_string())
            }
        }
    }
}

/// A failed Slack request.
#[derive(Debug)]
struct SlackError {
    /// What went wrong, without the webhook URL (a secret).
    message: String,
    /// Whether trying again may help (no answer, 429 or 5xx).
    transient: bool,
}

async fn post_slack(
    http: &reqwest::Client,
    webhook: &str,
    payload: &Value,
) -> Result<(), SlackError> {
    let response = http
        .post(webhook)
        .json(payload)
        .send()
        .await
        .map_err(|e| SlackError {
            message: format!("Slack webhook unreachable: {}", e.without_url()),
            transient: true,
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(SlackError {
        message: format!(
            "Slack webhook answered {status}: {}",
            body.chars().take(200).collect::<String>()
        ),
        transient: status.is_server_error() || status.as_u16() == 429,
    })
}

/// The message Slack shows: a headline, and the details as a colored attachment's fields.
pub fn slack_payload(notice: &Notice, slack: &Slack) -> Value {
    let (emoji, color) = match (notice.event, notice.success) {
        (Event::Started, _) => (":rocket:", "#439FE0"),
        (Event::Retrying, _) => (":hourglass:", "warning"),
        (Event::Finished, Some(true)) => (":white_check_mark:", "good"),
        (Event::Finished, _) if notice.outcome.as_deref() == Some("superseded") => {
            (":arrow_right_hook:", "warning")
        }
        (Event::Finished, _) => (":x:", "danger"),
    };
    let mut fields = vec![
        field("Service", &notice.service, true),
        field("Cluster", &notice.cluster, true),
    ];
    if let Some(previous) = &notice.previous_task_definition {
        fields.push(field("From", short_arn(previous), true));
    }
    if let Some(new) = &notice.new_task_definition {
        fields.push(field("To", short_arn(new), true));
    }
    if let Some(outcome) = &notice.outcome {
        fields.push(field("Outcome", outcome, true));
    }
    if let Some(ms) = notice.duration_ms {
        let took = humantime::format_duration(Duration::from_secs(ms / 1000)).to_string();
        fields.push(field("Duration", &took, true));
    }
    if let Some(rollback) = &notice.rollback {
        fields.push(field("Rollback", rollback, true));
    }
    if let Some(reason) = &notice.reason {
        fields.push(field("Reason", reason, false));
    }
    if !notice.ecs_said.is_empty() {
        fields.push(field("ECS said", &notice.ecs_said.join("\n"), false));
    }
    if let Some(url) = &notice.commit_url {
        fields.push(field("Commit", url, false));
    }
    let headline = format!("{emoji} {}", slack_escape(&notice.headline()));
    let mut payload = json!({
        "username": slack.botname,
        "text": headline,
        "attachments": [{
            "fallback": headline,
            "color": color,
            "fields": fields,
            "footer": format!("message {}", notice.message_id),
        }],
    });
    if let (Some(channel), Some(object)) = (&slack.channel, payload.as_object_mut()) {
        object.insert("channel".into(), Value::String(channel.clone()));
    }
    payload
}

fn field(title: &str, value: &str, short: bool) -> Value {
    json!({"title": title, "value": slack_escape(value), "short": short})
}

/// Slack's three control characters, escaped as its message format asks.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SNS subject: printable ASCII on one line, at most 100 characters.
fn sns_subject(headline: &str) -> String {
    let ascii: String = format!("ecs-deployment: {headline}")
        .replace('→', "->")
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .collect();
    ascii.chars().take(MAX_SUBJECT).collect()
}

fn non_empty(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// A deduplication id for FIFO queues and topics: the same notice is sent once.
fn digest(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Disposition, Outcome, Rollback};

    fn report(outcome: Outcome) -> Report {
        Report {
            message_id: "m-1".into(),
            service: "web".into(),
            cluster: "prod".into(),
            previous_task_definition: Some("arn:aws:ecs:us-east-1:1:task-definition/web:4".into()),
            new_task_definition: Some("arn:aws:ecs:us-east-1:1:task-definition/web:5".into()),
            commit_url: Some("https://git.example/c/1?a=<b>&c".into()),
            outcome,
            ecs_said: vec!["service web deployment failed: tasks failed to start".into()],
            disposition: Disposition::Delete,
            settled: true,
            received_at: SystemTime::UNIX_EPOCH,
            duration: Duration::from_secs(75),
        }
    }

    fn slack() -> Slack {
        Slack {
            webhook: "https://hooks.slack.invalid/x".into(),
            channel: Some("#deploys".into()),
            botname: "deployer".into(),
        }
    }

    #[test]
    fn each_event_reads_as_one_headline() {
        let failed = Outcome::Failed {
            reason: "tasks crashed".into(),
            rollback: Rollback::CompletedByEcs,
        };
        let cases = [
            (
                Notice::started(
                    &report(Outcome::Deployed),
                    Some("arn:aws:ecs:us-east-1:1:task-definition/web:4"),
                    Some("arn:aws:ecs:us-east-1:1:task-definition/web:5"),
                    None,
                ),
                "Deploying web in prod: web:4 → web:5",
            ),
            (
                Notice::finished(&report(Outcome::Deployed), None),
                "Deployed web in prod: web:4 → web:5",
            ),
            (
                Notice::finished(&report(failed), None),
                "Deployment of web in prod failed: web:4 → web:5",
            ),
            (
                Notice::finished(
                    &report(Outcome::RetryLater {
                        reason: "ECS down".into(),
                    }),
                    None,
                ),
                "Deployment of web in prod will be retried: web:4 → web:5",
            ),
        ];
        for (notice, headline) in cases {
            assert_eq!(notice.headline(), headline);
        }
    }

    #[test]
    fn a_finished_notice_carries_what_a_machine_needs() {
        let notice = Notice::finished(
            &report(Outcome::TimedOut {
                reason: "2 of 3 running".into(),
                rollback: Rollback::Completed,
            }),
            Some("https://sqs/1/replies"),
        );
        let json: Value = serde_json::from_str(&notice.to_json()).expect("JSON");
        assert_eq!(json["event"], "finished");
        assert_eq!(json["message_id"], "m-1");
        assert_eq!(json["outcome"], "timed_out");
        assert_eq!(json["success"], false);
        assert_eq!(json["rollback"], "rolled_back");
        assert_eq!(json["duration_ms"], 75_000);
        assert_eq!(json["received_at"], "1970-01-01T00:00:00.000Z");
        assert!(
            json["reason"]
                .as_str()
                .is_some_and(|r| r.contains("2 of 3"))
        );
        assert_eq!(
            json["ecs_said"][0],
            "service web deployment failed: tasks failed to start"
        );
        assert!(
            json.get("reply_to").is_none(),
            "the reply queue is not echoed"
        );
        let back: Notice = serde_json::from_value(json).expect("reads back");
        assert_eq!(back.outcome.as_deref(), Some("timed_out"));
    }

    #[test]
    fn slack_messages_are_escaped_and_colored() {
        let payload = slack_payload(
            &Notice::finished(&report(Outcome::Deployed), None),
            &slack(),
        );
        assert_eq!(payload["channel"], "#deploys");
        assert_eq!(payload["username"], "deployer");
        assert_eq!(payload["attachments"][0]["color"], "good");
        let text = payload.to_string();
        assert!(
            text.contains("https://git.example/c/1?a=&lt;b&gt;&amp;c"),
            "{text}"
        );
        let failed = Notice::finished(
            &report(Outcome::Rejected {
                reason: "bad <body>".into(),
            }),
            None,
        );
        let payload = slack_payload(&failed, &slack());
        assert_eq!(payload["attachments"][0]["color"], "danger");
        assert!(payload.to_string().contains("bad &lt;body&gt;"));
    }

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

    #[test]
    fn sns_subjects_fit_the_limits() {
        let subject = sns_subject(&format!("Deploying {} → x\nnext", "s".repeat(200)));
        assert!(subject.len() <= MAX_SUBJECT);
        assert!(
            subject.chars().all(|c| c.is_ascii_graphic() || c == ' '),
            "{subject}"
        );
    }
}
