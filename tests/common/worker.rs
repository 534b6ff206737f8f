//! The worker under test: in this process through the library's entry point, or as the real binary with
//! its JSON log read line by line; and runs of the binary's other subcommands.

use std::collections::{BTreeMap, HashMap};

use ecs_deployment::ops::metrics::Metrics;
use ecs_deployment::runtime::WorkerError;
use ecs_deployment::{Clients, Config, Report, Shutdown, Stop, StopSender};
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
}

impl RunningWorker {
    /// Waits for `count` reports and gives them by service.
    pub async fn reports_by_service(&mut self, count: usize) -> BTreeMap<String, Report> {
        let mut by_service = BTreeMap::new();
        for _ in 0..count {
            let report = self.next_report().await;
            by_service.insert(report.service.clone(), report);
        }
        by_service
    }

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
