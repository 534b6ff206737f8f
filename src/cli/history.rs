//! `ecs-deployment history`: a service's deployments, newest first, from ECS's service deployments and the
//! records the worker leaves on the revisions it deploys.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use crate::aws::ecs::{DESCRIBE_SERVICE_DEPLOYMENTS_BATCH, Ecs};
use crate::aws::error::AwsError;
use crate::aws::sdk::sdk_config;
use crate::cli::args::ClusterArg;
use crate::cli::exit::{EXIT_OK, Failure};
use crate::cli::status::table;
use crate::decide::ledger::{Deployment, Entry, entries};

/// Show a service's deployments, newest first: revision, action, when, who, commit, outcome, duration.
///
/// ECS keeps a service's deployments for 90 days; the worker's record of each (action, sender, outcome)
/// is a tag on the revision deployed. A deployment nobody recorded (made by another tool, or one whose
/// record was replaced) shows ECS's own status. Needs ecs:ListServiceDeployments,
/// ecs:DescribeServiceRevisions and ecs:DescribeTaskDefinition.
///
/// Exit codes: 0 shown, 2 wrong usage, 3 AWS unreachable or refused (or no such service).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The ECS service (name or ARN).
    #[arg(long, value_name = "SERVICE")]
    pub service: String,
    #[command(flatten)]
    pub cluster: ClusterArg,
    /// How many deployments to show.
    #[arg(long, value_name = "N", default_value = "20", value_parser = clap::value_parser!(i32).range(1..=100))]
    pub limit: i32,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    let sdk = sdk_config(None).await?;
    let client = aws_sdk_ecs::Client::new(&sdk);
    let ecs = Ecs::new(client.clone(), args.cluster.name());
    let deployments =
        deployment_history(&client, args.cluster.name(), &args.service, args.limit).await?;
    let mut tags = BTreeMap::new();
    for d in &deployments {
        if !tags.contains_key(&d.task_definition) {
            // A revision that cannot be described has no record to show; its deployment still shows.
            let read = ecs
                .task_definition_tags(&d.task_definition)
                .await
                .unwrap_or_default();
            tags.insert(d.task_definition.clone(), read);
        }
    }
    let history = entries(&deployments, |td| tags.get(td).cloned().unwrap_or_default());
    if args.json {
        for entry in &history {
            println!("{}", serde_json::to_string(entry).unwrap_or_default());
        }
    } else {
        print!("{}", history_table(&history));
    }
    Ok(EXIT_OK)
}

/// The history as a table, one line per deployment.
pub fn history_table(history: &[Entry]) -> String {
    let mut rows = vec![
        [
            "REVISION", "ACTION", "WHEN", "WHO", "COMMIT", "OUTCOME", "DURATION",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for e in history {
        let when = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(e.at_ms));
        rows.push(vec![
            e.revision.clone(),
            e.action.clone().unwrap_or_else(|| "-".into()),
            when.to_string(),
            e.sender.clone().unwrap_or_else(|| "-".into()),
            e.commit_url.clone().unwrap_or_else(|| "-".into()),
            e.outcome.clone(),
            e.duration_ms
                .map_or_else(|| "-".into(), |ms| format!("{}s", ms / 1000)),
        ]);
    }
    table(&rows)
}

/// The service's newest `limit` (at most 100) service deployments, newest first, each with the task
/// definition it deployed (ListServiceDeployments, then DescribeServiceRevisions); ones whose revision ECS
/// does not describe are left out.
async fn deployment_history(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    limit: i32,
) -> Result<Vec<Deployment>, AwsError> {
    let listed = client
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .max_results(limit.clamp(1, 100))
        .send()
        .await
        .map_err(|e| AwsError::new("ListServiceDeployments", e))?;
    let briefs = listed.service_deployments();
    let revisions: Vec<String> = briefs
        .iter()
        .filter_map(|b| b.target_service_revision_arn().map(str::to_owned))
        .collect();
    let mut task_definitions = BTreeMap::new();
    for batch in revisions.chunks(DESCRIBE_SERVICE_DEPLOYMENTS_BATCH) {
        let described = client
            .describe_service_revisions()
            .set_service_revision_arns(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::new("DescribeServiceRevisions", e))?;
        for revision in described.service_revisions() {
            if let (Some(arn), Some(td)) =
                (revision.service_revision_arn(), revision.task_definition())
            {
                task_definitions.insert(arn.to_owned(), td.to_owned());
            }
        }
    }
    let ms = |t: Option<&aws_smithy_types::DateTime>| {
        t.and_then(|t| t.to_millis().ok())
            .and_then(|ms| u64::try_from(ms).ok())
    };
    Ok(briefs
        .iter()
        .filter_map(|b| {
            let task_definition = task_definitions.get(b.target_service_revision_arn()?)?;
            Some(Deployment {
                task_definition: task_definition.clone(),
                status: b
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                created_ms: ms(b.created_at()).unwrap_or(0),
                finished_ms: ms(b.finished_at()),
            })
        })
        .collect())
}
