//! The subcommands for producers and operators, through the real binary, against moto and ecs-sim.

mod common;

use std::path::PathBuf;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use common::{Bed, CliRun, cli, task_definition};
use ecs_deployment::decide::outcome::Outcome;
use serde_json::Value;

/// Writes `body` to a file of this test process; returns its path.
fn file(name: &str, body: &str) -> String {
    let path: PathBuf =
        std::env::temp_dir().join(format!("ecs-deployment-{}-{name}", std::process::id()));
    std::fs::write(&path, body).expect("write a test file");
    path.display().to_string()
}

fn expect(run: &CliRun, code: i32, stream_has: &str) {
    assert_eq!(run.code, code, "{run:#?}");
    assert!(
        run.stdout.contains(stream_has) || run.stderr.contains(stream_has),
        "expected {stream_has:?} in {run:#?}"
    );
}

/// Environment with SQS and ECS on a port nothing listens on.
fn unreachable() -> Vec<(&'static str, String)> {
    let nowhere = format!("http://127.0.0.1:{}", testbed::free_port());
    let mut env = testbed::isolated_aws_env();
    env.push(("AWS_ENDPOINT_URL_SQS", nowhere.clone()));
    env.push(("AWS_ENDPOINT_URL_ECS", nowhere));
    env.push((
        "SQS_URL",
        "http://127.0.0.1:1/123456789012/deployments".to_owned(),
    ));
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn every_subcommand_documents_itself_and_its_exit_codes() {
    for sub in ["run", "validate", "send", "status", "diff", "healthcheck"] {
        let help = cli(testbed::isolated_aws_env(), &[sub, "--help"], None).await;
        expect(&help, 0, "Exit codes");
    }
    let wrong = cli(testbed::isolated_aws_env(), &["deploy"], None).await;
    assert_eq!(wrong.code, 2, "{wrong:?}");
    let wrong = cli(testbed::isolated_aws_env(), &["validate", "--bogus"], None).await;
    expect(&wrong, 2, "--bogus");
    let wrong = cli(
        testbed::isolated_aws_env(),
        &["send", "--service", "web", "--timeout", "soon"],
        None,
    )
    .await;
    expect(&wrong, 2, "--timeout");
    let missing = cli(testbed::isolated_aws_env(), &["status"], None).await;
    expect(&missing, 2, "--service");
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_judges_a_body_offline_exactly_as_the_worker_would() {
    let env = testbed::isolated_aws_env;
    let good = task_definition("web", "nginx:1.28", "healthy").to_string();
    let path = file("good.json", &good);
    let run = cli(env(), &["validate", &path], None).await;
    expect(
        &run,
        0,
        "valid: task definition family 'web', 1 container (app)",
    );
    assert!(run.stdout.contains("health-checked: app"), "{run:?}");
    // With a service, the policy too; ECS cannot be reached here, so only the rules that need no
    // comparison with the service's revision are applied, with a warning.
    let run = cli(
        unreachable(),
        &["validate", "--service", "web", "-"],
        Some(&good),
    )
    .await;
    expect(&run, 0, "deploys service 'web'");
    expect(
        &run,
        0,
        "warning: not compared with the revision it would replace",
    );

    let mut bad: Value = serde_json::from_str(&good).expect("JSON");
    bad["containerDefinitions"][0]["imag"] = Value::String("typo".into());
    let run = cli(env(), &["validate", "-"], Some(&bad.to_string())).await;
    expect(&run, 1, "containerDefinitions[0].imag");
    let run = cli(
        env(),
        &["validate", "--service", "my web", "-"],
        Some(&good),
    )
    .await;
    expect(&run, 1, "'service'");
    let run = cli(env(), &["validate", "-"], Some("{")).await;
    expect(&run, 1, "not JSON");
    let run = cli(env(), &["validate", "/no/such/file.json"], None).await;
    expect(&run, 2, "cannot read /no/such/file.json");
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_applies_the_workers_policy_against_the_revision_the_service_runs() {
    let bed = Bed::start(false).await;
    bed.service("web", 1, (true, true)).await;
    let mut privileged = task_definition("web", "nginx:1.29", "healthy");
    privileged["containerDefinitions"][0]["privileged"] = Value::Bool(true);
    let body = file("privileged.json", &privileged.to_string());

    // Read from ecs-sim: web:1 is not privileged.
    let run = bed
        .cli(&["validate", "--service", "web", &body], None)
        .await;
    expect(
        &run,
        1,
        "refused: policy: containerDefinitions[0].privileged",
    );
    expect(&run, 1, "ALLOWED_PRIVILEGES");
    let good = file(
        "good-validate.json",
        &task_definition("web", "nginx:1.29", "healthy").to_string(),
    );
    let run = bed
        .cli(&["validate", "--service", "web", &good], None)
        .await;
    expect(&run, 0, "allowed by the policy, compared with web:1");

    // A policy file that allows it for web.
    let policy = file(
        "policy.toml",
        "[[service]]\nmatch = \"web\"\nallowed_privileges = [\"privileged\"]\n",
    );
    let run = bed
        .cli(
            &["validate", "--service", "web", "--policy", &policy, &body],
            None,
        )
        .await;
    expect(&run, 0, "allowed by the policy, compared with web:1");
    let broken = file(
        "broken.toml",
        "[[service]]\nmatch = \"web\"\nallowed_privileges = [\"root\"]\n",
    );
    let run = bed
        .cli(
            &["validate", "--service", "web", "--policy", &broken, &body],
            None,
        )
        .await;
    expect(&run, 2, "--policy");
    expect(&run, 2, "\"root\" is not one of");

    // The current revision given as a file, with ECS out of reach: a revision that is privileged already.
    let run = cli(
        unreachable(),
        &["validate", "--service", "web", "--current", &body, &body],
        None,
    )
    .await;
    expect(&run, 0, "allowed by the policy, compared with");
    let run = bed
        .cli(&["validate", "--service", "nowhere", &good], None)
        .await;
    expect(&run, 1, "service 'nowhere' not found");
    let run = bed
        .cli(&["validate", "--policy", &policy, &good], None)
        .await;
    expect(&run, 2, "give --service too");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_puts_a_valid_message_on_the_queue_with_the_workers_attributes() {
    let bed = Bed::start(false).await;
    let body = task_definition("web", "nginx:1.28", "healthy").to_string();
    let path = file("send.json", &body);
    let run = bed
        .cli(
            &[
                "send",
                "--service",
                "web",
                "--commit-url",
                "https://x/c/1",
                &path,
            ],
            None,
        )
        .await;
    expect(&run, 0, "sent message ");
    let messages = bed.receive_all(&bed.queue_url, 1).await;
    assert_eq!(messages[0].body(), Some(body.as_str()));
    let attribute = |name: &str| {
        messages[0]
            .message_attributes()
            .and_then(|a| a.get(name))
            .and_then(|v| v.string_value())
            .map(str::to_owned)
    };
    assert_eq!(attribute("service").as_deref(), Some("web"));
    assert_eq!(attribute("commit_url").as_deref(), Some("https://x/c/1"));
    assert!(
        run.stdout.contains(messages[0].message_id().unwrap_or("?")),
        "{run:?}"
    );

    // Invalid: nothing is sent.
    let run = bed
        .cli(&["send", "--service", "web", "-"], Some("{\"family\": 1}"))
        .await;
    expect(&run, 1, "invalid: ");
    // No queue anywhere.
    let run = cli(
        testbed::isolated_aws_env(),
        &["send", "--service", "web", &path],
        None,
    )
    .await;
    expect(&run, 2, "SQS_URL");
    // A reply queue that does not exist is found out before anything is sent.
    let missing = format!("{}/123456789012/nope", bed.bed.moto.endpoint());
    let run = bed
        .cli(
            &["send", "--service", "web", "--reply-to", &missing, &path],
            None,
        )
        .await;
    expect(&run, 3, "--reply-to");
    assert_eq!(
        bed.counts(&bed.queue_url).await,
        (0, 1),
        "only the first message was sent"
    );

    // FIFO: grouped by service, and a retried send is not sent twice.
    let fifo = bed.fifo_queue("deployments.fifo").await;
    for _ in 0..2 {
        let run = bed
            .cli(
                &["send", "--service", "web", "--queue-url", &fifo, &path],
                None,
            )
            .await;
        expect(&run, 0, "sent message ");
    }
    let out = bed
        .sqs
        .receive_message()
        .queue_url(&fifo)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .expect("receive");
    let messages = out.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let group = messages[0]
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId));
    assert_eq!(group.map(String::as_str), Some("web"));

    // SQS unreachable: exit 3, saying which call failed.
    let run = cli(unreachable(), &["send", "--service", "web", &path], None).await;
    expect(&run, 3, "SendMessage");
}

/// `send --wait` of `file` to service `web`, through the reply queue when given, polling every 200 ms.
async fn send_wait(bed: &Bed, reply: Option<&str>, file: &str) -> CliRun {
    let mut args = vec![
        "send",
        "--service",
        "web",
        "--wait",
        "--timeout",
        "60s",
        "--poll-interval",
        "200ms",
    ];
    if let Some(reply) = reply {
        args.extend(["--reply-to", reply]);
    }
    args.push(file);
    bed.cli(&args, None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn send_wait_follows_each_deployment_to_its_outcome() {
    let bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    let wait = |tag: &str, behaviour: &str| {
        file(
            &format!("nginx-{tag}.json"),
            &task_definition("web", &format!("nginx:{tag}"), behaviour).to_string(),
        )
    };

    // Through the reply queue: the worker's own verdict.
    let good = wait("1.28", "healthy");
    let run = send_wait(&bed, Some(&replies), &good).await;
    expect(&run, 0, "Deployed web in default: web:1 → web:2");
    assert!(
        run.stderr.contains("web: web:2"),
        "progress is shown: {run:?}"
    );
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);

    let crash = wait("1.29", "crash");
    let run = send_wait(&bed, Some(&replies), &crash).await;
    expect(&run, 1, "Deployment of web in default failed");
    assert!(run.stderr.contains("ECS said"), "{run:?}");
    assert!(matches!(
        worker.next_report().await.outcome,
        Outcome::Failed { .. }
    ));

    // Without a reply queue: by watching the service for the revision tagged with the message id.
    let good = wait("1.30", "healthy");
    let run = send_wait(&bed, None, &good).await;
    expect(&run, 0, "deployed: service 'web' runs web:4");
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    let crash = wait("1.31", "crash");
    let run = send_wait(&bed, None, &crash).await;
    expect(&run, 1, "not deployed: web:5");
    assert!(matches!(
        worker.next_report().await.outcome,
        Outcome::Failed { .. }
    ));

    // Nobody deploys it: exit 4 once --timeout passed.
    worker.stop().await;
    let run = bed
        .cli(
            &[
                "send",
                "--service",
                "web",
                "--wait",
                "--reply-to",
                &replies,
                "--timeout",
                "2s",
                "--poll-interval",
                "1s",
                &good,
            ],
            None,
        )
        .await;
    expect(&run, 4, "no outcome within --timeout");
    // Register-only has no service to watch.
    let run = bed
        .cli(
            &[
                "send",
                "--service",
                "false",
                "--wait",
                "--timeout",
                "60s",
                &good,
            ],
            None,
        )
        .await;
    expect(&run, 2, "--reply-to");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_shows_deployments_and_whether_each_task_runs_the_target() {
    let bed = Bed::start(false).await;
    bed.service("web", 2, (true, true)).await;
    let run = bed.cli(&["status", "--service", "web"], None).await;
    expect(
        &run,
        0,
        "service web in cluster default: ACTIVE, 2 desired, 2 running",
    );
    assert!(run.stdout.contains("PRIMARY"), "{run:?}");
    assert_eq!(run.stdout.matches("  match").count(), 2, "{run:?}");
    assert!(run.stdout.contains("the rollout is complete"), "{run:?}");

    // --watch draws the view again as the service changes, until interrupted.
    let mut env = bed.bed.env();
    env.push(("SQS_URL", bed.queue_url.clone()));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-deployment"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .args([
            "status",
            "--service",
            "web",
            "--watch",
            "--interval",
            "100ms",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start status --watch");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_with = |lines: std::sync::mpsc::Receiver<String>, text: &'static str| {
        tokio::task::spawn_blocking(move || {
            let found = testbed::wait_until_blocking(text, common::REPORT_DEADLINE, || {
                lines
                    .recv_timeout(common::REPORT_DEADLINE)
                    .ok()
                    .filter(|l| l.contains(text))
            });
            (found, lines)
        })
    };
    let (_, lines) = next_with(lines, "the rollout is complete")
        .await
        .expect("first view");
    let v2 = bed.register("web", "nginx:1.28", "healthy").await;
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&v2)
        .send()
        .await
        .expect("update the service");
    let (line, _) = next_with(lines, "TARGET web:2")
        .await
        .expect("a later view");
    assert!(line.contains("TARGET web:2"), "{line}");
    child.kill().expect("interrupt status --watch");
    let _ = child.wait();

    let run = bed.cli(&["status", "--service", "nope"], None).await;
    expect(&run, 3, "service 'nope' not found in cluster 'default'");
    let run = bed
        .cli(
            &["status", "--service", "web", "--cluster", "elsewhere"],
            None,
        )
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    let run = cli(unreachable(), &["status", "--service", "web"], None).await;
    expect(&run, 3, "DescribeServices");
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_shows_what_would_change_against_the_service() {
    let bed = Bed::start(false).await;
    let current = bed.service("web", 1, (true, true)).await;
    // What the aws CLI prints for the service's revision is the same task definition: no changes.
    let described = testbed::aws_json(
        &bed.bed.sim.endpoint(),
        &[
            "ecs",
            "describe-task-definition",
            "--task-definition",
            &current,
            "--include",
            "TAGS",
        ],
    );
    let same = file("same.json", &described.to_string());
    let run = bed.cli(&["diff", "--service", "web", &same], None).await;
    expect(&run, 0, "no changes");

    let mut changed = described["taskDefinition"].clone();
    changed["containerDefinitions"][0]["image"] = Value::String("nginx:1.99".into());
    let changed = file("changed.json", &changed.to_string());
    let run = bed.cli(&["diff", "--service", "web", &changed], None).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("--- service web (web:1)"), "{run:?}");
    assert!(
        run.stdout.contains("-      \"image\": \"nginx:1.27\""),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("+      \"image\": \"nginx:1.99\""),
        "{run:?}"
    );
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .count(),
        1,
        "only the image changed: {run:?}"
    );

    let run = bed
        .cli(&["diff", "--service", "web", "-"], Some("{}"))
        .await;
    expect(&run, 2, "family");
    let run = bed.cli(&["diff", "--service", "nope", &same], None).await;
    expect(&run, 3, "service 'nope' not found");
    let run = cli(unreachable(), &["diff", "--service", "web", &same], None).await;
    expect(&run, 3, "DescribeServices");
}
