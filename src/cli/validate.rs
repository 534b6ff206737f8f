//! `ecs-deployment validate FILE`: judges a message exactly as the worker would: the body offline, and
//! with `--service` the admission policy too ([`crate::cli::admit`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::aws::lookups::Lookups;
use crate::aws::sdk::sdk_config;
use crate::cli::admit;
use crate::cli::args::{ClusterArg, InputFile, read_input};
use crate::cli::exit::{EXIT_OK, Failure};
use crate::decide::marker;
use crate::decide::message::{
    self, COMMIT_URL_ATTRIBUTE, DeploymentRequest, REPLY_TO_ATTRIBUTE, SERVICE_ATTRIBUTE, Target,
};
use crate::decide::preflight::{Finding, verdict};
use crate::runtime::preflight::Verifier;

/// Judge a message exactly as the worker would.
///
/// Prints what the worker would register and exits 0, or says what is wrong with which member and
/// exits 1. With --service (and --commit-url, --reply-to, --cluster) the message attributes are judged
/// too, and the admission policy: the ALLOWED_* variables and POLICY_FILE (or --policy) as for the
/// worker, against the revision the message would replace, read from ECS when it is reachable or given
/// with --current. Without either, the rules that need no comparison are applied, with a warning.
/// With --online, the worker's pre-flight checks too: the ECR images, roles, SSM parameters, secrets and
/// log groups it refers to must exist (ecr:DescribeImages, iam:GetRole, ssm:GetParameters,
/// secretsmanager:DescribeSecret, logs:DescribeLogGroups; a check not allowed is skipped with a warning).
///
/// Exit codes: 0 valid, 1 invalid, refused or something it refers to missing, 2 wrong usage, unreadable
/// FILE or bad policy.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The message body: a task definition, or `aws ecs describe-task-definition` output; `-` reads
    /// standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub file: InputFile,
    /// The `service` attribute to judge with the body (`false`: register only).
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// The `commit_url` attribute to judge with the body.
    #[arg(long, value_name = "URL")]
    pub commit_url: Option<String>,
    /// The `reply_to` attribute to judge with the body.
    #[arg(long, value_name = "QUEUE_URL")]
    pub reply_to: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArg,
    /// A policy file to judge by, in place of POLICY_FILE; with --service.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The revision the message would replace (a task definition, or `aws ecs describe-task-definition`
    /// output), instead of reading it from ECS; with --service.
    #[arg(long, value_name = "FILE")]
    pub current: Option<PathBuf>,
    /// Also run the worker's pre-flight checks against AWS: what the task definition refers to exists.
    #[arg(long)]
    pub online: bool,
}

/// A message as the worker would read it: the request, or the reason it would be rejected.
pub fn judge(
    body: &str,
    service: Option<&str>,
    commit_url: Option<&str>,
    reply_to: Option<&str>,
) -> Result<DeploymentRequest, String> {
    let mut attributes = BTreeMap::new();
    // Without a service, the body alone is judged: register-only reads it the same way.
    attributes.insert(
        SERVICE_ATTRIBUTE.to_owned(),
        service.unwrap_or("false").to_owned(),
    );
    if let Some(url) = commit_url {
        attributes.insert(COMMIT_URL_ATTRIBUTE.to_owned(), url.to_owned());
    }
    if let Some(queue) = reply_to {
        attributes.insert(REPLY_TO_ATTRIBUTE.to_owned(), queue.to_owned());
    }
    let request = message::parse(body, &attributes)?;
    // The worker adds its marker tags when it registers; too many producer tags fail only there.
    let marks = marker::registration_tags(
        "00000000-0000-0000-0000-000000000000",
        request.commit_url.as_deref(),
        Some("arn:aws:ecs:us-east-1:000000000000:task-definition/previous:1"),
    );
    request.task_definition.with_marker_tags(&marks)?;
    Ok(request)
}

/// What a valid message will do, in one line.
pub fn summary(request: &DeploymentRequest, service_given: bool) -> String {
    let containers: Vec<String> = request
        .task_definition
        .request()
        .get("containerDefinitions")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(|n| n.as_str()).map(str::to_owned))
        .collect();
    let checked = request.task_definition.health_checked_containers();
    let mut line = format!(
        "valid: task definition family '{}', {} container{} ({})",
        request.task_definition.family(),
        containers.len(),
        if containers.len() == 1 { "" } else { "s" },
        containers.join(", ")
    );
    if !checked.is_empty() {
        let names: Vec<&str> = checked.iter().map(String::as_str).collect();
        line.push_str(&format!("; health-checked: {}", names.join(", ")));
    }
    match (&request.target, service_given) {
        (Target::Service(service), true) => {
            line.push_str(&format!("; deploys service '{service}'"))
        }
        (Target::RegisterOnly, true) => line.push_str("; registers only"),
        _ => {}
    }
    line
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    let body = read_input(&args.file)?;
    if args.service.is_none() && (args.policy.is_some() || args.current.is_some()) {
        return Err(Failure::usage(
            "--policy and --current judge a message for a service: give --service too",
        ));
    }
    let request = judge(
        &body,
        args.service.as_deref(),
        args.commit_url.as_deref(),
        args.reply_to.as_deref(),
    )
    .map_err(|reason| Failure::no(format!("invalid: {reason}")))?;
    let mut line = summary(&request, args.service.is_some());
    if args.service.is_some() {
        let cluster = request.cluster.as_deref().unwrap_or(args.cluster.name());
        let admitted = admit::check(
            &request,
            cluster,
            args.policy.as_deref(),
            args.current.as_deref(),
        )
        .await?;
        line.push_str(&format!("; {admitted}"));
    }
    if args.online {
        line.push_str(&format!("; {}", preflight(&request).await?));
    }
    println!("{line}");
    Ok(EXIT_OK)
}

/// The worker's pre-flight checks of `request`: each finding on standard error, and a refusal when
/// something is missing.
async fn preflight(request: &DeploymentRequest) -> Result<String, Failure> {
    let sdk = sdk_config(None).await?;
    let findings = Verifier::new(Lookups::new(&sdk), None)
        .findings(request.task_definition.request())
        .await;
    for (reference, finding) in &findings {
        let (member, value) = (&reference.member, &reference.value);
        match finding {
            Finding::Present => eprintln!("checked: {member} {value}: found"),
            Finding::Missing(what) => eprintln!("missing: {member} {value}: {what}"),
            Finding::Unchecked(why) => eprintln!(
                "warning: {member} {value} not checked ({}): {why}",
                reference.target.kind().call()
            ),
        }
    }
    if let Some(reason) = verdict(&findings) {
        return Err(Failure::no(format!("refused: {reason}")));
    }
    Ok(format!("{} references checked", findings.len()))
}
