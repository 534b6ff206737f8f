//! docker-compose.yml: against AWS and all locally, by the compose specification, and the local profile deploying against moto and ecs-sim.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::files::{compose, config, known, read};

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
