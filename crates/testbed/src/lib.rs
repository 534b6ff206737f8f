//! Test support: starts moto's server (SQS) and ecs-sim (ECS) on free loopback ports for one test, gives the
//! test their endpoints and clients, and stops them when the test ends, also when it panics.
//!
//! - [`Moto`]: moto's server as a child process, from the project's `.venv/` (made by `scripts/setup-venv.sh`),
//!   through `scripts/moto-server.py`, which makes SQS ReceiveMessage faithful for several receivers.
//! - [`Sim`]: an in-process [`ecs_sim::SimServer`] plus its `/_sim/` control API.
//! - [`TestBed`]: both, for tests of the worker.
//! - [`aws_cli`], [`ecs_client`], [`sqs_client`], [`ecr_client`]: clients that talk only to the emulators;
//!   [`push_image`] and [`move_tag`] put images in moto's ECR.
//! - [`wait_until`]: waits on a condition with a deadline instead of sleeping.
//!
//! Nothing is shared between tests: every test gets its own processes and ports, so tests run in parallel.
//! A missing `.venv` fails the test with the command that sets it up; nothing is ever skipped silently.

use std::future::Future;
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;

/// The region every client and emulator uses.
pub const REGION: &str = "us-east-1";
/// The account id ecs-sim puts in ARNs (moto's default too).
pub const ACCOUNT_ID: &str = "123456789012";
/// How long an emulator may take to answer after it was started.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// The workspace root (where `.venv/` lives).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// A program installed in the project's `.venv/bin`; panics with the set-up command when it is missing.
pub fn venv_bin(program: &str) -> PathBuf {
    let path = workspace_root().join(".venv/bin").join(program);
    assert!(
        path.is_file(),
        "{} is missing: the integration tests need moto's server and the aws CLI in .venv/. \
         Run `make setup` (or `scripts/setup-venv.sh`) in {}, or `make test`, which does it first.",
        path.display(),
        workspace_root().display()
    );
    path
}

/// A free TCP port on 127.0.0.1 (free when asked; the caller retries if something takes it meanwhile).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener
        .local_addr()
        .expect("local address of a bound socket")
        .port()
}

