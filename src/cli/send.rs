//! `ecs-deployment send`: validates a task definition (or `--image` changes), sends it as a deployment
//! message with the right attributes, and with `--wait` follows the deployment to its outcome
//! ([`crate::cli::follow`]).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use sha2::{Digest, Sha256};

use crate::aws::ecs::Ecs;
use crate::aws::error::AwsError;
use crate::aws::sdk::{sdk_config, sqs_client};
use crate::aws::sqs::send_message;
use crate::cli::args::{
    ClusterArg, InputFile, QueueArg, described_service, duration_arg, read_input,
};
use crate::cli::exit::{EXIT_OK, Failure};
use crate::cli::follow::Follow;
use crate::cli::validate::{judge, summary};
use crate::decide::image_update::images_of;
use crate::decide::message::{
    ACTION_ATTRIBUTE, CLUSTER_ATTRIBUTE, COMMIT_URL_ATTRIBUTE, REPLY_TO_ATTRIBUTE,
    REVISION_ATTRIBUTE, SERVICE_ATTRIBUTE, Target,
};
use crate::decide::names::{family_of, service_name};
use crate::runtime::actions::{Action, Image, MessageAction, Redeploy, Rollback, Run};

/// The body of a rollback or redeploy: the worker ignores it.
const NO_BODY: &str = "{}";

/// How a message is sent and followed: the queue, the attributes every message may carry, and `--wait`.
#[derive(Debug, Clone, clap::Args)]
pub struct Sending {
    #[command(flatten)]
    pub queue: QueueArg,
    /// A link to the change being deployed, shown in logs and notifications.
    #[arg(long, value_name = "URL")]
    pub commit_url: Option<String>,
    /// An SQS queue URL the worker sends the outcome to, as JSON; `--wait` reads it from there.
    #[arg(long, value_name = "QUEUE_URL")]
    pub reply_to: Option<String>,
    /// Follow the deployment to its outcome and exit with it.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits for an outcome.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration_arg)]
    pub timeout: Duration,
    /// How often --wait reads the service.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = duration_arg)]
    pub poll_interval: Duration,
}

/// Validate a task definition and send it to the deployment queue.
///
/// The message gets the `service` attribute (and `commit_url`, `reply_to` when given); on a FIFO queue
/// also MessageGroupId = service and a deduplication id from the content, so a retried send is not
/// deployed twice. With --wait it follows the deployment to its outcome: through --reply-to, where the
/// worker sends its verdict (recommended), or else by watching the service for the revision the worker
/// tags with the message id.
///
/// Exit codes: 0 sent (with --wait: deployed), 1 invalid message or the deployment did not succeed,
/// 2 wrong usage, 3 AWS unreachable or refused, 4 no outcome within --timeout.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The ECS service to deploy (name or ARN); `false` registers the task definition only.
    #[arg(long, value_name = "SERVICE")]
    pub service: String,
    #[command(flatten)]
    pub cluster: ClusterArg,
    #[command(flatten)]
    pub sending: Sending,
    /// Instead of a task definition: set this container's image in the task definition the service runs
    /// (an `image` message; repeatable, one per container).
    #[arg(
        long = "image",
        value_name = "CONTAINER=IMAGE",
        conflicts_with_all = ["rollback", "redeploy", "action"]
    )]
    pub images: Vec<String>,
    /// Instead of a task definition: a new deployment of the revision the service runs, replacing every
    /// task (a `redeploy` message: moved image tags are pulled again). --wait needs --reply-to.
    #[arg(long, conflicts_with_all = ["rollback", "action"])]
    pub redeploy: bool,
    /// Instead of a task definition: roll the service back (a `rollback` message) to --revision, or to
    /// the revision it ran before the one it runs. --wait needs --reply-to.
    #[arg(long, conflicts_with = "action")]
    pub rollback: bool,
    /// With --rollback: the revision to go back to; with --run: the revision to run (`web:12` or its ARN).
    #[arg(long, value_name = "REVISION")]
    pub revision: Option<String>,
    /// Instead of a task definition: a one-off task of the service (a `run` message) running the command
    /// after `--` in --container; with --revision, of that revision. --wait needs --reply-to.
    #[arg(long, requires = "container", conflicts_with_all = ["rollback", "redeploy", "action", "images"])]
    pub run: bool,
    /// With --run: the container whose command is replaced.
    #[arg(long, value_name = "NAME", requires = "run")]
    pub container: Option<String>,
    /// Any action by name (its `action` attribute), with FILE as the body, checked as the worker reads
    /// it. --wait needs --reply-to.
    #[arg(long, value_name = "ACTION", value_parser = clap::builder::PossibleValuesParser::new(Action::NAMES))]
    pub action: Option<String>,
    /// The message body: a task definition, or `aws ecs describe-task-definition` output; `-` reads
    /// standard input. Not read with --image.
    #[arg(value_name = "FILE", default_value = "-")]
    pub file: InputFile,
    /// With --run: the command, after `--`.
    #[arg(last = true, value_name = "COMMAND", num_args = 1.., allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// The body of an `image` message from `--image CONTAINER=IMAGE` arguments, checked as the worker reads it.
