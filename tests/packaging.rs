//! The files operators copy (Dockerfile, docker-compose.yml, aws-task-definition.json, iam-policy.json)
//! parse and agree with the code: variable names, port, binary name, health check, and the AWS operations
//! the worker calls.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ecs_deployment::ops::config::{Config, is_variable, parse_listen};
use serde_json::Value;

const BINARY: &str = "ecs-deployment";
const INSTALLED: &str = "/usr/local/bin/ecs-deployment";

fn read(path: &str) -> String {
    std::fs::read_to_string(testbed::workspace_root().join(path))
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// docker-compose.yml as JSON, read by PyYAML from `.venv/` (moto's server depends on it).
fn compose() -> Value {
    let out = Command::new(testbed::venv_bin("python"))
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(testbed::workspace_root().join("docker-compose.yml"))
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("docker-compose.yml as JSON")
}

/// Is this a variable the worker reads (or the SDK's, or the log filter)?
fn known(variable: &str) -> bool {
    is_variable(variable) || variable.starts_with("AWS_") || variable == "RUST_LOG"
}

/// The worker's configuration from `pairs`, as the binary would read it.
fn config(pairs: impl IntoIterator<Item = (String, String)>) -> Config {
    Config::from_vars(pairs).unwrap_or_else(|e| panic!("not a valid configuration: {e}"))
}

#[test]
fn the_dockerfile_builds_a_small_non_root_image_that_checks_its_own_health() {
    let dockerfile = read("Dockerfile");
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let froms: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    assert!(froms[0].contains(" AS build"), "{froms:?}");
    let last = froms.last().copied().unwrap_or_default();
    assert!(
        last.contains("gcr.io/distroless/") && last.ends_with("AS worker"),
        "{last}"
    );
    assert!(
        dockerfile.contains("cargo build --release --locked"),
        "built from Cargo.lock"
    );
    assert!(
        dockerfile.contains("--mount=type=cache"),
        "dependencies are cached between builds"
    );

    // The worker stage: what follows the last FROM.
    let worker: Vec<&str> = lines.iter().copied().skip_while(|l| *l != last).collect();
    let has = |line: &str| worker.contains(&line);
    assert!(has("USER nonroot:nonroot"), "{worker:?}");
    assert!(has("STOPSIGNAL SIGTERM"), "{worker:?}");
    assert!(has(&format!(r#"ENTRYPOINT ["{INSTALLED}"]"#)), "{worker:?}");
    assert!(has(r#"CMD ["run"]"#), "{worker:?}");
    assert!(
        worker
            .iter()
            .any(|l| l.contains(&format!(r#"CMD ["{INSTALLED}", "healthcheck"]"#))),
        "HEALTHCHECK runs the healthcheck subcommand: {worker:?}"
    );
    assert!(
        worker
            .iter()
            .any(|l| l.starts_with("COPY --from=build") && l.ends_with(INSTALLED)),
        "{worker:?}"
    );
    // The port the image exposes is the one its HTTP_LISTEN serves and its health check probes.
    let env = worker
        .iter()
        .find(|l| l.starts_with("ENV "))
        .expect("an ENV line");
    let listen = env
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("HTTP_LISTEN="))
        .expect("ENV HTTP_LISTEN");
    let port = parse_listen(listen).expect("a valid HTTP_LISTEN").port();
    assert!(has(&format!("EXPOSE {port}")), "{worker:?}");
    for variable in env.trim_start_matches("ENV ").split_whitespace() {
        let name = variable.split('=').next().unwrap_or_default();
        assert!(known(name), "ENV {name} is no variable the worker reads");
    }
    assert!(Path::new(env!("CARGO_BIN_EXE_ecs-deployment")).ends_with(BINARY));
    let help = Command::new(env!("CARGO_BIN_EXE_ecs-deployment"))
        .args(["healthcheck", "--help"])
        .output()
        .expect("run the binary");
    assert!(help.status.success(), "the healthcheck subcommand exists");
    let ignore = read(".dockerignore");
    for kept_out in ["target", ".venv", ".git"] {
        assert!(
            ignore.lines().any(|l| l.trim() == kept_out),
            ".dockerignore: {kept_out}"
        );
    }
}

#[test]
fn the_task_definition_is_valid_and_agrees_with_the_worker() {
    let body = read("aws-task-definition.json");
    let request = ecs_deployment::cli::validate::judge(&body, None, None, None)
        .unwrap_or_else(|e| panic!("the worker's own validation rejects it: {e}"));
    let td = request.task_definition.request();
    assert_eq!(td["networkMode"], "awsvpc");
    assert_eq!(
        td["requiresCompatibilities"],
        serde_json::json!(["FARGATE"])
    );
    for role in ["taskRoleArn", "executionRoleArn"] {
        assert!(
            td[role]
                .as_str()
                .is_some_and(|r| r.starts_with("arn:aws:iam::")),
            "{role}"
        );
    }
    let containers = td["containerDefinitions"].as_array().expect("containers");
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    let environment: Vec<(String, String)> = container["environment"]
        .as_array()
        .expect("environment")
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap_or_default().to_owned();
            assert!(
                known(&name),
                "environment {name} is no variable the worker reads"
            );
            (name, e["value"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let config = config(environment.clone());
    assert_eq!(
        config.log_format,
        ecs_deployment::ops::config::LogFormat::Json
    );
    // ECS waits stopTimeout between SIGTERM and SIGKILL: the grace and the release must fit.
    let stop_timeout = container["stopTimeout"].as_u64().expect("stopTimeout");
    assert!(
        Duration::from_secs(stop_timeout) >= config.shutdown_grace + Duration::from_secs(5),
        "stopTimeout {stop_timeout}s leaves no room after SHUTDOWN_GRACE {:?}",
        config.shutdown_grace
    );
    assert!(stop_timeout <= 120, "Fargate allows at most 120 s");
    let port = config.http_listen.expect("HTTP_LISTEN").port();
    assert_eq!(
        container["portMappings"][0]["containerPort"].as_u64(),
        Some(u64::from(port))
    );
    assert_eq!(
        container["healthCheck"]["command"],
        serde_json::json!(["CMD", INSTALLED, "healthcheck"])
    );
    assert_eq!(container["logConfiguration"]["logDriver"], "awslogs");
}

#[test]
fn docker_compose_runs_against_aws_and_all_locally() {
    let compose = compose();
    let services = compose["services"].as_object().expect("services");
    let profile = |name: &str| services[name]["profiles"].clone();
    assert_eq!(profile("worker"), serde_json::json!(["aws"]));
    for local in ["moto", "ecs-sim", "setup", "worker-local"] {
        assert_eq!(profile(local), serde_json::json!(["local"]), "{local}");
    }

    // Against AWS: settings from an env file, credentials from a read-only ~/.aws and AWS_PROFILE.
    let worker = &services["worker"];
    assert_eq!(worker["build"]["target"], "worker");
    assert_eq!(worker["env_file"], "ecs-deployment.env");
    assert!(worker["environment"]["AWS_PROFILE"].is_string());
    assert!(
        worker["volumes"]
            .as_array()
            .is_some_and(|v| v.iter().any(|v| v
                .as_str()
                .is_some_and(|v| v.contains("/.aws:") && v.ends_with(":ro")))),
        "{worker}"
    );
    let example: Vec<(String, String)> = read("ecs-deployment.env.example")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            assert!(
                known(k),
                "ecs-deployment.env.example: {k} is no variable the worker reads"
            );
            (k.to_owned(), v.to_owned())
        })
        .collect();
    config(example);

    // Locally: the worker against moto and ecs-sim, once the setup job made the queue and the service.
    let local = &services["worker-local"];
    assert_eq!(
        local["depends_on"]["setup"]["condition"],
        "service_completed_successfully"
    );
    let environment: Vec<(String, String)> = local["environment"]
        .as_object()
        .expect("environment")
        .iter()
        .map(|(k, v)| {
            assert!(
                known(k),
                "worker-local: {k} is no variable the worker reads"
            );
            (k.clone(), v.as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let local_config = config(environment.clone());
    assert!(local_config.queue_url.starts_with("http://moto:5000/"));
    let endpoint = |name: &str| {
        environment
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(endpoint("AWS_ENDPOINT_URL_SQS"), "http://moto:5000");
    assert_eq!(endpoint("AWS_ENDPOINT_URL_ECS"), "http://ecs-sim:9000");
    let port = local_config.http_listen.expect("HTTP_LISTEN").port();
    for name in ["worker", "worker-local"] {
        assert!(
            services[name]["ports"].as_array().is_some_and(|p| p
                .iter()
                .any(|p| p.as_str().is_some_and(|p| p.ends_with(&format!(":{port}"))))),
            "{name} publishes {port}"
        );
        // Docker's stop timeout leaves room for SHUTDOWN_GRACE.
        assert_eq!(services[name]["stop_grace_period"], "30s");
    }
    assert_eq!(services["ecs-sim"]["build"]["target"], "ecs-sim");
    let setup = read("deploy/local/setup.sh");
    assert!(
        setup.contains("--queue-name deployments "),
        "the queue worker-local reads"
    );
    assert!(setup.contains("--service-name web"));
    let syntax = Command::new("bash")
        .args(["-n"])
        .arg(testbed::workspace_root().join("deploy/local/setup.sh"))
        .status()
        .expect("run bash -n");
    assert!(syntax.success(), "deploy/local/setup.sh has a syntax error");
}

/// The worker's source files: every `.rs` file under `src/` but the subcommands in `src/cli/` and files
/// that hold only tests (`tests.rs`, `fixtures.rs`).
fn worker_sources(src: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a source folder") {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                if path != src.join("cli") {
                    folders.push(path);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" && name != "fixtures.rs" {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The AWS operations the worker's source calls (the producer subcommands in `src/cli/` excluded), as
/// IAM actions.
fn actions_the_worker_calls() -> BTreeSet<String> {
    const SQS: [&str; 8] = [
        "receive_message",
        "delete_message",
        "delete_message_batch",
        "change_message_visibility",
        "change_message_visibility_batch",
        "get_queue_attributes",
        "get_queue_url",
        "send_message",
    ];
    const SNS: [&str; 2] = ["publish", "publish_batch"];
    // The pre-flight checks' and the digest check's read-only calls, by service.
    const READS: [(&str, &str); 6] = [
        ("batch_get_image", "ecr:BatchGetImage"),
        ("describe_images", "ecr:DescribeImages"),
        ("get_role", "iam:GetRole"),
        ("get_parameters", "ssm:GetParameters"),
        ("describe_secret", "secretsmanager:DescribeSecret"),
        ("describe_log_groups", "logs:DescribeLogGroups"),
    ];
    // STS's GetCallerIdentity needs no permission: no policy can deny it.
    const NO_PERMISSION: [&str; 1] = ["get_caller_identity"];
    let mut actions = BTreeSet::new();
    let src = testbed::workspace_root().join("src");
    let mut calls = 0;
    for path in worker_sources(&src) {
        let text = std::fs::read_to_string(&path).expect("a source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        // An SDK call is `client` then `.operation(` (possibly on the next line).
        let compact: String = code.split_whitespace().collect();
        for (at, _) in compact.match_indices("client.") {
            let rest = &compact[at + "client.".len()..];
            let method: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !rest[method.len()..].starts_with('(') || method.is_empty() || method == "clone" {
                continue;
            }
            if NO_PERMISSION.contains(&method.as_str()) {
                calls += 1;
                continue;
            }
            let operation: String = method
                .split('_')
                .map(|w| {
                    let mut chars = w.chars();
                    chars
                        .next()
                        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                })
                .collect();
            let action = if SQS.contains(&method.as_str()) {
                format!("sqs:{}", operation.trim_end_matches("Batch"))
            } else if SNS.contains(&method.as_str()) {
                format!("sns:{}", operation.trim_end_matches("Batch"))
            } else if let Some((_, action)) = READS.iter().find(|(m, _)| *m == method) {
                (*action).to_owned()
            } else if ecs_model::model().has_operation(&operation) {
                format!("ecs:{operation}")
            } else {
                panic!(
                    "{}: `client.{method}(` is no known SQS, SNS, ECS or read-only check operation",
                    path.display()
                );
            };
            calls += 1;
            actions.insert(action);
        }
    }
    assert!(
        calls >= 15,
        "the scan found only {calls} SDK calls: {actions:?}"
    );
    // Registering a task definition with a task or execution role passes that role to ECS.
    if actions.contains("ecs:RegisterTaskDefinition") {
        actions.insert("iam:PassRole".to_owned());
    }
    actions
}

#[test]
fn the_iam_policy_allows_what_the_worker_calls_and_nothing_else() {
    let policy = json("iam-policy.json");
    assert_eq!(policy["Version"], "2012-10-17");
    let statements = policy["Statement"].as_array().expect("statements");
    let actions_of = |s: &Value| -> Vec<String> {
        match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(all) => all
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            other => panic!("Action {other}"),
        }
    };
    let mut allowed = BTreeSet::new();
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        for action in actions_of(statement) {
            assert!(!action.contains('*'), "no wildcard actions: {action}");
            allowed.insert(action);
        }
    }
    let called = actions_the_worker_calls();
    let missing: Vec<&String> = called.difference(&allowed).collect();
    let unused: Vec<&String> = allowed.difference(&called).collect();
    assert!(
        missing.is_empty(),
        "the worker calls these, the policy does not allow them: {missing:?}"
    );
    assert!(
        unused.is_empty(),
        "the policy allows these, the worker never calls them: {unused:?}"
    );

    // Narrowed where AWS allows it.
    let statement_of = |action: &str| {
        statements
            .iter()
            .find(|s| actions_of(s).iter().any(|a| a == action))
            .unwrap_or_else(|| panic!("no statement allows {action}"))
    };
    let resources = |statement: &Value| -> Vec<String> {
        match &statement["Resource"] {
            Value::String(r) => vec![r.clone()],
            Value::Array(all) => all
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect(),
            other => panic!("Resource {other}"),
        }
    };
    let pass_role = statement_of("iam:PassRole");
    assert_eq!(
        pass_role["Condition"]["StringEquals"]["iam:PassedToService"],
        "ecs-tasks.amazonaws.com"
    );
    for role in resources(pass_role) {
        assert!(
            !role.contains('*'),
            "iam:PassRole only for named roles: {role}"
        );
    }
    let describe = resources(statement_of("ecs:DescribeServices"));
    assert!(
        describe.iter().all(|r| r.contains(":service/")),
        "{describe:?}"
    );
    for service in resources(statement_of("ecs:UpdateService")) {
        assert!(
            service.contains(":service/") && !service.ends_with("/*"),
            "ecs:UpdateService only on the allowed services, not the whole cluster: {service}"
        );
    }
    for deployment in resources(statement_of("ecs:StopServiceDeployment")) {
        assert!(
            deployment.contains(":service-deployment/default/")
                && !deployment.ends_with("default/*"),
            "ecs:StopServiceDeployment only on the allowed services' deployments: {deployment}"
        );
    }
    let register = statement_of("ecs:RegisterTaskDefinition");
    for family in resources(register) {
        assert!(family.contains(":task-definition/"), "{family}");
    }
    assert_eq!(
        register["Condition"]["StringEqualsIfExists"]["ecs:privileged"], "false",
        "no privileged revision, whatever the worker is told"
    );
    assert!(
        resources(statement_of("ecs:DescribeTasks"))
            .iter()
            .all(|r| r.contains(":task/")),
        "ecs:DescribeTasks only on the cluster's tasks"
    );
    assert!(
        statement_of("ecs:ListTasks")["Condition"]["ArnEquals"]["ecs:cluster"].is_string(),
        "ecs:ListTasks only in the cluster"
    );
    for action in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:SendMessage",
        "sns:Publish",
        "ecs:TagResource",
        "ecs:UntagResource",
    ] {
        for statement in statements
            .iter()
            .filter(|s| actions_of(s).iter().any(|a| a == action))
        {
            assert_ne!(
                statement["Resource"], "*",
                "{action} on named resources only"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_profile_sets_up_and_deploys_against_moto_and_ecs_sim() {
    let bed = testbed::TestBed::start(Some(Duration::from_millis(10)));
    let services = compose()["services"].clone();
    // The compose hosts stand for the emulators of this test.
    let local = |value: &str| {
        value
            .replace("http://moto:5000", &bed.moto.endpoint())
            .replace("http://ecs-sim:9000", &bed.sim.endpoint())
    };
    let environment = |service: &str| -> Vec<(String, String)> {
        services[service]["environment"]
            .as_object()
            .expect("environment")
            .iter()
            .map(|(k, v)| (k.clone(), local(v.as_str().unwrap_or_default())))
            .collect()
    };

    // The one-shot job, with the real aws CLI; a wrapper passes each service's endpoint as the CLI's
    // --endpoint-url, which the aws CLI in .venv/ needs for SQS.
    let dir = std::env::temp_dir().join(format!("ecs-deployment-setup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let wrapper = dir.join("aws");
    std::fs::write(
        &wrapper,
        "#!/usr/bin/env bash\nvar=AWS_ENDPOINT_URL_$(tr a-z A-Z <<<\"$1\")\nexec \"$REAL_AWS\" --endpoint-url \"${!var}\" \"$@\"\n",
    )
    .expect("write the wrapper");
    let chmod = Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .expect("chmod");
    assert!(chmod.success());
    let setup = Command::new("bash")
        .arg(testbed::workspace_root().join("deploy/local/setup.sh"))
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("REAL_AWS", testbed::venv_bin("aws"))
        .envs(testbed::isolated_aws_env())
        .envs(environment("setup"))
        .output()
        .expect("run the setup job");
    assert!(
        setup.status.success(),
        "{}{}",
        String::from_utf8_lossy(&setup.stdout),
        String::from_utf8_lossy(&setup.stderr)
    );

    // The worker with worker-local's settings deploys the message the job sent.
    let config = config(
        environment("worker-local")
            .into_iter()
            .filter(|(k, _)| k != "HTTP_LISTEN"),
    );
    let clients = ecs_deployment::Clients::from_clients(
        testbed::sqs_client(&bed.moto.endpoint()),
        testbed::ecs_client(&bed.sim.endpoint()),
        testbed::sns_client(&bed.moto.endpoint()),
        testbed::sts_client(&bed.moto.endpoint()),
        ecs_deployment::aws::lookups::Lookups {
            ecr: testbed::ecr_client(&bed.moto.endpoint()),
            iam: testbed::iam_client(&bed.moto.endpoint()),
            ssm: testbed::ssm_client(&bed.moto.endpoint()),
            secrets: testbed::secrets_client(&bed.moto.endpoint()),
            logs: testbed::logs_client(&bed.moto.endpoint()),
        },
    );
    let (reports_tx, mut reports) = tokio::sync::mpsc::unbounded_channel();
    let (stop, shutdown) = ecs_deployment::Shutdown::new();
    let worker = tokio::spawn(async move {
        ecs_deployment::run(&config, clients, shutdown, Some(reports_tx)).await
    });
    let report = tokio::time::timeout(Duration::from_secs(60), reports.recv())
        .await
        .expect("a deployment within a minute")
        .expect("a report");
    assert_eq!(
        report.outcome,
        ecs_deployment::decide::outcome::Outcome::Deployed,
        "{report:?}"
    );
    assert_eq!(report.service, "web");
    assert!(
        report
            .new_task_definition
            .is_some_and(|td| td.ends_with("task-definition/web:2"))
    );
    stop.request();
    let stopped = tokio::time::timeout(Duration::from_secs(30), worker)
        .await
        .expect("the worker stops")
        .expect("no panic");
    assert!(matches!(stopped, Ok(ecs_deployment::Stop::Graceful)));
    let _ = std::fs::remove_dir_all(dir);
}

/// Findings of parliament accepted, each with its reason from the Service Authorization Reference:
/// (issue, the actions it names, why it stays).
const ACCEPTED_FINDINGS: [(&str, &str, &str); 2] = [
    (
        "RESOURCE_STAR",
        "ecs:ListTasks",
        "ListTasks's only resource type is container-instance, which listing a service's tasks does not \
         name; the statement is limited to the cluster by the ecs:cluster condition key instead (Service \
         Authorization Reference, Amazon Elastic Container Service, ListTasks)",
    ),
    (
        "UNKNOWN_ACTION",
        "ecs:StopServiceDeployment",
        "parliament's action database predates StopServiceDeployment, which the Service Authorization \
         Reference lists for Amazon Elastic Container Service on the service-deployment resource type",
    ),
];

#[test]
fn parliament_finds_nothing_in_the_iam_policy_but_what_is_accepted_with_its_reason() {
    // parliament reads a policy from standard input whenever it is not a terminal.
    let policy = std::fs::File::open(testbed::workspace_root().join("iam-policy.json"))
        .expect("iam-policy.json");
    let out = Command::new(testbed::venv_bin("parliament"))
        .arg("--json")
        .stdin(policy)
        .output()
        .expect("run parliament (make setup installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let findings: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a finding ({e}): {l}\n{stderr}"))
        })
        .collect();
    assert!(
        out.status.success() || !findings.is_empty(),
        "parliament failed: {stderr}"
    );
    let mut accepted = Vec::new();
    for finding in &findings {
        let issue = finding["issue"].as_str().unwrap_or_default();
        // Most findings list their actions in `detail`; an unknown action is named in `location`.
        let actions: Vec<&str> = match &finding["detail"] {
            Value::Array(d) => d.iter().filter_map(Value::as_str).collect(),
            _ => finding["location"]["string"].as_str().into_iter().collect(),
        };
        let reason = ACCEPTED_FINDINGS
            .iter()
            .find(|(i, action, _)| *i == issue && actions == [*action])
            .map(|(_, _, reason)| reason);
        assert!(
            reason.is_some(),
            "a finding to fix or accept with its reason: {finding}"
        );
        accepted.push((issue, actions));
    }
    assert_eq!(
        accepted.len(),
        ACCEPTED_FINDINGS.len(),
        "an accepted finding no longer reported: drop it from ACCEPTED_FINDINGS ({findings:?})"
    );
}

#[test]
fn the_example_policy_lets_team_a_deploy_only_what_is_its_own() {
    use ecs_deployment::decide::guard::{Case, judge};
    use ecs_deployment::decide::message::parse;
    use ecs_deployment::decide::policy::{Identity, Privilege};

    let path = testbed::workspace_root().join("deploy/policy.example.toml");
    let config = config([
        (
            "SQS_URL".to_owned(),
            "https://sqs.eu-west-1.amazonaws.com/123456789012/deployments".to_owned(),
        ),
        ("POLICY_FILE".to_owned(), path.display().to_string()),
    ]);
    let policy = &config.policy;
    assert!(policy.register_only.is_empty() && policy.new_families.is_empty());
    assert!(
        policy
            .rules_for("team-a-media-transcode")
            .privileges
            .contains(&Privilege::Devices)
    );
    assert!(policy.rules_for("team-a-web").privileges.is_empty());

    let digest = "a".repeat(64);
    let ours = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web@sha256:{digest}");
    let theirs = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-b/web@sha256:{digest}");
    let current = json_value(&format!(
        r#"{{"family": "team-a-web", "containerDefinitions": [{{"name": "web", "image": "{ours}"}}]}}"#
    ));
    let identity = Identity {
        region: Some("eu-west-1".into()),
        account: Some("123456789012".into()),
        queue_url: Some(config.queue_url.clone()),
        dead_letter_queue_url: None,
        ..Identity::default()
    };
    let judged = |service: &str, body: &Value| {
        let attributes = BTreeMap::from([("service".to_owned(), service.to_owned())]);
        let request = parse(&body.to_string(), &attributes).expect("a valid message");
        let baseline = current.as_object().cloned().unwrap_or_default();
        judge(
            policy,
            &identity,
            &Case {
                request: &request,
                cluster: "default",
                baseline: Some(&baseline),
            },
        )
        .map_err(|refusal| refusal.rule)
    };
    let with = |image: &str, role: &str| {
        json_value(&format!(
            r#"{{"family": "team-a-web", "taskRoleArn": "{role}",
                "containerDefinitions": [{{"name": "web", "image": "{image}"}}]}}"#
        ))
    };
    let team_role = "arn:aws:iam::123456789012:role/team-a-web";
    assert_eq!(judged("team-a-web", &with(&ours, team_role)), Ok(()));
    assert_eq!(
        judged("team-a-web", &with(&theirs, team_role)),
        Err("image")
    );
    assert_eq!(
        judged(
            "team-a-web",
            &with(&ours, "arn:aws:iam::123456789012:role/admin")
        ),
        Err("task_role")
    );
    assert_eq!(
        judged("team-a-web", &with("nginx:1.27", team_role)),
        Err("image"),
        "a tag, from another registry"
    );
    assert_eq!(
        judged("team-b-web", &with(&ours, team_role)),
        Err("service_not_allowed")
    );
    assert_eq!(
        judged("platform-dns", &with(&ours, team_role)),
        Err("service_denied")
    );
}

fn json_value(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

#[test]
fn docker_compose_follows_the_compose_specification() {
    let check = |file: &Path| {
        Command::new(testbed::venv_bin("check-jsonschema"))
            .args(["--builtin-schema", "vendor.compose-spec"])
            .arg(file)
            .output()
            .expect("run check-jsonschema")
    };
    let compose = testbed::workspace_root().join("docker-compose.yml");
    let out = check(&compose);
    assert!(
        out.status.success(),
        "docker-compose.yml against the compose specification:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The check can fail: a service with a member the specification does not have.
    let broken = std::env::temp_dir().join(format!("compose-{}.yml", std::process::id()));
    std::fs::write(
        &broken,
        read("docker-compose.yml").replacen("services:\n", "services:\n  bad:\n    imag: x\n", 1),
    )
    .expect("write a broken copy");
    let out = check(&broken);
    let _ = std::fs::remove_file(&broken);
    assert!(!out.status.success(), "a broken compose file passes");
}
