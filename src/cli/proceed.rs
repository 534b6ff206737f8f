//! `ecs-deployment continue`: answers the lifecycle hooks ECS waits at in a service's current deployment,
//! so the deployment goes on or rolls back.

use aws_sdk_ecs::types::DeploymentLifecycleHookAction;

use crate::aws::ecs::{Ecs, service_state};
use crate::aws::error::AwsError;
use crate::aws::sdk::sdk_config;
use crate::cli::args::{ClusterArg, described_service};
use crate::cli::exit::{EXIT_OK, Failure};
use crate::decide::ecs_verdict::hooks_to_answer;

/// Continue a deployment that waits at a lifecycle hook (a PAUSE hook), or roll it back.
///
/// Reads the service's current service deployment and answers the hooks that await action with
/// ContinueServiceDeployment: CONTINUE, or ROLLBACK with --rollback. The worker watching the deployment
/// then carries on to its outcome. Needs ecs:DescribeServices, ecs:DescribeServiceDeployments and
/// ecs:ContinueServiceDeployment.
///
/// Exit codes: 0 answered, 1 nothing waits, 2 wrong usage, 3 AWS unreachable or refused (or no such
/// service).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The ECS service (name or ARN).
    #[arg(long, value_name = "SERVICE")]
    pub service: String,
    #[command(flatten)]
    pub cluster: ClusterArg,
    /// Roll the deployment back instead of going on.
    #[arg(long)]
    pub rollback: bool,
    /// Answer only this hook (its id); by default every hook that waits.
    #[arg(long, value_name = "ID")]
    pub hook: Option<String>,
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    let sdk = sdk_config(None).await?;
    let client = aws_sdk_ecs::Client::new(&sdk);
    let ecs = Ecs::new(client.clone(), args.cluster.name());
    let described = described_service(&ecs, &args.service).await?;
    let Some(arn) = service_state(&described).current_service_deployment else {
        return Err(Failure::no(format!(
            "service '{}' has no current service deployment",
            args.service
        )));
    };
    let Some(record) = ecs.describe_service_deployment(&arn).await? else {
        return Err(Failure::aws(format!(
            "ECS does not describe service deployment {arn}"
        )));
    };
    let hooks = hooks_to_answer(&record, args.hook.as_deref()).map_err(Failure::no)?;
    let action = if args.rollback {
        DeploymentLifecycleHookAction::Rollback
    } else {
        DeploymentLifecycleHookAction::Continue
    };
    for hook in hooks {
        client
            .continue_service_deployment()
            .service_deployment_arn(&arn)
            .hook_id(&hook)
            .action(action.clone())
            .send()
            .await
            .map_err(|e| AwsError::new("ContinueServiceDeployment", e))?;
        let what = if args.rollback {
            "rolling back"
        } else {
            "continued"
        };
        println!("{what}: lifecycle hook {hook} of {arn}");
    }
    Ok(EXIT_OK)
}