/// Waits until `ready` returns `Some`, checking every 20 ms, and panics naming `what` at the deadline.
pub fn wait_until_blocking<T>(
    what: &str,
    deadline: Duration,
    mut ready: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `ready` resolves to `Some`, checking every 20 ms, and panics naming `what` at the deadline.
pub async fn wait_until<T, F, Fut>(what: &str, deadline: Duration, mut ready: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = ready().await {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// moto's server on a free loopback port, stopped (and its log removed) on drop.
pub struct Moto {
    /// The moto server process (`scripts/moto-server.py`).
    child: Child,
    /// The port it listens on.
    port: u16,
    /// Where its output goes, shown when it fails to start.
    log: PathBuf,
}

impl Moto {
    /// Starts moto's server and waits until it answers HTTP.
    pub fn start() -> Self {
        let mut last_log = String::new();
        // Another process can take the free port between choosing and binding it: try a few.
        for _ in 0..5 {
            let port = free_port();
            match Self::start_on(port) {
                Ok(moto) => return moto,
                Err(log) => last_log = log,
            }
        }
        panic!("moto's server did not start; its last output:\n{last_log}");
    }

    /// Starts moto's server on a given port (to bring it back on the same port after [`Moto::stop`]).
    pub fn start_on_port(port: u16) -> Self {
        Self::start_on(port)
            .unwrap_or_else(|log| panic!("moto's server did not start on port {port}:\n{log}"))
    }

    fn start_on(port: u16) -> Result<Self, String> {
        let python = venv_bin("python");
        let launcher = workspace_root().join("scripts/moto-server.py");
        static STARTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = std::env::temp_dir().join(format!(
            "testbed-moto-{}-{port}-{n}.log",
            std::process::id()
        ));
        let output =
            std::fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let errors = output.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(&python);
        command
            .arg(&launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors);
        die_with_parent(&mut command);
        let child = command
            .spawn()
            .map_err(|e| format!("spawn {} {}: {e}", python.display(), launcher.display()))?;
        let mut moto = Self { child, port, log };
        let start = Instant::now();
        loop {
            if http_get(&format!("{}/moto-api/", moto.endpoint())).is_ok() {
                return Ok(moto);
            }
            let exited = matches!(moto.child.try_wait(), Ok(Some(_)));
            if exited || start.elapsed() > STARTUP_DEADLINE {
                return Err(moto.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its endpoint URL, for `AWS_ENDPOINT_URL_SQS` or `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of moto's server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it now (an outage); all its queues are gone, as with a restarted emulator.
    pub fn stop(self) {}

    /// Stops it in place (an outage): connections are refused until [`Moto::start_again`].
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port after [`Moto::kill`]; it comes back empty, as a restarted
    /// emulator does.
    pub fn start_again(&mut self) {
        self.kill();
        let mut again = Self::start_on_port(self.port);
        std::mem::swap(self, &mut again);
    }

    fn output(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Makes the child get SIGKILL when the thread that started it ends, so a test process killed by its
/// runner leaves no emulator behind.
fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches only the calling (child) process.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

fn http_get(url: &str) -> Result<String, ureq::Error> {
    ureq::get(url).call()?.body_mut().read_to_string()
}

/// ecs-sim in this process on a free loopback port, with its control API; stopped on drop.
pub struct Sim {
    /// The running simulator.
    server: ecs_sim::SimServer,
}

impl Sim {
    /// Starts ecs-sim with `tick` of real time per simulated second (`None`: time moves only by
    /// [`Sim::advance`], for tests that step through a rollout).
    pub fn start(tick: Option<Duration>) -> Self {
        let config = ecs_sim::Config {
            tick,
            ..ecs_sim::Config::default()
        };
        let server = ecs_sim::SimServer::start(config).expect("start ecs-sim on a loopback port");
        let sim = Self { server };
        wait_until_blocking("ecs-sim to answer", STARTUP_DEADLINE, || {
            http_get(&sim.url("/_sim/health")).ok()
        });
        sim
    }

    /// Its endpoint URL, for `AWS_ENDPOINT_URL_ECS` or `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint())
    }

    fn control(&self, path: &str, body: Value) -> Value {
        let mut response = ureq::post(&self.url(path))
            .send_json(&body)
            .unwrap_or_else(|e| panic!("ecs-sim control call {path} {body} failed: {e}"));
        if response.status() == 204 {
            return Value::Null;
        }
        response
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("ecs-sim control call {path} answered no JSON: {e}"))
    }

    /// Calls an ECS operation with a raw AWS JSON 1.1 body and returns the raw answer, bypassing any SDK's
    /// model (which would drop members it does not know); panics when the call fails.
    pub fn call(&self, operation: &str, body: &Value) -> Value {
        ureq::post(&self.endpoint())
            .header(
                "X-Amz-Target",
                &format!("AmazonEC2ContainerServiceV20141113.{operation}"),
            )
            .header("Content-Type", "application/x-amz-json-1.1")
            .send(body.to_string())
            .and_then(|mut r| r.body_mut().read_json())
            .unwrap_or_else(|e| panic!("{operation} failed: {e}"))
    }

    /// Calls an ECS operation as [`Sim::call`] does; an error answer is given back as its body.
    pub fn try_call(&self, operation: &str, body: &Value) -> Result<Value, Value> {
        let mut response = ureq::post(&self.endpoint())
            .config()
            .http_status_as_error(false)
            .build()
            .header(
                "X-Amz-Target",
                &format!("AmazonEC2ContainerServiceV20141113.{operation}"),
            )
            .header("Content-Type", "application/x-amz-json-1.1")
            .send(body.to_string())
            .unwrap_or_else(|e| panic!("{operation} could not be sent: {e}"));
        let ok = response.status().is_success();
        let answer: Value = response
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("{operation} answered no JSON: {e}"));
        if ok { Ok(answer) } else { Err(answer) }
    }

    /// Installs a fault, as `POST /_sim/faults` takes it, e.g.
    /// `{"operation": "UpdateService", "kind": "throttle", "count": 2}`.
    pub fn inject_fault(&self, fault: Value) {
        self.control("/_sim/faults", fault);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        ureq::delete(&self.url("/_sim/faults"))
            .call()
            .unwrap_or_else(|e| panic!("ecs-sim DELETE /_sim/faults failed: {e}"));
    }

    /// Calls received per operation: `{"calls": {"DescribeServices": 3, ...}, "total": N, "faulted": {...}}`.
    pub fn stats(&self) -> Value {
        ureq::get(&self.url("/_sim/stats"))
            .call()
            .and_then(|mut r| r.body_mut().read_json())
            .unwrap_or_else(|e| panic!("ecs-sim GET /_sim/stats failed: {e}"))
    }

    /// Zeroes the call counts.
    pub fn reset_stats(&self) {
        ureq::delete(&self.url("/_sim/stats"))
            .call()
            .unwrap_or_else(|e| panic!("ecs-sim DELETE /_sim/stats failed: {e}"));
    }

    /// Calls received of one operation.
    pub fn calls(&self, operation: &str) -> u64 {
        self.stats()["calls"][operation].as_u64().unwrap_or(0)
    }

    /// Deletes a service behind the worker's back: DRAINING then INACTIVE, or MISSING with `purge`.
    pub fn delete_service(&self, cluster: &str, service: &str, purge: bool) {
        self.control(
            "/_sim/services/delete",
            serde_json::json!({"cluster": cluster, "service": service, "purge": purge}),
        );
    }

    /// Makes reads eventually consistent: DescribeServices, ListTasks and DescribeTasks see the state of up
    /// to `max_lag_seconds` simulated seconds ago, each read's lag drawn from `seed` (0 turns it off).
    pub fn stale_reads(&self, max_lag_seconds: u64, seed: u64) {
        self.control(
            "/_sim/stale-reads",
            serde_json::json!({"maxLagSeconds": max_lag_seconds, "seed": seed}),
        );
    }

    /// Sets a CloudWatch alarm's state: `ALARM` or `OK`.
    pub fn set_alarm(&self, name: &str, state: &str) {
        self.control(
            "/_sim/alarms",
            serde_json::json!({"name": name, "state": state}),
        );
    }

    /// Makes the Lambda function `arn` answer the lifecycle hooks that invoke it with `result`
    /// (`SUCCEEDED`, `FAILED` or `IN_PROGRESS`).
    pub fn set_lambda(&self, arn: &str, result: &str) {
        self.control(
            "/_sim/lambda",
            serde_json::json!({"functionArn": arn, "result": result}),
        );
    }

    /// Makes ecs-sim ask the ECR endpoint `endpoint` (moto's) for the digests of ECR images' tags, as ECS
    /// asks ECR when a deployment or task starts.
    pub fn use_ecr(&self, endpoint: &str) {
        self.control(
            "/_sim/registry",
            serde_json::json!({"ecrEndpoint": endpoint}),
        );
    }

    /// Turns ECS's API rate limits on (AWS's buckets with `overrides`, as `{"service-read": {"burst": 200,
    /// "rate": 40}}`), or off with `None`.
    pub fn api_limits(&self, overrides: Option<Value>) {
        let body = match overrides {
            Some(overrides) => serde_json::json!({"limits": "aws", "overrides": overrides}),
            None => serde_json::json!({"limits": "none"}),
        };
        self.control("/_sim/api-limits", body);
    }

    /// Runs `seconds` simulated seconds at once; returns the simulated clock.
    pub fn advance(&self, seconds: u64) -> u64 {
        self.control("/_sim/advance", serde_json::json!({"seconds": seconds}))["now"]
            .as_u64()
            .unwrap_or(0)
    }
}

/// moto for SQS and ecs-sim for ECS, for one test.
pub struct TestBed {
    /// SQS (and SNS) emulator.
    pub moto: Moto,
    /// ECS simulator.
    pub sim: Sim,
}

impl TestBed {
    /// Starts both; ecs-sim with `tick` per simulated second.
    pub fn start(tick: Option<Duration>) -> Self {
        Self {
            moto: Moto::start(),
            sim: Sim::start(tick),
        }
    }

    /// Environment for a process under test (the worker, the `aws` CLI): the emulators' endpoints, the
    /// region and dummy credentials, and nothing from the developer's own AWS configuration.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = isolated_aws_env();
        env.push(("AWS_ENDPOINT_URL_SQS", self.moto.endpoint()));
        env.push(("AWS_ENDPOINT_URL_SNS", self.moto.endpoint()));
        env.push(("AWS_ENDPOINT_URL_STS", self.moto.endpoint()));
        for variable in MOTO_SERVED {
            env.push((variable, self.moto.endpoint()));
        }
        env.push(("AWS_ENDPOINT_URL_ECS", self.sim.endpoint()));
        // ecs-sim has no rate limits unless a test turns them on, and its time runs faster than the
        // worker's: the worker keeps to none either, unless the test gives it limits in the sim's pace.
        env.push(("ECS_API_LIMITS", "none".to_owned()));
        // ecs-sim's behaviour label (`dockerLabels`) is how a test makes a rollout crash; labels are what
        // a service may do, so the worker under test allows that group to change.
        env.push(("ALLOWED_PRIVILEGES", "labels".to_owned()));
        env
    }
}

/// The endpoint variables of the services moto serves for the worker's checks, beside SQS, SNS and STS.
const MOTO_SERVED: [&str; 5] = [
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
];

/// Region, dummy credentials and empty AWS config files, so nothing reaches a real account.
pub fn isolated_aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_DEFAULT_REGION", REGION.to_owned()),
        ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_PAGER", String::new()),
    ]
}

