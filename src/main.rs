//! The `ecs-deployment` binary: with no arguments (or `run`) it runs the worker, configured from the
//! environment, as a container entrypoint.

use std::io::IsTerminal;
use std::process::ExitCode;

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use clap::{Parser, Subcommand};
use ecs_deployment::config::{Config, LogFormat};
use ecs_deployment::{Clients, Shutdown, Stop, StopSender, run};
use tracing_subscriber::EnvFilter;

/// How long connecting to an AWS endpoint may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much longer than the long-poll wait one attempt of an AWS call may take.
const ATTEMPT_MARGIN: Duration = Duration::from_secs(20);

/// Exit code for a missing or invalid setting, before any AWS call.
const EXIT_CONFIG: u8 = 2;
/// Exit code for a failure retrying cannot fix (the queue does not exist).
const EXIT_FAILURE: u8 = 1;
/// Exit code after a second stop signal: unsettled messages were left to reappear (128 + SIGINT).
const EXIT_FORCED: u8 = 130;

/// Deploys Amazon ECS services from an Amazon SQS queue.
///
/// Configuration comes from the environment: SQS_URL (required), ECS_CLUSTER (default `default`),
/// ECS_TIMEOUT (300s), ECS_POLL_INTERVAL (5s), SQS_WAIT_TIME (20s), SQS_VISIBILITY_TIMEOUT (60s),
/// ROLLBACK_ON_FAILURE (true), CONCURRENCY (10), SHUTDOWN_GRACE (25s), LOG_FORMAT (text), RUST_LOG (info). AWS settings come from the SDK's
/// standard chain. README.md documents each.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// What to do; without one, the worker runs.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the worker: receive deployment messages and roll them out (the default).
    Run,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => run_worker(),
    }
}

fn run_worker() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ecs-deployment: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Err(e) = init_logging(config.log_format) {
        eprintln!("ecs-deployment: RUST_LOG: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ecs-deployment: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    runtime.block_on(async {
        // Listening from the start: a stop requested while the worker starts up is a graceful one.
        let (stop, shutdown) = Shutdown::new();
        tokio::spawn(forward_signals(stop));
        // No AWS call may hang the worker: each attempt gets the long-poll wait plus a margin.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(config.wait_time + ATTEMPT_MARGIN)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts);
        if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
            // Profiles and instance metadata may still give a region; the queue URL's is the fallback.
            if let Some(region) = config.queue_region() {
                loader = loader.region(
                    aws_config::meta::region::RegionProviderChain::default_provider().or_else(Region::new(region)),
                );
            }
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            eprintln!(
                "ecs-deployment: AWS_REGION: is not set, and SQS_URL names no region; set AWS_REGION or a profile's region"
            );
            return ExitCode::from(EXIT_CONFIG);
        }
        let clients = Clients {
            sqs: aws_sdk_sqs::Client::new(&sdk),
            ecs: aws_sdk_ecs::Client::new(&sdk),
        };
        match run(&config, clients, shutdown, None).await {
            Ok(Stop::Graceful) => ExitCode::SUCCESS,
            Ok(Stop::Forced) => ExitCode::from(EXIT_FORCED),
            Err(e) => {
                tracing::error!(error = %e, "stopping");
                eprintln!("ecs-deployment: {e}");
                ExitCode::from(EXIT_FAILURE)
            }
        }
    })
}

fn init_logging(format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(spec).map_err(|e| e.to_string())?
        }
        _ => EnvFilter::new("info"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    Ok(())
}

/// Turns each SIGTERM (what ECS sends to stop a task) and SIGINT into a stop request: the first stops
/// gracefully, the second at once.
async fn forward_signals(stop: StopSender) {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut terminate, mut interrupt) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM and SIGINT; stop the worker with SIGKILL");
            return;
        }
    };
    let mut count = 0;
    loop {
        let name = tokio::select! {
            Some(()) = terminate.recv() => "SIGTERM",
            Some(()) = interrupt.recv() => "SIGINT",
            else => return,
        };
        count += 1;
        if count == 1 {
            tracing::info!(
                signal = name,
                "stopping gracefully; a second signal stops at once"
            );
        } else {
            tracing::warn!(signal = name, "second signal: stopping at once");
        }
        stop.request();
    }
}
