//! The `ecs-deployment` binary: with no arguments (or `run`) it runs the worker, configured from the
//! environment, as a container entrypoint.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ecs_deployment::aws::sdk::sdk_config;
use ecs_deployment::cli::{self, Failure};
use ecs_deployment::ops::config::{Config, LogFormat};
use ecs_deployment::{Clients, Shutdown, Stop, StopSender, run};
use tracing_subscriber::EnvFilter;

/// Exit code for a missing or invalid setting, before any AWS call.
const EXIT_CONFIG: u8 = 2;
/// Exit code for a failure retrying cannot fix (the queue or the cluster does not exist, HTTP_LISTEN is
/// taken).
const EXIT_FAILURE: u8 = 1;
/// Exit code after a second stop signal: unsettled messages were left to reappear (128 + SIGINT).
const EXIT_FORCED: u8 = 130;

/// Deploys Amazon ECS services from an Amazon SQS queue.
///
/// Without a subcommand (or with `run`) the worker runs, configured from the environment: SQS_URL
/// (required), ECS_CLUSTER (default `default`), ECS_TIMEOUT (300s) and the others docs/configuration.md documents.
/// The other subcommands help producers and operators; each has --help.
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
    ///
    /// Exit codes: 0 stopped by SIGTERM/SIGINT, 1 the queue or ECS_CLUSTER's cluster does not exist or
    /// HTTP_LISTEN cannot be listened on, 2 a missing or invalid variable, 130 a second stop signal.
    Run,
    // The other subcommands' help is their arguments' documentation.
    Validate(cli::validate::Args),
    Send(cli::send::Args),
    Status(cli::status::Args),
    Diff(cli::diff::Args),
    #[command(name = "continue")]
    Continue(cli::proceed::Args),
    History(cli::history::Args),
    Promote(cli::promote::Args),
    Healthcheck(cli::healthcheck::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command.unwrap_or(Command::Run) {
        Command::Run => return run_worker(),
        other => other,
    };
    let name = match &command {
        Command::Run => "run",
        Command::Validate(_) => "validate",
        Command::Send(_) => "send",
        Command::Status(_) => "status",
        Command::Diff(_) => "diff",
        Command::Continue(_) => "continue",
        Command::History(_) => "history",
        Command::Promote(_) => "promote",
        Command::Healthcheck(_) => "healthcheck",
    };
    let result = match runtime() {
        Ok(runtime) => runtime.block_on(async {
            match command {
                Command::Validate(args) => cli::validate::run(&args).await,
                Command::Send(args) => cli::send::run(&args).await,
                Command::Status(args) => cli::status::run(&args).await,
                Command::Diff(args) => cli::diff::run(&args).await,
                Command::Continue(args) => cli::proceed::run(&args).await,
                Command::History(args) => cli::history::run(&args).await,
                Command::Promote(args) => cli::promote::run(&args).await,
                Command::Healthcheck(args) => cli::healthcheck::run(&args).await,
                Command::Run => Ok(cli::EXIT_OK),
            }
        }),
        Err(e) => Err(Failure::aws(format!("cannot start the async runtime: {e}"))),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("ecs-deployment {name}: {failure}");
            ExitCode::from(failure.exit)
        }
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
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
    let runtime = match runtime() {
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
        let sdk = match sdk_config(Some(&config.queue_url)).await {
            Ok(sdk) => sdk,
            Err(e) => {
                eprintln!("ecs-deployment: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        };
        match run(
            &config,
            Clients::new(&sdk, config.wait_time),
            shutdown,
            None,
        )
        .await
        {
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
/// gracefully, the second at once. Listening starts when this is called, not when the future first runs,
/// so a signal sent right after start is never missed.
fn forward_signals(stop: StopSender) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let streams = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (terminate, interrupt) = match streams {
            (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM and SIGINT; stop the worker with SIGKILL");
                return;
            }
        };
        relay_signals(stop, terminate, interrupt).await;
    }
}

async fn relay_signals(
    stop: StopSender,
    mut terminate: tokio::signal::unix::Signal,
    mut interrupt: tokio::signal::unix::Signal,
) {
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