fn image_body(images: &[String]) -> Result<String, Failure> {
    let mut body = serde_json::Map::new();
    for pair in images {
        let Some((container, image)) = pair.split_once('=') else {
            return Err(Failure::usage(format!(
                "--image {pair}: expected CONTAINER=IMAGE"
            )));
        };
        body.insert(container.trim().to_owned(), image.trim().into());
    }
    let body = serde_json::Value::Object(body).to_string();
    images_of(&body).map_err(|reason| Failure::no(format!("invalid: {reason}")))?;
    Ok(body)
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    if !args.images.is_empty() {
        return send_images(args).await;
    }
    if args.revision.is_some() && !(args.rollback || args.run || args.action.is_some()) {
        return Err(Failure::usage(
            "--revision goes with --rollback, --run or --action",
        ));
    }
    if args.run {
        let body = serde_json::json!({
            "container": args.container.as_deref().unwrap_or_default(),
            "command": args.command,
        });
        return send_action(args, Run::NAME, &body.to_string()).await;
    }
    if args.rollback {
        return send_action(args, Rollback::NAME, NO_BODY).await;
    }
    if args.redeploy {
        return send_action(args, Redeploy::NAME, NO_BODY).await;
    }
    if let Some(action) = &args.action {
        return send_action(args, action, &read_input(&args.file)?).await;
    }
    let body = read_input(&args.file)?;
    let request = judge(
        &body,
        Some(&args.service),
        args.sending.commit_url.as_deref(),
        args.sending.reply_to.as_deref(),
    )
    .map_err(|reason| Failure::no(format!("invalid: {reason}")))?;
    if args.sending.wait
        && request.target == Target::RegisterOnly
        && args.sending.reply_to.is_none()
    {
        return Err(Failure::usage(
            "--wait with --service false needs --reply-to: no service shows a registration",
        ));
    }
    let (sdk, sqs) = connect(args).await?;
    let message_id = send_one(&sqs, args, None, &body).await?;
    println!(
        "sent message {message_id}: {}",
        summary(&request, true).trim_start_matches("valid: ")
    );
    if !args.sending.wait {
        return Ok(EXIT_OK);
    }
    let follow = Follow {
        sqs,
        ecs: Ecs::new(aws_sdk_ecs::Client::new(&sdk), args.cluster.name()),
        service: match &request.target {
            Target::Service(service) => Some(service.clone()),
            Target::RegisterOnly => None,
        },
        family: request.task_definition.family().to_owned(),
        message_id,
        reply_to: args.sending.reply_to.clone(),
        poll_interval: args.sending.poll_interval,
        timeout: args.sending.timeout,
    };
    follow.run().await
}

/// Sends an `image` message (`--image`), and with --wait follows it as any deployment of the family the
/// service runs, where the worker registers the new revision.
async fn send_images(args: &Args) -> Result<u8, Failure> {
    let body = image_body(&args.images)?;
    let service = args.service.trim();
    if service == "false" {
        return Err(Failure::usage(
            "--image sets images in a service's task definition: --service must name the service",
        ));
    }
    let (sdk, sqs) = connect(args).await?;
    let message_id = send_one(&sqs, args, Some((Image::NAME, None)), &body).await?;
    println!(
        "sent message {message_id}: set {} in service {service}",
        args.images.join(", ")
    );
    if !args.sending.wait {
        return Ok(EXIT_OK);
    }
    let ecs = Ecs::new(aws_sdk_ecs::Client::new(&sdk), args.cluster.name());
    let described = described_service(&ecs, service).await?;
    let family = described
        .task_definition()
        .map(|td| family_of(td).to_owned())
        .unwrap_or_default();
    let follow = Follow {
        sqs,
        ecs,
        service: Some(service.to_owned()),
        family,
        message_id,
        reply_to: args.sending.reply_to.clone(),
        poll_interval: args.sending.poll_interval,
        timeout: args.sending.timeout,
    };
    follow.run().await
}

/// Sends a message of `action` with `body` (`--rollback`, `--redeploy`, `--action`), and with --wait follows
/// it through the reply queue: it may register no revision to show it in the service.
async fn send_action(args: &Args, action: &str, body: &str) -> Result<u8, Failure> {
    let mut attributes = BTreeMap::from([
        (SERVICE_ATTRIBUTE.to_owned(), args.service.clone()),
        (ACTION_ATTRIBUTE.to_owned(), action.to_owned()),
    ]);
    if let Some(revision) = &args.revision {
        attributes.insert(REVISION_ATTRIBUTE.to_owned(), revision.clone());
    }
    // Checked as the worker reads it, so nothing it would reject is sent.
    let read = Action::read(body, &attributes)
        .map_err(|reason| Failure::no(format!("invalid: {reason}")))?;
    if args.sending.wait && args.sending.reply_to.is_none() {
        return Err(Failure::usage(format!(
            "--wait with action {action} needs --reply-to: the worker's reply is what it waits for"
        )));
    }
    let (sdk, sqs) = connect(args).await?;
    let message_id = send_one(&sqs, args, Some((action, args.revision.as_deref())), body).await?;
    let service = args.service.trim();
    let what = match &read {
        Action::Rollback(rollback) => format!(
            "roll service {service} back to {}",
            rollback
                .revision
                .as_deref()
                .unwrap_or("the revision it ran before")
        ),
        _ => format!("{action} service {service}"),
    };
    println!("sent message {message_id}: {what}");
    if !args.sending.wait {
        return Ok(EXIT_OK);
    }
    let follow = Follow {
        sqs,
        ecs: Ecs::new(aws_sdk_ecs::Client::new(&sdk), args.cluster.name()),
        service: None,
        family: String::new(),
        message_id,
        reply_to: args.sending.reply_to.clone(),
        poll_interval: args.sending.poll_interval,
        timeout: args.sending.timeout,
    };
    follow.run().await
}

