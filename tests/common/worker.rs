//! The worker under test: in this process through the library's entry point, or as the real binary with
//! its JSON log read line by line; and runs of the binary's other subcommands.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ecs_deployment::ops::metrics::Metrics;
use ecs_deployment::runtime::WorkerError;
use ecs_deployment::{Clients, Config, Report, Shutdown, Stop, StopSender};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Bed, Proxy, REPORT_DEADLINE};

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
    /// The worker's configuration for this bed: fast polls and the given overrides.
    pub fn config(&self, overrides: &[(&str, &str)]) -> Config {
        let mut vars: HashMap<String, String> = [
            ("SQS_URL", self.queue_url.as_str()),
            ("ECS_POLL_INTERVAL", "50ms"),
            ("ECS_TIMEOUT", "30s"),
            ("SQS_WAIT_TIME", "1"),
            // ecs-sim's time runs faster than real time: no limits in real time unless a test asks.
            ("ECS_API_LIMITS", "none"),
            // ecs-sim's behaviour label (`dockerLabels`) is how a test makes a rollout crash.
            ("ALLOWED_PRIVILEGES", "labels"),
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
        self.start_worker_with_sts(config, testbed::sts_client(&self.bed.moto.endpoint()))
    }

    /// An STS client that calls as the role `name` (moto hands out its credentials without checking).
    pub async fn sts_as_role(&self, name: &str) -> aws_sdk_sts::Client {
        let endpoint = self.bed.moto.endpoint();
        let assumed = testbed::sts_client(&endpoint)
            .assume_role()
            .role_arn(format!("arn:aws:iam::123456789012:role/{name}"))
            .role_session_name("worker")
            .send()
            .await
            .expect("assume the role")
            .credentials
            .expect("credentials");
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                assumed.access_key_id(),
                assumed.secret_access_key(),
                Some(assumed.session_token().to_owned()),
                None,
                "assumed",
            ))
            .endpoint_url(endpoint)
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    /// Starts the worker with `config`, learning who it is through `sts`.
    pub fn start_worker_with_sts(&self, config: Config, sts: aws_sdk_sts::Client) -> RunningWorker {
        self.start_worker_with(config, self.sqs.clone(), self.ecs.clone(), sts)
    }

    /// Starts the worker with `config`, reaching SQS through `proxy`.
    pub fn start_worker_through(&self, config: Config, proxy: &Proxy) -> RunningWorker {
        self.start_worker_with(
            config,
            testbed::sqs_client(&proxy.url),
            self.ecs.clone(),
            testbed::sts_client(&self.bed.moto.endpoint()),
        )
    }

    /// Starts the worker with `config`, reaching ECS through `proxy`.
    pub fn start_worker_with_ecs_through(&self, config: Config, proxy: &Proxy) -> RunningWorker {
        self.start_worker_with(
            config,
            self.sqs.clone(),
            testbed::ecs_client(&proxy.url),
            testbed::sts_client(&self.bed.moto.endpoint()),
        )
    }

    /// Starts the worker with `config`, its pre-flight lookups going through `proxy`.
    pub fn start_worker_with_lookups_through(
        &self,
        config: Config,
        proxy: &Proxy,
    ) -> RunningWorker {
        self.start_worker_with_lookups(
            config,
            (self.sqs.clone(), self.ecs.clone()),
            testbed::sts_client(&self.bed.moto.endpoint()),
            lookups(&proxy.url),
        )
    }

    fn start_worker_with(
        &self,
        config: Config,
        sqs: aws_sdk_sqs::Client,
        ecs: aws_sdk_ecs::Client,
        sts: aws_sdk_sts::Client,
    ) -> RunningWorker {
        let lookups = lookups(&self.bed.moto.endpoint());
        self.start_worker_with_lookups(config, (sqs, ecs), sts, lookups)
    }

    fn start_worker_with_lookups(
        &self,
        config: Config,
        (sqs, ecs): (aws_sdk_sqs::Client, aws_sdk_ecs::Client),
        sts: aws_sdk_sts::Client,
        lookups: ecs_deployment::aws::lookups::Lookups,
    ) -> RunningWorker {
        let clients = Clients::from_clients(sqs, ecs, self.sns.clone(), sts, lookups);
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

    /// Runs the binary with `args` against the bed (SQS_URL set to the deployment queue), feeding `stdin`.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> CliRun {
        let mut env = self.bed.env();
        env.push(("SQS_URL", self.queue_url.clone()));
        cli(env, args, stdin).await
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

/// The pre-flight checks' clients, all pointed at moto's server at `endpoint`.
pub fn lookups(endpoint: &str) -> ecs_deployment::aws::lookups::Lookups {
    ecs_deployment::aws::lookups::Lookups {
        ecr: testbed::ecr_client(endpoint),
        iam: testbed::iam_client(endpoint),
        ssm: testbed::ssm_client(endpoint),
        secrets: testbed::secrets_client(endpoint),
        logs: testbed::logs_client(endpoint),
    }
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

    /// The process's resident memory in KiB, as Linux reports it (`VmRSS` of `/proc/PID/status`).
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the worker's /proc status (Linux)");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// For a worker started with `LOG_FORMAT=text`: reads its raw lines until `count` of them contain
    /// `needle`, and returns every line read.
    pub fn raw_lines_until(&mut self, needle: &str, count: usize) -> Vec<String> {
        let mut lines = Vec::new();
        while lines
            .iter()
            .filter(|l: &&String| l.contains(needle))
            .count()
            < count
        {
            let Ok(line) = self.lines.recv_timeout(REPORT_DEADLINE) else {
                panic!(
                    "fewer than {count} lines with '{needle}', and no line for {REPORT_DEADLINE:?}:\n{}",
                    lines.join("\n")
                );
            };
            lines.push(line);
        }
        lines
    }

    /// Reads the log until `count` lines with this `message` have appeared; fails when the log is silent
    /// for as long as a report may take.
    pub fn wait_count(&mut self, message: &str, count: usize) {
        while self.lines_with(message).len() < count {
            let Ok(line) = self.lines.recv_timeout(REPORT_DEADLINE) else {
                panic!(
                    "{} '{message}' lines of {count}, and no line for {REPORT_DEADLINE:?}",
                    self.lines_with(message).len()
                );
            };
            let entry: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            self.log.push(entry);
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
