//! The real `ecs-deployment` binary: configuration errors, and the README's `aws sqs send-message` example
//! deployed end to end with JSON logs.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Bed, REPORT_DEADLINE, short};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_ecs-deployment");

/// The binary with only the given environment (and PATH).
fn worker(env: &[(&str, String)]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null());
    command
}

#[test]
fn a_missing_or_invalid_variable_exits_2_naming_it_before_any_aws_call() {
    let sim = testbed::Sim::start(None);
    let mut base = testbed::isolated_aws_env();
    base.push(("AWS_ENDPOINT_URL", sim.endpoint()));
    let queue = (
        "SQS_URL",
        "http://127.0.0.1:9/123456789012/deployments".to_owned(),
    );
    let policy = |name: &str, text: &str| {
        let path = std::env::temp_dir().join(format!("policy-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, text).expect("write a policy file");
        path.display().to_string()
    };
    let bad_policy = policy(
        "bad",
        "[[service]]\nmatch = \"team-a-*\"\nallowed_images = [\"x[\"]\n",
    );
    let good_policy = policy("good", "allowed_services = [\"team-*\"]\n");
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![], "SQS_URL"),
        (vec![("SQS_URL", "deployments".into())], "SQS_URL"),
        (
            vec![queue.clone(), ("ECS_TIMEOUT", "soon".into())],
            "ECS_TIMEOUT",
        ),
        (
            vec![queue.clone(), ("ECS_POLL_INTERVAL", "0".into())],
            "ECS_POLL_INTERVAL",
        ),
        (
            vec![queue.clone(), ("SQS_WAIT_TIME", "60".into())],
            "SQS_WAIT_TIME",
        ),
        (
            vec![queue.clone(), ("ROLLBACK_ON_FAILURE", "perhaps".into())],
            "ROLLBACK_ON_FAILURE",
        ),
        (
            vec![queue.clone(), ("LOG_FORMAT", "xml".into())],
            "LOG_FORMAT",
        ),
        (
            vec![
                queue.clone(),
                ("ALLOWED_PRIVILEGES", "privileged,root".into()),
            ],
            "ALLOWED_PRIVILEGES",
        ),
        (
            vec![queue.clone(), ("POLICY_FILE", bad_policy.clone())],
            "[[service]] #1 (match team-a-*): allowed_images",
        ),
        (
            vec![
                queue.clone(),
                ("POLICY_FILE", good_policy.clone()),
                ("ALLOWED_SERVICES", "web".into()),
            ],
            "ALLOWED_SERVICES: is set both in the environment and in POLICY_FILE",
        ),
    ];
    for (vars, variable) in cases {
        let mut env = base.clone();
        env.extend(vars.iter().cloned());
        let output = worker(&env).output().expect("run the worker");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{vars:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(variable), "{stderr} should name {variable}");
    }

    // No region anywhere, and a queue URL that names none.
    let env: Vec<(&str, String)> = base
        .iter()
        .filter(|(k, _)| !k.contains("REGION"))
        .cloned()
        .chain([queue])
        .collect();
    let output = worker(&env).output().expect("run the worker");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("AWS_REGION"), "{stderr}");

    assert_eq!(sim.stats()["total"], 0, "no AWS call was made");
}