/// The AWS configuration and SQS client for the queue, after checking that a `--reply-to` queue exists.
async fn connect(args: &Args) -> Result<(aws_config::SdkConfig, aws_sdk_sqs::Client), Failure> {
    let queue = args.sending.queue.required()?;
    let wait = args.sending.poll_interval.min(Duration::from_secs(20));
    let sdk = sdk_config(Some(queue)).await?;
    let sqs = sqs_client(&sdk, wait);
    if let Some(reply) = &args.sending.reply_to {
        check_queue(&sqs, reply)
            .await
            .map_err(|e| Failure::aws(format!("--reply-to: {e}")))?;
    }
    Ok((sdk, sqs))
}

/// Sends `body` with the message's attributes (and `action` with its `revision`, when not the default);
/// gives its id.
async fn send_one(
    sqs: &aws_sdk_sqs::Client,
    args: &Args,
    action: Option<(&str, Option<&str>)>,
    body: &str,
) -> Result<String, Failure> {
    let queue = args.sending.queue.required()?;
    let service = args.service.trim();
    let mut attributes = vec![(SERVICE_ATTRIBUTE, service)];
    let cluster = args.cluster.given.as_deref().map(str::trim);
    if let Some(cluster) = cluster {
        attributes.push((CLUSTER_ATTRIBUTE, cluster));
    }
    if let Some((action, revision)) = action {
        attributes.push((ACTION_ATTRIBUTE, action));
        if let Some(revision) = revision {
            attributes.push((REVISION_ATTRIBUTE, revision));
        }
    }
    if let Some(url) = &args.sending.commit_url {
        attributes.push((COMMIT_URL_ATTRIBUTE, url));
    }
    if let Some(reply) = &args.sending.reply_to {
        attributes.push((REPLY_TO_ATTRIBUTE, reply));
    }
    let deduplication_id = deduplication_id(
        service,
        cluster.unwrap_or(""),
        args.sending.commit_url.as_deref(),
        body,
    );
    let fifo = queue
        .ends_with(".fifo")
        .then(|| (service_name(service), deduplication_id.as_str()));
    let sent = send_message(sqs, queue, body, &attributes, fifo)
        .await
        .map_err(|e| Failure::aws(format!("cannot send to {queue}: {e}")))?;
    Ok(sent.unwrap_or_default())
}

/// The same service, cluster, link and body give the same id: SQS drops a retried send within five
/// minutes.
fn deduplication_id(service: &str, cluster: &str, commit_url: Option<&str>, body: &str) -> String {
    let mut hash = Sha256::new();
    for part in [service.trim(), cluster, commit_url.unwrap_or(""), body] {
        hash.update(part.len().to_le_bytes());
        hash.update(part.as_bytes());
    }
    format!("{:x}", hash.finalize())
}

async fn check_queue(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<(), AwsError> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::new("GetQueueAttributes", e))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `send`'s arguments as the binary reads them.
    #[derive(Debug, Parser)]
    struct Send {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn a_run_s_command_is_every_word_after_the_double_dash() {
        let parsed = Send::try_parse_from([
            "send",
            "--service",
            "web",
            "--run",
            "--container",
            "app",
            "--",
            "bin/rake",
            "-T",
            "db:migrate",
        ])
        .expect("valid");
        assert_eq!(
            parsed.args.file,
            std::path::PathBuf::from("-"),
            "{parsed:?}"
        );
        assert_eq!(parsed.args.command, ["bin/rake", "-T", "db:migrate"]);
        assert_eq!(parsed.args.container.as_deref(), Some("app"));
        assert!(Send::try_parse_from(["send", "--service", "web", "--run", "--", "x"]).is_err());
    }

    #[test]
    fn a_retried_send_has_the_same_deduplication_id() {
        let a = deduplication_id("web", "", Some("u"), "{}");
        assert_eq!(a, deduplication_id(" web ", "", Some("u"), "{}"));
        assert_ne!(a, deduplication_id("web", "", None, "{}"));
        assert_ne!(a, deduplication_id("web", "", Some("u"), "{ }"));
        assert_ne!(a, deduplication_id("web", "prod", Some("u"), "{}"));
        assert!(a.len() <= 128);
    }
}
