//! `ecs-deployment`: deploys Amazon ECS services from an Amazon SQS queue.
//!
//! The worker itself is not built yet; this binary only reports so and exits non-zero, so that nothing
//! mistakes it for a running deployer.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "ecs-deployment {}: the deployment worker is not implemented yet; \
         `make demo` shows the local test bed (moto and ecs-sim) it will run against",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::FAILURE
}
