//! The HTTP endpoint (`HTTP_LISTEN`): `/metrics` scraped after real deployments, `/healthz` and
//! `/readyz` through an SQS outage, and the `healthcheck` subcommand that probes them.

mod common;

use common::{Bed, REPORT_DEADLINE, cli, task_definition};
use ecs_deployment::decide::outcome::Outcome;
use serde_json::json;

/// GETs `url`; (status, body), or `None` when nothing answers.
async fn get(url: &str) -> Option<(u16, String)> {
    let response = reqwest::get(url).await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

/// The value of the sample line starting with `prefix` (name and labels).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_what_the_worker_did_and_health_follows_sqs() {
    let mut bed = Bed::start(true).await;
    bed.service("web", 2, (true, true)).await;
    let port = testbed::free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://{listen}");
    let mut worker = bed.start_worker(bed.config(&[
        ("HTTP_LISTEN", listen.as_str()),
        ("SQS_VISIBILITY_TIMEOUT", "6"),
        ("UNHEALTHY_AFTER", "5s"),
    ]));
    testbed::wait_until("the worker is ready", REPORT_DEADLINE, || async {
        get(&format!("{base}/readyz"))
            .await
            .filter(|(s, _)| *s == 200)
    })
    .await;

    // One deployment, one rejection, and a throttled ECS call on the way.
    bed.bed
        .sim
        .inject_fault(json!({"kind": "throttle", "operation": "DescribeServices", "count": 1}));
    bed.send(
        &task_definition("web", "nginx:1.28", "healthy").to_string(),
        &[("service", "web")],
    )
    .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    bed.send("[]", &[("service", "web")]).await;
    assert!(matches!(
        worker.next_report().await.outcome,
        Outcome::Rejected { .. }
    ));

    let (status, text) = get(&format!("{base}/metrics"))
        .await
        .expect("/metrics answers");
    assert_eq!(status, 200);
    for (prefix, at_least) in [
        ("ecs_deployment_messages_received_total ", 2.0),
        (
            r#"ecs_deployment_deployments_total{outcome="deployed"} "#,
            1.0,
        ),
        (
            r#"ecs_deployment_deployments_total{outcome="rejected"} "#,
            1.0,
        ),
        (
            r#"ecs_deployment_deployment_duration_seconds_count{outcome="deployed"} "#,
            1.0,
        ),
        (
            r#"ecs_deployment_aws_errors_total{service="ecs",operation="DescribeServices",error="ThrottlingException"} "#,
            1.0,
        ),
        (
            "ecs_deployment_last_successful_receive_timestamp_seconds ",
            1.0e9,
        ),
    ] {
        let value = sample(&text, prefix).unwrap_or_else(|| panic!("no {prefix} in:\n{text}"));
        assert!(
            value >= at_least,
            "{prefix}{value}, expected at least {at_least}"
        );
    }
    assert_eq!(
        sample(&text, "ecs_deployment_deployments_in_flight "),
        Some(0.0),
        "{text}"
    );
    assert!(
        text.contains("# TYPE ecs_deployment_deployment_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        !text.contains("# EOF"),
        "the classic text format has no end marker"
    );
    // A scraper that asks for OpenMetrics gets it, end marker and all.
    let openmetrics = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await
        .expect("/metrics answers");
    assert!(
        openmetrics.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("application/openmetrics-text"))
    );
    assert!(
        openmetrics
            .text()
            .await
            .is_ok_and(|t| t.ends_with("# EOF\n"))
    );

    let (status, body) = get(&format!("{base}/healthz"))
        .await
        .expect("/healthz answers");
    assert_eq!(status, 200, "{body}");
    // The healthcheck subcommand, as a container health check runs it.
    let mut env = testbed::isolated_aws_env();
    env.push(("HTTP_LISTEN", listen.clone()));
    let probe = cli(env.clone(), &["healthcheck"], None).await;
    assert_eq!(probe.code, 0, "{probe:?}");
    assert!(probe.stdout.starts_with("healthy"), "{probe:?}");

    // SQS goes away: after UNHEALTHY_AFTER without reaching it, the worker says so.
    bed.bed.moto.kill();
    let (_, reason) = testbed::wait_until("/healthz turns unhealthy", REPORT_DEADLINE, || async {
        get(&format!("{base}/healthz"))
            .await
            .filter(|(s, _)| *s == 503)
    })
    .await;
    assert!(reason.contains("SQS"), "{reason}");
    let probe = cli(env.clone(), &["healthcheck"], None).await;
    assert_eq!(probe.code, 1, "{probe:?}");
    assert!(probe.stderr.contains("unhealthy"), "{probe:?}");

    bed.bed.moto.start_again();
    // moto keeps nothing: the queue comes back at the same URL.
    assert_eq!(bed.queue("deployments").await, bed.queue_url);
    testbed::wait_until("/healthz is healthy again", REPORT_DEADLINE, || async {
        get(&format!("{base}/healthz"))
            .await
            .filter(|(s, _)| *s == 200)
    })
    .await;
    worker.stop().await;
    // Nothing listens any more: unhealthy, not a hang or a crash.
    let probe = cli(env, &["healthcheck", "--timeout", "1s"], None).await;
    assert_eq!(probe.code, 1, "{probe:?}");
    assert!(probe.stderr.contains("cannot reach"), "{probe:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_healthcheck_needs_an_endpoint_and_the_worker_needs_its_port() {
    let probe = cli(testbed::isolated_aws_env(), &["healthcheck"], None).await;
    assert_eq!(probe.code, 2, "{probe:?}");
    assert!(probe.stderr.contains("HTTP_LISTEN"), "{probe:?}");
    let mut env = testbed::isolated_aws_env();
    env.push(("HTTP_LISTEN", "nowhere".to_owned()));
    let probe = cli(env, &["healthcheck"], None).await;
    assert_eq!(probe.code, 2, "{probe:?}");
    assert!(probe.stderr.contains("HTTP_LISTEN"), "{probe:?}");

    // A port already taken stops the worker with exit 1 naming HTTP_LISTEN.
    let bed = Bed::start(false).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let mut env = bed.bed.env();
    env.push(("SQS_URL", bed.queue_url.clone()));
    env.push(("HTTP_LISTEN", address));
    let worker = cli(env, &[], None).await;
    assert_eq!(worker.code, 1, "{worker:?}");
    assert!(worker.stderr.contains("HTTP_LISTEN"), "{worker:?}");
}
