//! The end-to-end harness: moto (SQS) and ecs-sim (ECS, real-time ticks) per test, a deployment queue,
//! services to deploy, and the worker running through the library's entry point.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, HealthCheck,
};
use aws_sdk_sqs::types::{Message, MessageAttributeValue, QueueAttributeName};
use ecs_deployment::ops::metrics::Metrics;
use ecs_deployment::runtime::WorkerError;
use ecs_deployment::{Clients, Config, Report, Shutdown, Stop, StopSender};
use serde_json::{Value, json};
use testbed::TestBed;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Real time per simulated second: a healthy two-task rollout takes about a tenth of a second.
pub const TICK: Duration = Duration::from_millis(10);
/// How long a test waits for a deployment's report before failing.
pub const REPORT_DEADLINE: Duration = Duration::from_secs(60);

/// The emulators, clients for them, and the deployment queue.
pub struct Bed {
    /// moto and ecs-sim.
    pub bed: TestBed,
    /// SQS client for moto.
    pub sqs: aws_sdk_sqs::Client,
    /// ECS client for ecs-sim.
    pub ecs: aws_sdk_ecs::Client,
    /// SNS client for moto.
    pub sns: aws_sdk_sns::Client,
    /// The deployment queue.
    pub queue_url: String,
    /// Its dead-letter queue, when created with one.
    pub dlq_url: Option<String>,
}

/// A worker running in this process.
pub struct RunningWorker {
    /// Each message's report, in order.
    pub reports: mpsc::UnboundedReceiver<Report>,
    /// What the worker counts, as `/metrics` shows it.
    pub metrics: Metrics,
    /// Requests the worker's stop, as a signal would.
    stop: StopSender,
    /// The worker task.
    handle: JoinHandle<Result<Stop, WorkerError>>,
}

impl Bed {
    /// Starts moto and ecs-sim, creates the `default` cluster and a deployment queue (with a dead-letter
    /// queue when `dead_letter_queue`).
    pub async fn start(dead_letter_queue: bool) -> Self {
        let bed = TestBed::start(Some(TICK));
        let sqs = testbed::sqs_client(&bed.moto.endpoint());
        let ecs = testbed::ecs_client(&bed.sim.endpoint());
        let sns = testbed::sns_client(&bed.moto.endpoint());
        ecs.create_cluster()
            .send()
            .await
            .expect("create the default cluster");
        let mut dlq_url = None;
        let mut create = sqs.create_queue().queue_name("deployments");
        if dead_letter_queue {
            let url = sqs
                .create_queue()
                .queue_name("deployments-dlq")
                .send()
                .await
                .expect("create the dead-letter queue")
                .queue_url
                .expect("queue URL");
            let arn = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .expect("dead-letter queue attributes")
                .attributes
                .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
                .expect("dead-letter queue ARN");
            create = create.attributes(
                QueueAttributeName::RedrivePolicy,
                json!({"deadLetterTargetArn": arn, "maxReceiveCount": "5"}).to_string(),
            );
            dlq_url = Some(url);
        }
        let queue_url = create
            .send()
            .await
            .expect("create the deployment queue")
            .queue_url
            .expect("queue URL");
        Self {
            bed,
            sqs,
            ecs,
            sns,
            queue_url,
            dlq_url,
        }
    }

