//! The end-to-end harness: moto (SQS) and ecs-sim (ECS, real-time ticks) per test, a deployment queue,
//! services to deploy, and the worker running through the library's entry point. By job: [`queue`]
//! (queues, sending, queue assertions), [`ecs`] (task definitions and services), [`worker`] (the worker in
//! this process), [`process`] (the worker as the real binary), [`cli`] (other runs of the binary),
//! [`http`] (a local webhook receiver), [`proxy`] (a recording proxy in front of SQS or ECS).

#![allow(dead_code)]

use std::time::Duration;

use testbed::TestBed;

pub mod calls;
pub mod cli;
pub mod ecs;
pub mod files;
pub mod hostile;
pub mod http;
pub mod process;
pub mod proxy;
pub mod queue;
pub mod scan;
pub mod worker;

// Each test binary uses its own part of the harness.
#[allow(unused_imports)]
pub use cli::{CliRun, cli};
#[allow(unused_imports)]
pub use ecs::{short, task_definition};
#[allow(unused_imports)]
pub use http::{HttpReceiver, denying_endpoint};
#[allow(unused_imports)]
pub use process::WorkerProcess;
#[allow(unused_imports)]
pub use proxy::{Event, Hold, Proxy};
#[allow(unused_imports)]
pub use worker::RunningWorker;

use queue::deployment_queue;

/// Real time per simulated second: a healthy two-task rollout takes about a tenth of a second.
pub const TICK: Duration = Duration::from_millis(10);
/// Real time per simulated second where a bake of ECS's own must clearly outlast ECS_TIMEOUT while the
/// tasks' own start stays well within it.
pub const SLOWER: Duration = Duration::from_millis(50);
/// How long a test waits for a deployment's report before failing.
pub const REPORT_DEADLINE: Duration = Duration::from_secs(60);

/// The emulators, clients for them, and the deployment queue.
pub struct Bed {
    /// moto and ecs-sim.
    pub bed: TestBed,
    /// SQS client for moto.
    pub sqs: aws_sdk_sqs::Client,
    /// ECS client for ecs-sim.
    pub ecs: aws_sdk_ecs::Client,
    /// SNS client for moto.
    pub sns: aws_sdk_sns::Client,
    /// The deployment queue.
    pub queue_url: String,
    /// Its dead-letter queue, when created with one.
    pub dlq_url: Option<String>,
    /// Whether ecs-sim's time moves only when the test advances it.
    pub manual_clock: bool,
}

impl Bed {
    /// Starts moto and ecs-sim, creates the `default` cluster and a deployment queue (with a dead-letter
    /// queue when `dead_letter_queue`).
    pub async fn start(dead_letter_queue: bool) -> Self {
        Self::start_with_clock(dead_letter_queue, Some(TICK)).await
    }

    /// [`Bed::start`] with `tick` of real time per simulated second; `None`: time moves only when the test
    /// advances it (the bed's own helpers advance it while they wait).
    pub async fn start_with_clock(dead_letter_queue: bool, tick: Option<Duration>) -> Self {
        let bed = TestBed::start(tick);
        let sqs = testbed::sqs_client(&bed.moto.endpoint());
        let ecs = testbed::ecs_client(&bed.sim.endpoint());
        let sns = testbed::sns_client(&bed.moto.endpoint());
        ecs.create_cluster()
            .send()
            .await
            .expect("create the default cluster");
        let (queue_url, dlq_url) = deployment_queue(&sqs, dead_letter_queue).await;
        Self {
            bed,
            sqs,
            ecs,
            sns,
            queue_url,
            dlq_url,
            manual_clock: tick.is_none(),
        }
    }
}
