//! What every notification sink is: its name, the variables it reads, and how it posts a notice.

use std::fmt::Debug;
use std::future::Future;

use crate::ops::notify::notice::Notice;
use crate::ops::vars::{Problem, Vars};

/// The AWS clients a sink may post through.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// SQS, for replies.
    pub sqs: aws_sdk_sqs::Client,
    /// SNS, for a topic.
    pub sns: aws_sdk_sns::Client,
}

/// A notification sink, set up from its own variables.
pub trait NotificationSink: Sized + Send + Sync + 'static {
    /// Its name, in logs and in the `sink` label of `ecs_deployment_notifications_total`.
    const NAME: &'static str;
    /// The variables it reads.
    const VARIABLES: &'static [&'static str];
    /// Whether it takes only the notices of messages that asked for a reply (`reply_to`).
    const REPLIES_ONLY: bool = false;
    /// What its variables set, once read.
    type Settings: Debug + Clone + PartialEq + Send + Sync;

    /// Reads its variables: `None` when they do not set it up; the error names the variable at fault.
    fn settings(vars: &Vars) -> Result<Option<Self::Settings>, Problem>;

    /// The sink for `settings`, posting through `aws` if it needs to; the error says why it cannot run.
    fn start(settings: &Self::Settings, aws: &AwsClients) -> Result<Self, String>;

    /// Posts `notice`; the error says why it was not delivered.
    fn deliver(&self, notice: &Notice) -> impl Future<Output = Result<(), String>> + Send;
}