    /// The worker's configuration for this bed: fast polls and the given overrides.
    pub fn config(&self, overrides: &[(&str, &str)]) -> Config {
        let mut vars: HashMap<String, String> = [
            ("SQS_URL", self.queue_url.as_str()),
            ("ECS_POLL_INTERVAL", "50ms"),
            ("ECS_TIMEOUT", "30s"),
            ("SQS_WAIT_TIME", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in overrides {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_vars(vars).expect("valid test configuration")
    }

    /// Starts the worker with `config`.
    pub fn start_worker(&self, config: Config) -> RunningWorker {
        let clients = Clients::from_clients(self.sqs.clone(), self.ecs.clone(), self.sns.clone());
        let metrics = clients.metrics.clone();
        let (report_tx, reports) = mpsc::unbounded_channel();
        let (stop, shutdown) = Shutdown::new();
        let handle = tokio::spawn(async move {
            ecs_deployment::run(&config, clients, shutdown, Some(report_tx)).await
        });
        RunningWorker {
            reports,
            metrics,
            stop,
            handle,
        }
    }

    /// Registers a task definition for `family` whose tasks behave as `behaviour`, with a health check.
    pub async fn register(&self, family: &str, image: &str, behaviour: &str) -> String {
        self.ecs
            .register_task_definition()
            .family(family)
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image(image)
                    .essential(true)
                    .docker_labels("ecs-sim.behaviour", behaviour)
                    .health_check(
                        HealthCheck::builder()
                            .command("CMD-SHELL")
                            .command("true")
                            .build()
                            .expect("health check"),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("register a task definition")
            .task_definition
            .and_then(|d| d.task_definition_arn)
            .expect("task definition ARN")
    }

    /// Creates service `name` on a healthy `name:1` with `desired` tasks; `breaker` is the circuit
    /// breaker's (enable, rollback). Waits until its first rollout completed; returns the task definition.
    pub async fn service(&self, name: &str, desired: i32, breaker: (bool, bool)) -> String {
        let arn = self.register(name, "nginx:1.27", "healthy").await;
        self.ecs
            .create_service()
            .service_name(name)
            .task_definition(&arn)
            .desired_count(desired)
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .maximum_percent(200)
                    .minimum_healthy_percent(100)
                    .deployment_circuit_breaker(
                        DeploymentCircuitBreaker::builder()
                            .enable(breaker.0)
                            .rollback(breaker.1)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("create the service");
        testbed::wait_until("the service's first rollout", REPORT_DEADLINE, || async {
            let service = self.describe(name).await?;
            let done = service.deployments().len() == 1
                && service.deployments()[0].rollout_state().map(|s| s.as_str())
                    == Some("COMPLETED");
            done.then_some(())
        })
        .await;
        arn
    }

    /// The service as ECS describes it, or `None` when missing.
    pub async fn describe(&self, name: &str) -> Option<aws_sdk_ecs::types::Service> {
        self.ecs
            .describe_services()
            .services(name)
            .send()
            .await
            .expect("describe the service")
            .services
            .and_then(|s| s.into_iter().next())
    }

    /// Task definitions of the service's running tasks.
    pub async fn running_task_definitions(&self, name: &str) -> Vec<String> {
        testbed::service_tasks(&self.ecs, name, "RUNNING")
            .await
            .into_iter()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .filter_map(|t| t.task_definition_arn)
            .collect()
    }

    /// A revision's tags read back raw: (the producer's tags, the worker's `ecs-deployment:` marks by key).
    pub fn tags(&self, task_definition: &str) -> (Value, BTreeMap<String, String>) {
        let described = self.bed.sim.call(
            "DescribeTaskDefinition",
            &json!({"taskDefinition": task_definition, "include": ["TAGS"]}),
        );
        let all = described["tags"].as_array().cloned().unwrap_or_default();
        let (marks, producer): (Vec<Value>, Vec<Value>) = all.into_iter().partition(|t| {
            t["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("ecs-deployment:"))
        });
        let marks = marks
            .iter()
            .filter_map(|t| {
                Some((
                    t["key"].as_str()?.to_owned(),
                    t["value"].as_str()?.to_owned(),
                ))
            })
            .collect();
        (Value::Array(producer), marks)
    }

    /// How many ACTIVE revisions the family has, registered by anyone.
    pub fn revisions(&self, family: &str) -> usize {
        let listed = self
            .bed
            .sim
            .call("ListTaskDefinitions", &json!({"familyPrefix": family}));
        listed["taskDefinitionArns"].as_array().map_or(0, Vec::len)
    }

    /// Creates a FIFO queue (`name` ends with `.fifo`) with content-based deduplication; returns its URL.
    pub async fn fifo_queue(&self, name: &str) -> String {
        self.sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
            .send()
            .await
            .expect("create a FIFO queue")
            .queue_url
            .expect("queue URL")
    }

    /// Sends a deployment of `service` to a FIFO queue with `MessageGroupId` = service; returns its id.
    pub async fn send_fifo(&self, url: &str, service: &str, image: &str) -> String {
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(task_definition(service, image, "healthy").to_string())
            .message_group_id(service)
            .message_attributes(
                "service",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(service)
                    .build()
                    .expect("attribute"),
            )
            .send()
            .await
            .expect("send to the FIFO queue")
            .message_id
            .expect("message id")
    }

    /// Sends a message with String attributes; returns its message id.
    pub async fn send(&self, body: &str, attributes: &[(&str, &str)]) -> String {
        let mut send = self
            .sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body);
        for (name, value) in attributes {
            send = send.message_attributes(
                *name,
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(*value)
                    .build()
                    .expect("attribute"),
            );
        }
        send.send()
            .await
            .expect("send a message")
            .message_id
            .expect("message id")
    }

    /// Sends a deployment of service `web` to `image`, whose tasks behave as `behaviour`; returns its id.
    pub async fn send_web(&self, image: &str, behaviour: &str) -> String {
        let body = task_definition("web", image, behaviour).to_string();
        self.send(&body, &[("service", "web")]).await
    }

    /// Waits until service `name` points at `family_revision` (`web:2`).
    pub async fn wait_for_task_definition(&self, name: &str, family_revision: &str) {
        testbed::wait_until(
            &format!("{name} on {family_revision}"),
            REPORT_DEADLINE,
            || async {
                let td = self.describe(name).await?.task_definition?;
                (short(&td) == family_revision).then_some(())
            },
        )
        .await;
    }

    /// (visible, in flight) messages of a queue.
    pub async fn counts(&self, url: &str) -> (u64, u64) {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        let count = |name| {
            attrs
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(u64::MAX)
        };
        (
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Asserts that the deployment queue holds no message, visible or in flight.
    pub async fn assert_queue_empty(&self) {
        assert_eq!(
            self.counts(&self.queue_url).await,
            (0, 0),
            "the deployment queue should be empty"
        );
    }

    /// Receives every message now on the dead-letter queue (they stay hidden for a minute).
    pub async fn dead_letters(&self, expected: usize) -> Vec<Message> {
        let url = self.dlq_url.clone().expect("a dead-letter queue");
        self.receive_all(&url, expected).await
    }

    /// Receives `expected` messages from `url`, waiting up to [`REPORT_DEADLINE`] (they stay hidden for a
    /// minute).
    pub async fn receive_all(&self, url: &str, expected: usize) -> Vec<Message> {
        let mut messages = Vec::new();
        let deadline = tokio::time::Instant::now() + REPORT_DEADLINE;
        while messages.len() < expected {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {expected} messages arrived on {url}",
                messages.len()
            );
            let out = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .wait_time_seconds(1)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive messages");
            messages.extend(out.messages.unwrap_or_default());
        }
        messages
    }

    /// Creates a standard queue; returns its URL.
    pub async fn queue(&self, name: &str) -> String {
        self.sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create a queue")
            .queue_url
            .expect("queue URL")
    }

    /// Creates an SNS topic (FIFO when its name ends in `.fifo`) and a queue subscribed to it with raw
    /// delivery, so each message's body is what was published; returns (topic ARN, queue URL).
    pub async fn sns_inbox(&self, topic: &str) -> (String, String) {
        let fifo = topic.ends_with(".fifo");
        let mut create = self.sns.create_topic().name(topic);
        if fifo {
            create = create.attributes("FifoTopic", "true");
        }
        let topic_arn = create
            .send()
            .await
            .expect("create a topic")
            .topic_arn
            .expect("topic ARN");
        let inbox = if fifo {
            self.fifo_queue("sns-inbox.fifo").await
        } else {
            self.queue("sns-inbox").await
        };
        self.sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(self.queue_arn(&inbox).await)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .expect("subscribe the inbox");
        (topic_arn, inbox)
    }

    /// The queue's ARN.
    pub async fn queue_arn(&self, url: &str) -> String {
        self.sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("queue ARN")
    }

    /// Runs the binary with `args` against the bed (SQS_URL set to the deployment queue), feeding `stdin`.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> CliRun {
        let mut env = self.bed.env();
        env.push(("SQS_URL", self.queue_url.clone()));
        cli(env, args, stdin).await
    }
}

/// What a run of the binary printed, and how it exited.
#[derive(Debug)]
pub struct CliRun {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the binary with exactly `env` (plus PATH) and `args`, feeding `stdin`; off the async threads.
pub async fn cli(env: Vec<(&'static str, String)>, args: &[&str], stdin: Option<&str>) -> CliRun {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-deployment"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the binary");
        if let Some(mut pipe) = child.stdin.take() {
            pipe.write_all(stdin.unwrap_or_default().as_bytes())
                .expect("write stdin");
        }
        let out = child.wait_with_output().expect("the binary runs");
        CliRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("the binary's runner did not panic")
}

/// A local HTTP receiver standing in for a Slack webhook: records every JSON body posted to it, and
/// answers only once it is open.
pub struct HttpReceiver {
    /// Its URL.
    pub url: String,
    /// The bodies received so far.
    pub bodies: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    /// Whether requests are answered.
    open: tokio::sync::watch::Sender<bool>,
    /// The server.
    task: JoinHandle<()>,
}

impl HttpReceiver {
    /// Starts on a free loopback port; `open`: answer at once, otherwise hold every request until
    /// [`HttpReceiver::open`].
    pub async fn start(open: bool) -> Self {
        use axum::extract::State;
        type Shared = (
            std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
            tokio::sync::watch::Receiver<bool>,
        );
        async fn post(State((bodies, mut open)): State<Shared>, body: String) -> &'static str {
            let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
            bodies.lock().expect("bodies").push(value);
            let _ = open.wait_for(|o| *o).await;
            "ok"
        }
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (open_tx, open_rx) = tokio::sync::watch::channel(open);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a receiver");
        let url = format!(
            "http://{}/services/T000/B000/hook",
            listener.local_addr().expect("address")
        );
        let app = axum::Router::new()
            .route("/services/T000/B000/hook", axum::routing::post(post))
            .with_state((bodies.clone(), open_rx));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            bodies,
            open: open_tx,
            task,
        }
    }

    /// Answers held and later requests.
    pub fn open(&self) {
        let _ = self.open.send(true);
    }

    /// Waits until `count` bodies arrived; returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        testbed::wait_until("webhook posts", REPORT_DEADLINE, || async {
            let bodies = self.bodies.lock().expect("bodies").clone();
            (bodies.len() >= count).then_some(bodies)
        })
        .await
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningWorker {
    /// The next report, waiting up to [`REPORT_DEADLINE`].
    pub async fn next_report(&mut self) -> Report {
        tokio::time::timeout(REPORT_DEADLINE, self.reports.recv())
            .await
            .unwrap_or_else(|_| panic!("no deployment report within {REPORT_DEADLINE:?}"))
            .expect("the worker stopped before reporting")
    }

    /// Asks the worker to stop and waits until it did; panics if it failed or did not stop gracefully.
    pub async fn stop(self) {
        self.stop.request();
        let stopped = tokio::time::timeout(REPORT_DEADLINE, self.handle)
            .await
            .expect("the worker stops")
            .expect("the worker task did not panic")
            .expect("the worker ended without error");
        assert_eq!(stopped, Stop::Graceful);
    }
}

/// The real binary, with JSON logs read line by line; killed on drop.
pub struct WorkerProcess {
    /// The `ecs-deployment` process.
    child: Child,
    /// Its stderr lines as they come.
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far, parsed.
    pub log: Vec<Value>,
}

impl WorkerProcess {
    /// Starts the binary against the bed: fast polls, JSON logs, and the given overrides.
    pub fn start(bed: &Bed, overrides: &[(&str, &str)]) -> Self {
        let mut env: HashMap<String, String> = bed
            .bed
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        for (k, v) in [
            ("SQS_URL", bed.queue_url.as_str()),
            ("ECS_POLL_INTERVAL", "50ms"),
            ("ECS_TIMEOUT", "30s"),
            ("SQS_WAIT_TIME", "1"),
            ("LOG_FORMAT", "json"),
        ]
        .into_iter()
        .chain(overrides.iter().copied())
        {
            env.insert(k.to_owned(), v.to_owned());
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-deployment"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&env)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the worker");
        let (tx, lines) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Reads the log until a line with this `message` (and matching `also`) appears; returns it.
    pub fn wait_for(&mut self, message: &str, also: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + REPORT_DEADLINE;
        if let Some(found) = self.log.iter().find(|l| l["message"] == message && also(l)) {
            return found.clone();
        }
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = self.lines.recv_timeout(remaining) else {
                panic!(
                    "no '{message}' line within {REPORT_DEADLINE:?}; the log:\n{}",
                    self.log_text()
                );
            };
            let entry: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            self.log.push(entry.clone());
            if entry["message"] == message && also(&entry) {
                return entry;
            }
        }
    }

    /// Lines read so far with this `message`.
    pub fn lines_with(&self, message: &str) -> Vec<&Value> {
        self.log
            .iter()
            .filter(|l| l["message"] == message)
            .collect()
    }

    /// The log read so far, one line per entry.
    pub fn log_text(&self) -> String {
        self.log
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{name}");
    }

    /// Waits for the process to exit and gives its exit code (`None` when killed by a signal).
    pub fn wait_exit(&mut self) -> Option<i32> {
        let status = testbed::wait_until_blocking("the worker to exit", REPORT_DEADLINE, || {
            self.child.try_wait().ok().flatten()
        });
        // Drain what it wrote before exiting.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            if let Ok(entry) = serde_json::from_str(&line) {
                self.log.push(entry);
            }
        }
        status.code()
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A task definition body as a producer sends it: one container whose tasks behave as `behaviour`.
pub fn task_definition(family: &str, image: &str, behaviour: &str) -> Value {
    json!({
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "app",
            "image": image,
            "essential": true,
            "dockerLabels": {"ecs-sim.behaviour": behaviour},
            "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5}
        }]
    })
}

/// `family:revision` of a task definition ARN.
pub fn short(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, name)| name)
}
