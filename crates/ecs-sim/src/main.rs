//! The `ecs-sim` command: serves the simulator until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ecs_sim::{Config, Identity, StaleReads};
use tracing_subscriber::EnvFilter;

/// A simulator of the Amazon ECS control plane, speaking the AWS JSON 1.1 protocol.
///
/// Point aws-sdk-ecs at it with AWS_ENDPOINT_URL_ECS=http://ADDRESS, or the aws CLI with
/// --endpoint-url http://ADDRESS. Control API under /_sim/ (see crates/ecs-sim/README.md).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (the address is printed on start).
    #[arg(long, default_value = "127.0.0.1:5001")]
    listen: SocketAddr,
    /// Real milliseconds per simulated second: 1000 is real time, 10 runs rollouts 100 times faster.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    tick_ms: u64,
    /// Region in the ARNs it returns.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Account id in the ARNs it returns.
    #[arg(long, default_value = "123456789012")]
    account_id: String,
    /// Eventually consistent reads: DescribeServices, ListTasks and DescribeTasks may see the state of up
    /// to this many simulated seconds ago (0: always the present).
    #[arg(long, default_value_t = 0)]
    stale_reads: u64,
    /// Seeds the lag of each read under --stale-reads, so a run can be repeated.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Container instances in each cluster: how many tasks a DAEMON service runs.
    #[arg(long, default_value_t = 3)]
    instances: u32,
    /// An ECR endpoint (moto's server) that resolves the tags of ECR images to the digests tasks run;
    /// without it, an image's digest is a stable digest of its name.
    #[arg(long, value_name = "URL")]
    ecr_endpoint: Option<String>,
    /// A CloudWatch Logs endpoint (moto's server) that the output of containers using the awslogs driver
    /// is written to; without it, their output goes nowhere.
    #[arg(long, value_name = "URL")]
    logs_endpoint: Option<String>,
    /// ECS's API rate limits: `aws` enforces AWS's per-account token buckets (refilled in simulated time,
    /// throttled calls answered ThrottlingException), `none` none.
    #[arg(long, value_name = "LIMITS", default_value = "none", value_parser = ["none", "aws"])]
    api_limits: String,
    /// With --api-limits aws: one category's rates, as for an account with raised quotas (repeatable).
    #[arg(long = "api-limit", value_name = "CATEGORY=BURST/RATE", value_parser = ecs_sim::limits::parse_override)]
    api_limit: Vec<(String, ecs_sim::limits::Rate)>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let stop = shutdown_signal();
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("ecs-sim: cannot listen on {}: {err}", args.listen);
            return ExitCode::from(2);
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!(
            "ecs-sim listening on http://{addr} (1 simulated second = {} ms)",
            args.tick_ms
        ),
        Err(err) => eprintln!("ecs-sim: {err}"),
    }
    tracing::info!(
        "requests are validated against ECS shapes from {}",
        ecs_model::model().source
    );
    let config = Config {
        tick: Some(Duration::from_millis(args.tick_ms)),
        identity: Identity {
            region: args.region,
            account_id: args.account_id,
        },
        stale_reads: Some(StaleReads {
            max_lag_seconds: args.stale_reads,
            seed: args.seed,
        }),
        instances: args.instances,
        ecr_endpoint: args.ecr_endpoint,
        logs_endpoint: args.logs_endpoint,
        api_limits: (args.api_limits == "aws").then(|| args.api_limit.into_iter().collect()),
    };
    match ecs_sim::serve(listener, config, stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ecs-sim: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Listens for SIGINT and SIGTERM from now on; the returned future completes on the first of them.
/// Listening starts before the address is printed, so a stop sent as soon as it is known is never missed.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let streams = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        async move {
            match streams {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {},
                        _ = terminate.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
