//! Test support: starts moto's server (SQS) and ecs-sim (ECS) on free loopback ports for one test, gives the
//! test their endpoints and clients, and stops them when the test ends, also when it panics.
//!
//! - [`Moto`]: moto's server as a child process, from the project's `.venv/` (made by `scripts/setup-venv.sh`),
//!   through `scripts/moto-server.py`, which makes SQS ReceiveMessage faithful for several receivers.
//! - [`Sim`]: an in-process [`ecs_sim::SimServer`] plus its `/_sim/` control API.
//! - [`TestBed`]: both, for tests of the worker.
//! - [`aws_cli`], [`ecs_client`], [`sqs_client`], [`ecr_client`]: clients that talk only to the emulators;
//!   [`push_image`] and [`move_tag`] put images in moto's ECR.
//! - [`wait_until`]: waits on a condition with a deadline instead of sleeping.
//!
//! Nothing is shared between tests: every test gets its own processes and ports, so tests run in parallel.
//! A missing `.venv` fails the test with the command that sets it up; nothing is ever skipped silently.

use std::time::Duration;

mod clients;
mod ecr;
mod local;
mod moto;
mod sim;
mod wait;

use clients::MOTO_SERVED;
pub use clients::*;
pub use ecr::*;
pub use local::{ACCOUNT_ID, REGION, free_port, venv_bin, workspace_root};
pub use moto::Moto;
pub use sim::Sim;
pub use wait::{wait_until, wait_until_blocking};

/// moto for SQS and ecs-sim for ECS, for one test.
pub struct TestBed {
    /// SQS (and SNS) emulator.
    pub moto: Moto,
    /// ECS simulator.
    pub sim: Sim,
}

impl TestBed {
    /// Starts both; ecs-sim with `tick` per simulated second.
    pub fn start(tick: Option<Duration>) -> Self {
        Self {
            moto: Moto::start(),
            sim: Sim::start(tick),
        }
    }

    /// Environment for a process under test (the worker, the `aws` CLI): the emulators' endpoints, the
    /// region and dummy credentials, and nothing from the developer's own AWS configuration.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = isolated_aws_env();
        env.push(("AWS_ENDPOINT_URL_SQS", self.moto.endpoint()));
        env.push(("AWS_ENDPOINT_URL_SNS", self.moto.endpoint()));
        env.push(("AWS_ENDPOINT_URL_STS", self.moto.endpoint()));
        for variable in MOTO_SERVED {
            env.push((variable, self.moto.endpoint()));
        }
        env.push(("AWS_ENDPOINT_URL_ECS", self.sim.endpoint()));
        // ecs-sim has no rate limits unless a test turns them on, and its time runs faster than the
        // worker's: the worker keeps to none either, unless the test gives it limits in the sim's pace.
        env.push(("ECS_API_LIMITS", "none".to_owned()));
        // ecs-sim's behaviour label (`dockerLabels`) is how a test makes a rollout crash; labels are what
        // a service may do, so the worker under test allows that group to change.
        env.push(("ALLOWED_PRIVILEGES", "labels".to_owned()));
        env
    }
}
