//! The files operators copy (Dockerfile, docker-compose.yml, aws-task-definition.json, iam-policy.json)
//! parse and agree with the code: variable names, port, binary name, health check, and the AWS operations
//! the worker calls.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::files::{BINARY, INSTALLED, config, known, read};
use ecs_deployment::ops::config::parse_listen;

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