/// A fenced block of README.md, found by the `<!-- example: NAME -->` line before it.
fn readme_example(name: &str) -> String {
    let readme =
        std::fs::read_to_string(testbed::workspace_root().join("README.md")).expect("README.md");
    let marker = format!("<!-- example: {name} -->");
    let after = &readme[readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"))..];
    let block = after
        .split("```")
        .nth(1)
        .expect("a fenced block after the marker");
    block
        .split_once('\n')
        .map_or("", |(_, code)| code)
        .to_owned()
}

/// Lines the child writes to stderr, as they come.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_send_message_example_is_deployed_by_the_binary() {
    let bed = Bed::start(true).await;
    // The service runs the README's task definition with an older image: the example changes only that.
    let mut running: serde_json::Value =
        serde_json::from_str(&readme_example("taskdef.json")).expect("the example is JSON");
    running["containerDefinitions"][0]["image"] = "nginx:1.27".into();
    let registered = bed.bed.sim.call("RegisterTaskDefinition", &running);
    bed.bed.sim.call(
        "CreateService",
        &serde_json::json!({"cluster": "default", "serviceName": "web", "desiredCount": 2,
            "taskDefinition": registered["taskDefinition"]["taskDefinitionArn"]}),
    );
    bed.first_rollout("web").await;
    let mut env = bed.bed.env();
    env.extend([
        ("SQS_URL", bed.queue_url.clone()),
        ("ECS_POLL_INTERVAL", "100ms".into()),
        ("SQS_WAIT_TIME", "1".into()),
        ("LOG_FORMAT", "json".into()),
    ]);
    let mut child = worker(&env)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    let lines = stderr_lines(&mut child);

    // The producer: the README's task definition and command, run by bash with the venv's aws CLI.
    let dir = std::env::temp_dir().join(format!("ecs-deployment-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("taskdef.json"), readme_example("taskdef.json")).expect("taskdef.json");
    let venv_bin = testbed::venv_bin("aws")
        .parent()
        .expect("venv bin")
        .to_owned();
    let output = Command::new("bash")
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        // awscli v1 sends SQS calls to queue.amazonaws.com whatever AWS_ENDPOINT_URL_SQS says, so the
        // README's command runs with the endpoint given on the command line instead.
        .arg(format!(
            "aws() {{ command aws --endpoint-url \"$AWS_ENDPOINT_URL_SQS\" \"$@\"; }}\n{}",
            readme_example("send")
        ))
        .current_dir(&dir)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                venv_bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run the README's command");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sent: Value = serde_json::from_slice(&output.stdout).expect("send-message prints JSON");
    let message_id = sent["MessageId"].as_str().expect("a message id").to_owned();

    let deadline = std::time::Instant::now() + REPORT_DEADLINE;
    let mut log = Vec::new();
    let finished = loop {
        let remaining = deadline.saturating_duration_since(std::time::Instant::now());
        let line = lines.recv_timeout(remaining).unwrap_or_else(|_| {
            panic!(
                "no 'deployment finished' line; the log so far:\n{}",
                log.join("\n")
            )
        });
        let entry: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        log.push(line);
        if entry["message"] == "deployment finished" {
            break entry;
        }
    };
    assert_eq!(finished["message_id"], message_id.as_str());
    assert_eq!(finished["outcome"], "deployed", "{finished}");
    assert_eq!(finished["service"], "web");
    assert_eq!(finished["cluster"], "default");
    assert_eq!(
        finished["commit_url"],
        "https://github.com/example/web/commit/abc123"
    );
    assert_eq!(
        finished["previous_task_definition"].as_str().map(short),
        Some("web:1")
    );
    assert_eq!(
        finished["new_task_definition"].as_str().map(short),
        Some("web:2")
    );
    assert!(finished["duration_ms"].is_u64(), "{finished}");
    // Every line of the deployment carries its commit_url.
    let during: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("registered the task definition"))
        .collect();
    assert!(
        !during.is_empty() && during.iter().all(|l| l.contains("commit/abc123")),
        "{during:?}"
    );
    bed.assert_queue_empty().await;

    // SIGTERM: the worker stops receiving and exits 0.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status =
        testbed::wait_until_blocking("the worker to exit", Duration::from_secs(30), || {
            child.try_wait().ok().flatten()
        });
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_queue_that_does_not_exist_stops_the_worker_with_exit_1() {
    let moto = testbed::Moto::start();
    let mut env = testbed::isolated_aws_env();
    env.extend([
        ("AWS_ENDPOINT_URL_SQS", moto.endpoint()),
        (
            "SQS_URL",
            format!("{}/123456789012/no-such-queue", moto.endpoint()),
        ),
    ]);
    let output = worker(&env).output().expect("run the worker");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .lines()
            .last()
            .is_some_and(|l| l.contains("SQS_URL") && l.contains("does not exist")),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_are_text_or_json_lines_filtered_by_rust_log() {
    let bed = Bed::start(true).await;
    // JSON, warnings and errors only: the rejection's final line is there, info lines are not.
    let mut quiet = common::WorkerProcess::start(&bed, &[("RUST_LOG", "warn")]);
    bed.send("{", &[("service", "web")]).await;
    let finished = quiet.wait_for("deployment finished", |_| true);
    assert_eq!(finished["level"], "ERROR");
    assert_eq!(finished["outcome"], "rejected");
    assert!(
        quiet.log.iter().all(|l| l["level"] != "INFO"),
        "{}",
        quiet.log_text()
    );
    quiet.signal("TERM");
    assert_eq!(quiet.wait_exit(), Some(0));

    // Text: one readable key=value line per event.
    let mut env = bed.bed.env();
    env.extend([
        ("SQS_URL", bed.queue_url.clone()),
        ("SQS_WAIT_TIME", "1".to_owned()),
        ("LOG_FORMAT", "text".to_owned()),
    ]);
    let mut child = worker(&env)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    let lines = stderr_lines(&mut child);
    let line = testbed::wait_until_blocking("the receiving line", REPORT_DEADLINE, || {
        lines
            .recv_timeout(REPORT_DEADLINE)
            .ok()
            .filter(|l| l.contains("receiving deployments"))
    });
    assert!(!line.starts_with('{'), "{line}");
    assert!(line.contains(" INFO ") && line.contains("queue="), "{line}");
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let status = child.wait().expect("the worker exits");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_that_does_not_exist_stops_the_worker_with_exit_1_naming_ecs_cluster() {
    let bed = Bed::start(true).await;
    let mut worker = common::WorkerProcess::start(&bed, &[("ECS_CLUSTER", "prodd")]);
    // Within the report deadline; a worker that goes on receiving fails here.
    assert_eq!(worker.wait_exit(), Some(1), "{}", worker.log_text());
    let stopping = worker.wait_for("stopping", |_| true);
    let error = stopping["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("ECS_CLUSTER") && error.contains("prodd"),
        "{error}"
    );
    assert_eq!(
        bed.bed.sim.calls("DescribeServices"),
        0,
        "no message was tried"
    );
}