/// Variables of the developer's environment that would point a child at a real account or endpoint.
const INHERITED_AWS_VARS: [&str; 13] = [
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_ENDPOINT_URL_ECS",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

/// The real `aws` CLI from `.venv/`, isolated from the developer's AWS configuration; add
/// `--endpoint-url` for the emulator it should talk to.
pub fn aws_cli() -> Command {
    let mut command = Command::new(venv_bin("aws"));
    for var in INHERITED_AWS_VARS {
        command.env_remove(var);
    }
    command.envs(isolated_aws_env()).stdin(Stdio::null());
    command
}

/// Runs the `aws` CLI against `endpoint` with `args` and returns its parsed JSON output; panics with its
/// stderr when it fails.
pub fn aws_json(endpoint: &str, args: &[&str]) -> Value {
    let output = aws_cli()
        .arg("--endpoint-url")
        .arg(endpoint)
        .args(["--output", "json"])
        .args(args)
        .output()
        .expect("run the aws CLI");
    assert!(
        output.status.success(),
        "aws {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("aws {} printed no JSON: {e}", args.join(" ")))
}

/// An aws-sdk-ecs config builder for `endpoint` with the test region and credentials; adjust (retries,
/// timeouts) and build.
pub fn ecs_config(endpoint: &str) -> aws_sdk_ecs::config::Builder {
    aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing", "testing", None, None, "testbed",
        ))
        .endpoint_url(endpoint)
}

