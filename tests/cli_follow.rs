//! The subcommands that follow and show deployments (`send --wait`, `status`, `diff`), through the real binary, against moto and ecs-sim.

mod common;

use common::cli::{expect, file, unreachable};
use common::{Bed, CliRun, cli, task_definition};
use ecs_deployment::decide::outcome::Outcome;
use serde_json::Value;

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
