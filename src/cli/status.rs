//! `ecs-deployment status`: a service's deployments, and each running task's task definition and image
//! digests against the service's target and what ECR's tags point to, so anyone can see when a rollout is
//! really complete.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::time::Duration;

use aws_sdk_ecs::types::Task;

use crate::aws::ecr::Ecr;
use crate::aws::ecs::{Ecs, running_images, service_state};
use crate::aws::sdk::sdk_config;
use crate::cli::args::{ClusterArg, described_service, duration_arg};
use crate::cli::exit::{EXIT_OK, Failure};
use crate::decide::digests::{Mark, Resolved, RunningImage, ecr_tag, mark, short};
use crate::decide::ecs_verdict::summary;
use crate::decide::names::short_arn;
use crate::decide::rollout::primary_done;
use crate::decide::service::TaskState;
use crate::decide::service::{ServiceDeploymentState, ServiceState};

/// Show a service's deployments and whether its running tasks run the target.
///
/// The target is the task definition of the service's PRIMARY deployment. Each running task is marked
/// `match` when it runs the target and, per container, the digest its ECR image tag points to now (asked
/// of ECR with BatchGetImage; for an image outside ECR, or ECR unreachable, the digest of the target's
/// newest task), `no_match` otherwise: an older revision, or an image tag that moved. A redeploy replaces
/// the tasks of a moved tag. With --watch the view is refreshed until interrupted.
///
/// Exit codes: 0 shown, 2 wrong usage, 3 AWS unreachable or refused (or no such service).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The ECS service (name or ARN).
    #[arg(long, value_name = "SERVICE")]
    pub service: String,
    #[command(flatten)]
    pub cluster: ClusterArg,
    /// Refresh the view until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// How often --watch refreshes.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = duration_arg)]
    pub interval: Duration,
}

/// One running task, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// The task id (the last part of its ARN).
    pub id: String,
    /// The task definition it runs.
    pub task_definition: String,
    /// ECS's lastStatus.
    pub last_status: String,
    /// ECS's health status of the task.
    pub health: String,
    /// Its containers: name, image and the digest it runs, when ECS knows it.
    pub images: Vec<RunningImage>,
    /// When it started, in seconds since the epoch, when it has.
    pub started_at: Option<i64>,
}

/// Whether a task runs the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The target's task definition and image digests.
    Match,
    /// Not the target, and how.
    NoMatch(String),
}

/// Marks each task against `target`: the same task definition, and per container the digest its image
/// points to now (its pin, or ECR's answer in `resolved`), else the digest of the target's newest started
/// task.
pub fn match_tasks(
    target: &str,
    tasks: &[TaskRow],
    resolved: &BTreeMap<String, Resolved>,
) -> Vec<Match> {
    let reference = tasks
        .iter()
        .filter(|t| t.task_definition == target)
        .max_by_key(|t| t.started_at.unwrap_or(i64::MIN));
    tasks
        .iter()
        .map(|task| {
            if task.task_definition != target {
                return Match::NoMatch(format!("runs {}", short_arn(&task.task_definition)));
            }
            let Some(reference) = reference else {
                return Match::Match;
            };
            for running in &task.images {
                let digest = running.digest.as_deref().unwrap_or("?");
                match mark(running, resolved) {
                    Mark::Match => continue,
                    Mark::NoMatch { expected } => {
                        // The repository and tag say which; the registry host only lengthens the line.
                        let tag = ecr_tag(&running.image).map_or(running.image.clone(), |t| {
                            format!("{}:{}", t.repository, t.tag)
                        });
                        return Match::NoMatch(format!(
                            "{} runs {}, {tag} points to {}",
                            running.container,
                            short(digest),
                            short(&expected)
                        ));
                    }
                    Mark::Unchecked(_) => {}
                }
                let expected = reference
                    .images
                    .iter()
                    .find(|r| r.container == running.container)
                    .and_then(|r| r.digest.as_deref());
                if let (Some(digest), Some(expected)) = (&running.digest, expected)
                    && digest != expected
                {
                    return Match::NoMatch(format!(
                        "{} runs {}, the target's newest task {}",
                        running.container,
                        short(digest),
                        short(expected)
                    ));
                }
            }
            Match::Match
        })
        .collect()
}

fn task_row(task: &Task) -> TaskRow {
    TaskRow {
        id: task
            .task_arn()
            .and_then(|a| a.rsplit('/').next())
            .unwrap_or("?")
            .to_owned(),
        task_definition: task.task_definition_arn().unwrap_or_default().to_owned(),
        last_status: task.last_status().unwrap_or("?").to_owned(),
        health: task
            .health_status()
            .map_or("UNKNOWN", |h| h.as_str())
            .to_owned(),
        images: running_images(task),
        started_at: task.started_at().map(|t| t.secs()),
    }
}