/// The service's tasks with the given desired status (`RUNNING`, `STOPPED`), described; first page only,
/// which holds up to 100 tasks.
pub async fn service_tasks(
    ecs: &aws_sdk_ecs::Client,
    service: &str,
    desired_status: &str,
) -> Vec<aws_sdk_ecs::types::Task> {
    let arns = ecs
        .list_tasks()
        .service_name(service)
        .desired_status(desired_status.into())
        .send()
        .await
        .expect("list tasks")
        .task_arns
        .unwrap_or_default();
    if arns.is_empty() {
        return Vec::new();
    }
    ecs.describe_tasks()
        .set_tasks(Some(arns))
        .send()
        .await
        .expect("describe tasks")
        .tasks
        .unwrap_or_default()
}

/// An ECS client for `endpoint` with the SDK's default retries.
pub fn ecs_client(endpoint: &str) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::from_conf(ecs_config(endpoint).build())
}

/// An SQS client for `endpoint` with the SDK's default retries.
pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "testbed",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// An STS client for `endpoint` (moto serves STS beside SQS) with the SDK's default retries.
pub fn sts_client(endpoint: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "testing", "testing", None, None, "testbed",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// An SNS client for `endpoint` (moto serves SNS beside SQS) with the SDK's default retries.
pub fn sns_client(endpoint: &str) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .region(aws_sdk_sns::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "testing", "testing", None, None, "testbed",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// A client of the SDK crate `$sdk` for `$endpoint`, with the test region and credentials and the SDK's
/// default retries.
macro_rules! client_for {
    ($sdk:ident, $endpoint:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new(REGION))
                .credentials_provider($sdk::config::Credentials::new(
                    "testing", "testing", None, None, "testbed",
                ))
                .endpoint_url($endpoint)
                .build(),
        )
    };
}

