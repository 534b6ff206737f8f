//! `ecs-deployment send`: validates a task definition, sends it as a deployment message with the right
//! attributes, and with `--wait` follows the deployment to its outcome ([`crate::cli::follow`]).

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use sha2::{Digest, Sha256};

use crate::aws::ecs::Ecs;
use crate::aws::error::AwsError;
use crate::aws::sdk::sdk_config;
use crate::aws::sqs::send_message;
use crate::cli::args::{ClusterArg, InputFile, QueueArg, duration_arg, read_input};
use crate::cli::exit::{EXIT_OK, Failure};
use crate::cli::follow::Follow;
use crate::cli::validate::{judge, summary};
use crate::decide::message::{COMMIT_URL_ATTRIBUTE, REPLY_TO_ATTRIBUTE, SERVICE_ATTRIBUTE, Target};
use crate::decide::names::service_name;

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
    /// The message body: a task definition, or `aws ecs describe-task-definition` output; `-` reads
    /// standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub file: InputFile,
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    let body = read_input(&args.file)?;
    let request = judge(
        &body,
        Some(&args.service),
        args.commit_url.as_deref(),
        args.reply_to.as_deref(),
    )
    .map_err(|reason| Failure::no(format!("invalid: {reason}")))?;
    let queue = args.queue.required()?;
    if args.wait && request.target == Target::RegisterOnly && args.reply_to.is_none() {
        return Err(Failure::usage(
            "--wait with --service false needs --reply-to: no service shows a registration",
        ));
    }
    let wait = args.poll_interval.min(Duration::from_secs(20));
    let sdk = sdk_config(Some(queue), wait).await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    if let Some(reply) = &args.reply_to {
        check_queue(&sqs, reply)
            .await
            .map_err(|e| Failure::aws(format!("--reply-to: {e}")))?;
    }

    let service = args.service.trim();
    let mut attributes = vec![(SERVICE_ATTRIBUTE, service)];
    if let Some(url) = &args.commit_url {
        attributes.push((COMMIT_URL_ATTRIBUTE, url));
    }
    if let Some(reply) = &args.reply_to {
        attributes.push((REPLY_TO_ATTRIBUTE, reply));
    }
    let deduplication_id = deduplication_id(&args.service, args.commit_url.as_deref(), &body);
    let fifo = queue
        .ends_with(".fifo")
        .then(|| (service_name(service), deduplication_id.as_str()));
    let sent = send_message(&sqs, queue, &body, &attributes, fifo)
        .await
        .map_err(|e| Failure::aws(format!("cannot send to {queue}: {e}")))?;
    let message_id = sent.unwrap_or_default();
    println!(
        "sent message {message_id}: {}",
        summary(&request, true).trim_start_matches("valid: ")
    );
    if !args.wait {
        return Ok(EXIT_OK);
    }
    let follow = Follow {
        sqs,
        ecs: Ecs::new(aws_sdk_ecs::Client::new(&sdk), &args.cluster.cluster),
        service: match &request.target {
            Target::Service(service) => Some(service.clone()),
            Target::RegisterOnly => None,
        },
        family: request.task_definition.family().to_owned(),
        message_id,
        reply_to: args.reply_to.clone(),
        poll_interval: args.poll_interval,
        timeout: args.timeout,
    };
    follow.run().await
}

/// The same service, link and body give the same id: SQS drops a retried send within five minutes.
fn deduplication_id(service: &str, commit_url: Option<&str>, body: &str) -> String {
    let mut hash = Sha256::new();
    for part in [service.trim(), commit_url.unwrap_or(""), body] {
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
    use super::*;

    #[test]
    fn a_retried_send_has_the_same_deduplication_id() {
        let a = deduplication_id("web", Some("u"), "{}");
        assert_eq!(a, deduplication_id(" web ", Some("u"), "{}"));
        assert_ne!(a, deduplication_id("web", None, "{}"));
        assert_ne!(a, deduplication_id("web", Some("u"), "{ }"));
        assert!(a.len() <= 128);
    }
}