/// The status as text; `deployment` is ECS's record of the current service deployment, when read.
pub fn render(
    service: &str,
    cluster: &str,
    state: &ServiceState,
    deployment: Option<&ServiceDeploymentState>,
    target: Option<&str>,
    tasks: &[TaskRow],
    resolved: &BTreeMap<String, Resolved>,
) -> String {
    let mut out = String::new();
    let running: i32 = state.deployments.iter().map(|d| d.running_count).sum();
    let pending: i32 = state.deployments.iter().map(|d| d.pending_count).sum();
    out.push_str(&format!(
        "service {service} in cluster {cluster}: {}, {} desired, {running} running, {pending} pending\n\n",
        state.status, state.desired_count
    ));
    if let Some(record) = deployment {
        out.push_str(&format!(
            "service deployment {}: {}\n\n",
            record.arn,
            summary(record)
        ));
    }
    let mut rows = vec![vec![
        "DEPLOYMENT".to_owned(),
        "STATUS".into(),
        "TASK DEFINITION".into(),
        "ROLLOUT".into(),
        "RUNNING".into(),
        "PENDING".into(),
        "FAILED".into(),
    ]];
    for d in &state.deployments {
        rows.push(vec![
            d.id.clone(),
            d.status.clone(),
            short_arn(&d.task_definition).to_owned(),
            d.rollout_state.clone().unwrap_or_else(|| "-".into()),
            format!("{}/{}", d.running_count, state.desired_count),
            d.pending_count.to_string(),
            d.failed_tasks.to_string(),
        ]);
    }
    out.push_str(&table(&rows));
    let Some(target) = target else {
        out.push_str("\nno PRIMARY deployment: no target to compare tasks with\n");
        return out;
    };
    out.push('\n');
    let marks = match_tasks(target, tasks, resolved);
    let mut rows = vec![vec![
        "TASK".to_owned(),
        "TASK DEFINITION".into(),
        "STATUS".into(),
        "HEALTH".into(),
        "IMAGES".into(),
        format!("TARGET {}", short_arn(target)),
    ]];
    for (task, mark) in tasks.iter().zip(&marks) {
        let images: Vec<String> = task
            .images
            .iter()
            .map(|r| {
                format!(
                    "{}={}",
                    r.container,
                    r.digest.as_deref().map_or("unknown", short)
                )
            })
            .collect();
        rows.push(vec![
            task.id.clone(),
            short_arn(&task.task_definition).to_owned(),
            task.last_status.clone(),
            task.health.clone(),
            images.join(","),
            match mark {
                Match::Match => "match".to_owned(),
                Match::NoMatch(why) => format!("no_match: {why}"),
            },
        ]);
    }
    out.push_str(&table(&rows));
    if !resolved.is_empty() {
        out.push('\n');
        for (image, answer) in resolved {
            let now = match answer {
                Resolved::Digest(digest) => short(digest).to_owned(),
                Resolved::NotFound => "not found".to_owned(),
                Resolved::Unknown(why) => format!("unknown ({why})"),
            };
            out.push_str(&format!("in ECR now: {image} -> {now}\n"));
        }
    }
    let matching = marks
        .iter()
        .zip(tasks)
        .filter(|(m, t)| **m == Match::Match && t.last_status == "RUNNING")
        .count();
    // Complete as the worker judges a rollout: by ECS's record, or by the deployments and tasks.
    let complete = primary_done(
        state,
        deployment,
        tasks.iter().map(task_state).collect(),
        BTreeSet::new(),
    );
    out.push_str(&format!(
        "\n{matching} of {} desired tasks run the target; {} task{} running in all: the rollout is {}\n",
        state.desired_count,
        tasks.len(),
        if tasks.len() == 1 { "" } else { "s" },
        if complete { "complete" } else { "not complete" }
    ));
    let moved = marks
        .iter()
        .filter(|m| matches!(m, Match::NoMatch(why) if why.contains(" runs ")))
        .count();
    if complete && moved > 0 {
        out.push_str(&format!(
            "{moved} of them run images their tags no longer point to: a redeploy (action redeploy) replaces them\n"
        ));
    }
    out
}

/// A task as the rollout judgement reads it.
fn task_state(row: &TaskRow) -> TaskState {
    TaskState {
        arn: row.id.clone(),
        task_definition: row.task_definition.clone(),
        last_status: row.last_status.clone(),
        container_health: Vec::new(),
        health: Some(row.health.clone()),
        started_by: None,
    }
}

/// Left-aligned columns, two spaces apart.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

async fn snapshot(ecs: &Ecs, ecr: &Ecr, service: &str) -> Result<String, Failure> {
    let described = described_service(ecs, service).await?;
    let described = &described;
    let state = service_state(described);
    // The service deployment is a detail: a policy without the read still shows the rest.
    let deployment = match state.current_service_deployment.as_deref() {
        Some(arn) => ecs.service_deployment_of_revision(arn).await.ok().flatten(),
        None => None,
    };
    let target = state
        .deployments
        .iter()
        .find(|d| d.status == "PRIMARY")
        .map(|d| d.task_definition.clone());
    let tasks: Vec<TaskRow> = ecs
        .running_task_details(service)
        .await?
        .iter()
        .map(task_row)
        .collect();
    let images: BTreeSet<String> = tasks
        .iter()
        .flat_map(|t| &t.images)
        .filter(|r| ecr_tag(&r.image).is_some())
        .map(|r| r.image.clone())
        .collect();
    let resolved = ecr.resolve(&images).await;
    Ok(render(
        described.service_name().unwrap_or(service),
        ecs.cluster(),
        &state,
        deployment.as_ref(),
        target.as_deref(),
        &tasks,
        &resolved,
    ))
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    let sdk = sdk_config(None).await?;
    let ecs = Ecs::new(aws_sdk_ecs::Client::new(&sdk), args.cluster.name());
    let ecr = Ecr::new(aws_sdk_ecr::Client::new(&sdk));
    if !args.watch {
        print!("{}", snapshot(&ecs, &ecr, &args.service).await?);
        return Ok(EXIT_OK);
    }
    let terminal = std::io::stdout().is_terminal();
    let mut last = String::new();
    loop {
        let view = match snapshot(&ecs, &ecr, &args.service).await {
            Ok(view) => view,
            Err(e) => format!("{e}\n"),
        };
        if terminal {
            // Clear the screen and draw the view again.
            print!("\x1b[H\x1b[2J{view}");
        } else if view != last {
            println!("{view}");
        }
        last = view;
        tokio::time::sleep(args.interval).await;
    }
}

#[cfg(test)]
mod tests;