/// An ECR client for `endpoint` (moto serves ECR beside SQS).
pub fn ecr_client(endpoint: &str) -> aws_sdk_ecr::Client {
    client_for!(aws_sdk_ecr, endpoint)
}

/// An IAM client for `endpoint` (moto's).
pub fn iam_client(endpoint: &str) -> aws_sdk_iam::Client {
    client_for!(aws_sdk_iam, endpoint)
}

/// An SSM client for `endpoint` (moto's).
pub fn ssm_client(endpoint: &str) -> aws_sdk_ssm::Client {
    client_for!(aws_sdk_ssm, endpoint)
}

/// A Secrets Manager client for `endpoint` (moto's).
pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    client_for!(aws_sdk_secretsmanager, endpoint)
}

/// A CloudWatch Logs client for `endpoint` (moto's).
pub fn logs_client(endpoint: &str) -> aws_sdk_cloudwatchlogs::Client {
    client_for!(aws_sdk_cloudwatchlogs, endpoint)
}

/// The image `repository:tag` in the test account's ECR registry, as a task definition names it.
pub fn ecr_image(repository: &str, tag: &str) -> String {
    format!("{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{repository}:{tag}")
}

/// Pushes an image whose one layer is `content` to `repository` (created if missing) as `tag`, and returns
/// its digest. Different contents give different digests.
pub async fn push_image(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
    content: &str,
) -> String {
    let created = ecr
        .create_repository()
        .repository_name(repository)
        .send()
        .await;
    if let Err(e) = created {
        let exists = e
            .as_service_error()
            .is_some_and(|e| e.is_repository_already_exists_exception());
        assert!(exists, "create ECR repository {repository}: {e:?}");
    }
    let layer: String = content
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(64)
        .map(|b| format!("{:x}", b % 16))
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1,
            "digest": format!("sha256:{layer}"),
        },
        "layers": [{
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": content.len(),
            "digest": format!("sha256:{layer}"),
        }],
    });
    put_manifest(ecr, repository, tag, &manifest.to_string()).await
}

/// Points `tag` of `repository` at the image `to` (another tag) points to, as `docker tag` and
/// `docker push` would; returns the digest.
pub async fn move_tag(ecr: &aws_sdk_ecr::Client, repository: &str, tag: &str, to: &str) -> String {
    let image = ecr
        .batch_get_image()
        .repository_name(repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(to)
                .build(),
        )
        .send()
        .await
        .expect("batch get image");
    let manifest = image
        .images()
        .first()
        .and_then(|i| i.image_manifest())
        .unwrap_or_else(|| panic!("{repository}:{to} is not in ECR"))
        .to_owned();
    put_manifest(ecr, repository, tag, &manifest).await
}

/// Deletes `tag` from `repository`, as `aws ecr batch-delete-image` would: a pull by it fails after.
pub async fn delete_tag(ecr: &aws_sdk_ecr::Client, repository: &str, tag: &str) {
    ecr.batch_delete_image()
        .repository_name(repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(tag)
                .build(),
        )
        .send()
        .await
        .expect("delete the tag");
}

async fn put_manifest(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
    manifest: &str,
) -> String {
    ecr.put_image()
        .repository_name(repository)
        .image_tag(tag)
        .image_manifest(manifest)
        .send()
        .await
        .expect("put image")
        .image()
        .and_then(|i| i.image_id())
        .and_then(|id| id.image_digest())
        .expect("put image answers a digest")
        .to_owned()
}
