//! ecs-deployment: deploys Amazon ECS services from an Amazon SQS queue.
//!
//! A message's body is a task definition and its `service` attribute names the service. The worker
//! registers the task definition, points the service at it, watches the rollout until the service's running
//! tasks have really adopted it (or it failed, or `ECS_TIMEOUT` passed, in which case it rolls back), and only
//! then deletes the message.
//!
//! # Layout
//!
//! Five layers; each uses only the layers listed before it (the `layout` test checks it, and the `docs`
//! test that this map names every module):
//!
//! 1. Pure decisions, in [`decide`], with table tests and no AWS SDK, no tokio, no I/O.
//!    - What a message asks for: [`decide::message`] reads its attributes (`decide::message::summary`
//!      says what logs show of a body instead of the body), [`decide::task_definition`] checks the body
//!      against ECS's request shape and passes it on unchanged, [`decide::image_update`] reads an `image`
//!      message and [`decide::revert`] where a `rollback` goes; [`decide::promotion`] what a promotion
//!      pins; [`decide::one_off`] a one-off task's container and command, and whether it succeeded.
//!    - [`decide::guard`]: **is this request allowed** ([`decide::guard::judge`]) by the policy
//!      ([`decide::policy`]), against the revision it replaces; [`decide::classes`] puts every member of
//!      ECS's request model in a class (what runs, or a [`decide::privilege`] group of what the task may
//!      do), [`decide::sameness`] finds the members that differ after ECS's defaults, [`decide::escalation`]
//!      judges those differences and the images ([`decide::members`] reads them), [`decide::resources`]
//!      the CPU and memory limits, [`decide::refusal`] says why not. [`decide::preflight`]: what a task
//!      definition refers to outside ECS, looked up before registering.
//!    - [`decide::rollout`]: **is this rollout done** ([`decide::rollout::judge`]), from one observation of
//!      the service ([`decide::service`]), its tasks and ECS's record of the service deployment
//!      (`decide::rollout::goal`): the record decides when it is the rollout's
//!      ([`decide::rollout::by_record`]), the service's deployments and tasks under ECS's documented rules
//!      otherwise ([`decide::rollout::by_deployments`]); the worker, `send --wait` and `status` share it.
//!      [`decide::ecs_verdict`] reads ECS's own verdict from a record; [`decide::history`] remembers what
//!      earlier reads and UpdateService's answer showed, so a read that is behind (ECS's reads are
//!      eventually consistent) is no news; [`decide::deadline`]: `ECS_TIMEOUT`'s clock, which stands
//!      still while ECS waits on its own schedule; [`decide::digests`]: whether running containers run
//!      what their tags point to now.
//!    - [`decide::ending`]: how a watch's end becomes an outcome, and whether to roll back;
//!      [`decide::evidence`]: ECS's words worth quoting; [`decide::log_tail`]: which log streams explain a
//!      failed task, and their last lines, bounded.
//!    - [`decide::outcome`]: how a deployment ended, and **what happens to this message**
//!      ([`decide::outcome::disposition`]); the [`decide::outcome::Report`] logs and notifications are
//!      made from.
//!    - [`decide::marker`]: the tags that mark a registered revision with its message, and where a
//!      redelivered message resumes ([`decide::marker::plan`]); [`decide::ledger`]: the record of each
//!      deployment kept on its revision, which `history` reads; [`decide::housekeeping`]: which old
//!      revisions are deregistered.
//!    - [`decide::schedule`]: which message runs when (one per service, in the order sent; only an admitted
//!      message supersedes others).
//!    - [`decide::budget`]: ECS's API rate limits, the worker's share of them, waiting for a turn, and
//!      the poll interval the rollouts in flight can be read at.
//!    - [`decide::names`]: `family:revision`, service names, a queue URL's region.
//! 2. Thin adapters over the AWS SDK, in [`aws`].
//!    - [`aws::ecs`]: the ECS calls, among them **the call that registers a task definition**
//!      ([`aws::ecs::Ecs::register`]) and the marked-revision search ([`aws::ecs::Ecs::find_marked`]);
//!      `aws::ecs::shapes` reads ECS's answers into plain values, `aws::ecs::tasks` lists a service's
//!      tasks, `aws::ecs::service_deployments` reads ECS's records and rolls one back,
//!      `aws::ecs::housekeeping` reads and deregisters old revisions, [`aws::ecs::one_off`] starts one-off
//!      tasks placed as a service's and reads how they ended.
//!    - [`aws::sqs`] and [`aws::sns`]: the SQS and SNS calls; [`aws::poller`]: the DescribeServices and
//!      DescribeServiceDeployments calls every watched rollout shares (`aws::poller::records` for the
//!      records).
//!    - [`aws::ecr`]: what image tags point to now; [`aws::logs`]: a log stream's last lines; [`aws::lookups`]: the pre-flight checks' read-only
//!      calls (ECR, IAM, SSM, Secrets Manager, CloudWatch Logs).
//!    - [`aws::limiter`]: the worker's share of the API budget, which every ECS call waits its turn in.
//!    - [`aws::sdk`]: the SDK's configuration (region, endpoints, timeouts); [`aws::error`]: AWS errors
//!      classified by what happens next; [`aws::attempts`] and [`aws::body`]: SDK interceptors;
//!      [`aws::identity`]: who the worker is (STS, the ECS task metadata).
//! 3. Operations, in [`ops`].
//!    - [`ops::config`]: the environment variables ([`ops::vars`] reads them as text), their defaults
//!      (`ops::config::variables`) and parsers ([`ops::config::values`]), and one-line errors naming a bad
//!      one; [`ops::config::hold`] for `SQS_MAX_HOLD`, `ops::config::budget` for the API budget's;
//!      [`ops::config::policy`]: the admission policy from the environment and `POLICY_FILE`
//!      (`ops::config::policy::forms`: the forms a setting takes).
//!    - [`ops::notify`]: notifications that never hold a deployment up, each sink a file listed once that
//!      implements [`ops::notify::sink`]: [`ops::notify::slack`] (**the Slack payload**,
//!      [`ops::notify::slack::payload`]), [`ops::notify::teams`], [`ops::notify::webhook`],
//!      [`ops::notify::sns`] (with [`ops::notify::legacy`], the old script's messages) and
//!      [`ops::notify::reply`]. [`ops::notify::notice`] is the JSON format `send --wait` reads back;
//!      [`ops::notify::post`] posts to webhooks, [`ops::notify::markup`] makes text safe for Markdown.
//!    - [`ops::metrics`], [`ops::health`] and [`ops::http`]: the counters, `/metrics`, `/healthz` and
//!      `/readyz`.
//! 4. The runtime that wires the layers above together, in [`runtime`].
//!    - [`runtime::worker::run`]: the worker, in three steps: [`runtime::startup`], the receive loop
//!      ([`runtime::receive`], with [`runtime::deployments`] running deployments of different services at
//!      once), and the drain on stop ([`runtime::drain`]).
//!    - [`runtime::job`]: one message's run, settlement and final log line; [`runtime::ledger`] writes its
//!      record, [`runtime::housekeeping`] deregisters old revisions after it.
//!    - [`runtime::inflight`]: the messages held, **the heartbeat** ([`runtime::inflight::heartbeat`])
//!      that keeps them hidden, and their release.
//!    - [`runtime::actions`]: **the message actions**, one file each, listed once
//!      (`runtime::actions::deploy`, `runtime::actions::image`, `runtime::actions::redeploy`,
//!      `runtime::actions::rollback`; what each is: `runtime::actions::message_action`).
//!    - [`runtime::deploy`]: the steps actions share: [`runtime::admission`] asks the guard,
//!      [`runtime::preflight`] looks up what a task definition refers to, [`runtime::register`] registers
//!      and updates the service, `runtime::deploy::change` resolves a message against what its service
//!      runs, `runtime::deploy::started` is the rollout watched, `runtime::deploy::follow` watches it,
//!      `runtime::deploy::digests` checks a redeploy's images, `runtime::deploy::summary` is what it did, `runtime::deploy::before` runs a message's task before the
//!      update (one per family at a time), `runtime::deploy::tail` reads a failed task's last log lines, `runtime::deploy::one_off` waits for a
//!      one-off task's end;
//!      [`runtime::watch`] watches and rolls back (never over a deployment it did not start), within the
//!      message's hold ([`ops::config::hold`]): `runtime::watch::timekeeping` keeps `ECS_TIMEOUT`'s
//!      clock, `runtime::watch::capacity` gives time finding capacity back, `runtime::watch::report` tells
//!      what happens, `runtime::watch::rollback` rolls back, `runtime::watch::ended` is how a watch ended, `runtime::watch::observe` one reading of it. [`runtime::retry`]: backoff while AWS fails;
//!      [`runtime::identity`]: who the worker is, at start.
//!    - [`runtime::clients`] and [`runtime::shutdown`]: the clients and the stop requests the worker is
//!      given.
//! 5. The subcommands for producers and operators, in [`cli`], reusing the decisions and adapters above:
//!    [`cli::validate`] (with [`cli::admit`], the guard before sending), [`cli::send`] (with
//!    [`cli::follow`] for `--wait` and [`cli::progress`] for its lines), [`cli::promote`],
//!    [`cli::status`], [`cli::history`], [`cli::diff`], [`cli::proceed`] (`continue`),
//!    [`cli::healthcheck`]; [`cli::args`] and [`cli::exit`] are what they share.

pub mod aws;
pub mod cli;
pub mod decide;
pub mod ops;
pub mod runtime;

pub use decide::outcome::Report;
pub use ops::config::Config;
pub use runtime::{Clients, Shutdown, Stop, StopSender, run};
