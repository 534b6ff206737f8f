//! `ecs-deployment promote`: what a source service runs, pinned by image digest, sent as an `image`
//! message for a target service, which keeps its own environment, roles and settings.

use std::path::PathBuf;

use crate::aws::ecs::Ecs;
use crate::aws::sdk::sdk_config;
use crate::cli::args::ClusterArg;
use crate::cli::exit::Failure;
use crate::cli::send;
use crate::decide::promotion::{RunningContainer, promoted_images};

/// Promote what one service runs to another: the images its running tasks run, by digest.
///
/// Reads the source service's running tasks (ListTasks, DescribeTasks) and sends an `image` message for
/// the target service with each container's image pinned to the digest the source runs. The target keeps
/// its own task definition otherwise (environment, roles, settings); a container it lacks makes the
/// worker reject the message, naming it. Needs what `send --image` needs, plus ecs:ListTasks and
/// ecs:DescribeTasks on the source's cluster.
///
/// Exit codes: 0 sent (with --wait: deployed), 1 nothing to promote or the deployment did not succeed,
/// 2 wrong usage, 3 AWS unreachable or refused, 4 no outcome within --timeout.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The service whose running images are promoted.
    #[arg(long, value_name = "SERVICE")]
    pub from: String,
    /// The source service's cluster (default: --cluster, as for the target).
    #[arg(long, value_name = "NAME")]
    pub from_cluster: Option<String>,
    /// The service that gets them.
    #[arg(long, value_name = "SERVICE")]
    pub to: String,
    /// The target service's cluster.
    #[command(flatten)]
    pub cluster: ClusterArg,
    #[command(flatten)]
    pub sending: send::Sending,
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    let sdk = sdk_config(None).await?;
    let source_cluster = args.from_cluster.as_deref().unwrap_or(args.cluster.name());
    let ecs = Ecs::new(aws_sdk_ecs::Client::new(&sdk), source_cluster);
    let running: Vec<RunningContainer> = ecs
        .running_task_details(&args.from)
        .await?
        .iter()
        .filter(|t| t.last_status() == Some("RUNNING"))
        .flat_map(|t| t.containers())
        .map(|c| RunningContainer {
            name: c.name().unwrap_or_default().to_owned(),
            image: c.image().unwrap_or_default().to_owned(),
            digest: c.image_digest().map(str::to_owned),
        })
        .collect();
    let images = promoted_images(&args.from, &running).map_err(Failure::no)?;
    println!(
        "promoting from service {} in cluster {source_cluster}: {}",
        args.from,
        images
            .iter()
            .map(|(c, i)| format!("{c}={i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let send = send::Args {
        service: args.to.clone(),
        cluster: args.cluster.clone(),
        sending: args.sending.clone(),
        images: images.iter().map(|(c, i)| format!("{c}={i}")).collect(),
        redeploy: false,
        rollback: false,
        revision: None,
        run: false,
        container: None,
        command: Vec::new(),
        action: None,
        file: PathBuf::from("-"),
    };
    send::run(&send).await
}
