//! `validate --service`: the worker's admission policy applied before a message is sent, against the
//! revision it would replace, read from ECS when reachable or given with `--current`.

use std::path::Path;
use std::time::Duration;

use crate::aws::ecs::Ecs;
use crate::aws::sdk::sdk_config;
use crate::cli::args::read_input;
use crate::cli::exit::Failure;
use crate::decide::escalation;
use crate::decide::guard::{Case, judge, judge_target};
use crate::decide::members::Members;
use crate::decide::message::{DeploymentRequest, Target};
use crate::decide::names::{
    queue_endpoint_and_account, region_of_queue_url, service_arn, service_name, short_arn,
};
use crate::decide::policy::{Identity, Policy};
use crate::decide::task_definition::described_members;
use crate::ops::config::POLICY_VARIABLES;
use crate::ops::config::policy::read;

/// How long reading the current revision from ECS may take before the check goes on without it.
const ECS_READ_LIMIT: Duration = Duration::from_secs(15);

/// What the message would replace, as far as it is known.
enum Baseline {
    /// This revision (`name` as shown, and its members).
    Known(String, Members),
    /// Nothing: a new family.
    None,
    /// Not known, and why: only the rules that need no comparison are applied.
    Unknown(String),
    /// The service does not exist (or is not ACTIVE): the worker would reject the message.
    Missing(String),
}

/// Judges `request` by the policy of the environment (and `policy_file` in place of `POLICY_FILE`) against
/// `current` or the revision ECS has now; gives what was compared with, or the refusal as a failure.
pub async fn check(
    request: &DeploymentRequest,
    cluster: &str,
    policy_file: Option<&Path>,
    current: Option<&Path>,
) -> Result<String, Failure> {
    let policy = policy(cluster, policy_file)?;
    let identity = offline_identity(cluster);
    let baseline = match current {
        Some(path) => {
            let text = read_input(path)?;
            let members = described_members(&text)
                .map_err(|e| Failure::usage(format!("--current {}: {e}", path.display())))?;
            Baseline::Known(path.display().to_string(), members)
        }
        None => match tokio::time::timeout(ECS_READ_LIMIT, from_ecs(request, cluster)).await {
            Ok(Ok(baseline)) => baseline,
            Ok(Err(why)) => Baseline::Unknown(why),
            Err(_) => Baseline::Unknown(format!("ECS did not answer within {ECS_READ_LIMIT:?}")),
        },
    };
    let refused = |refusal| Failure::no(format!("refused: {refusal}"));
    match &baseline {
        Baseline::Missing(why) => Err(Failure::no(format!("invalid: {why}"))),
        Baseline::Known(name, members) => {
            judge(&policy, &identity, &case(request, cluster, Some(members))).map_err(refused)?;
            Ok(format!("allowed by the policy, compared with {name}"))
        }
        Baseline::None => {
            judge(&policy, &identity, &case(request, cluster, None)).map_err(refused)?;
            Ok("allowed by the policy; the family is new, so it was judged against an empty revision".into())
        }
        Baseline::Unknown(why) => {
            judge_target(&policy, &identity, request, cluster).map_err(refused)?;
            let (name, subject) = match &request.target {
                Target::Service(s) => (service_name(s), format!("service {}", service_name(s))),
                Target::RegisterOnly => {
                    let family = request.task_definition.family();
                    (family, format!("family {family}"))
                }
            };
            escalation::check_alone(
                request.task_definition.request(),
                policy.rules_for(name),
                &identity,
                &subject,
            )
            .map_err(refused)?;
            eprintln!(
                "warning: not compared with the revision it would replace ({why}); give it with --current to check that the message adds no privilege"
            );
            Ok("allowed by the rules that need no comparison".into())
        }
    }
}

fn case<'a>(
    request: &'a DeploymentRequest,
    cluster: &'a str,
    baseline: Option<&'a Members>,
) -> Case<'a> {
    Case {
        request,
        cluster,
        baseline,
    }
}

/// The policy as the worker reads it from this environment, with `policy_file` as `POLICY_FILE`.
fn policy(cluster: &str, policy_file: Option<&Path>) -> Result<Policy, Failure> {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| POLICY_VARIABLES.contains(&k.as_str()))
        .collect();
    if let Some(path) = policy_file {
        vars.retain(|(k, _)| k != "POLICY_FILE");
        vars.push(("POLICY_FILE".into(), path.display().to_string()));
    }
    read(&vars, cluster).map_err(|(variable, problem)| {
        let variable = if policy_file.is_some() && variable == "POLICY_FILE" {
            "--policy"
        } else {
            variable
        };
        Failure::usage(format!("{variable}: {problem}"))
    })
}

/// What can be known of the worker without asking AWS: its queue (`SQS_URL`), account and region from
/// it, and `WORKER_SERVICE`. Its role is known only to the worker, which checks it.
fn offline_identity(cluster: &str) -> Identity {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let queue_url = var("SQS_URL");
    let account = queue_url
        .as_deref()
        .and_then(queue_endpoint_and_account)
        .map(|(_, account)| account.to_owned());
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .or_else(|| queue_url.as_deref().and_then(region_of_queue_url));
    let service = var("WORKER_SERVICE").map(|named| {
        let in_cluster = service_arn(&named)
            .and_then(|arn| arn.cluster.map(str::to_owned))
            .unwrap_or_else(|| cluster.to_owned());
        (in_cluster, service_name(&named).to_owned())
    });
    Identity {
        region,
        account,
        queue_url,
        dead_letter_queue_url: None,
        service,
        family: None,
        role: None,
    }
}

/// The revision the message would replace, as ECS has it now; the error says why it cannot be read.
async fn from_ecs(request: &DeploymentRequest, cluster: &str) -> Result<Baseline, String> {
    let sdk = sdk_config(None).await.map_err(|e| e.to_string())?;
    let ecs = Ecs::new(aws_sdk_ecs::Client::new(&sdk), cluster);
    let json = match &request.target {
        Target::Service(service) => {
            let Some(current) = ecs
                .describe_service(service)
                .await
                .map_err(|e| e.to_string())?
            else {
                return Ok(Baseline::Missing(format!(
                    "service '{service}' not found in cluster '{cluster}'"
                )));
            };
            if current.state.status != "ACTIVE" {
                return Ok(Baseline::Missing(format!(
                    "service '{service}' in cluster '{cluster}' is {}, not ACTIVE",
                    current.state.status
                )));
            }
            let Some(revision) = current.task_definition else {
                return Err(format!("service '{service}' runs no task definition"));
            };
            let json = ecs
                .task_definition_json(&revision)
                .await
                .map_err(|e| e.to_string())?;
            let members = described_members(&json)?;
            return Ok(Baseline::Known(short_arn(&revision).to_owned(), members));
        }
        Target::RegisterOnly => ecs
            .latest_revision_json(request.task_definition.family())
            .await
            .map_err(|e| e.to_string())?,
    };
    match json {
        None => Ok(Baseline::None),
        Some(json) => {
            let members = described_members(&json)?;
            let name = members.get("family").and_then(|f| f.as_str()).map_or_else(
                || "the family's newest revision".to_owned(),
                |f| format!("{f}'s newest revision"),
            );
            Ok(Baseline::Known(name, members))
        }
    }
}
