//! The ECS operations and their errors, through aws-sdk-ecs and through raw AWS JSON 1.1 requests.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_ecs::config::retry::RetryConfig;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use common::Stepped;
use serde_json::{Value, json};

/// Sends a raw AWS JSON 1.1 request; returns the HTTP status and the parsed body.
fn raw(endpoint: &str, operation: &str, body: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(endpoint)
        .header(
            "X-Amz-Target",
            &format!("AmazonEC2ContainerServiceV20141113.{operation}"),
        )
        .header("Content-Type", "application/x-amz-json-1.1")
        .send(body)
        .expect("send raw request");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-amz-json-1.1")
    );
    let status = response.status().as_u16();
    let body = response.body_mut().read_json().expect("JSON body");
    (status, body)
}

#[tokio::test]
async fn requests_with_unknown_members_or_wrong_types_are_rejected_naming_the_member() {
    let bed = Stepped::start().await;
    let endpoint = bed.sim.endpoint();
    let cases = [
        (
            "RegisterTaskDefinition",
            r#"{"family":"f","containerDefinitions":[{"name":"a","image":"i","memoryReservaton":64}]}"#,
            "SerializationException",
            "containerDefinitions[0].memoryReservaton",
        ),
        (
            "UpdateService",
            r#"{"service":"s","desiredCount":"3"}"#,
            "SerializationException",
            "desiredCount",
        ),
        (
            "DescribeServices",
            r#"{"services":"web"}"#,
            "SerializationException",
            "services",
        ),
        (
            "DescribeServices",
            "{not json",
            "SerializationException",
            "not JSON",
        ),
        (
            "CreateService",
            r#"{"serviceName":"s","launchType":"SUBMARINE"}"#,
            "InvalidParameterException",
            "launchType",
        ),
        (
            "RegisterTaskDefinition",
            r#"{"family":"f","containerDefinitions":[{"name":"a"}]}"#,
            "ClientException",
            "containerDefinitions[0].image",
        ),
        (
            "ListClusters",
            "{}",
            "UnknownOperationException",
            "ListClusters",
        ),
    ];
    for (operation, body, code, named) in cases {
        let (status, answer) = raw(&endpoint, operation, body);
        assert_eq!(status, 400, "{operation} {body}: {answer}");
        assert_eq!(answer["__type"], code, "{operation} {body}: {answer}");
        let message = answer["message"].as_str().unwrap_or("");
        assert!(
            message.contains(named),
            "{operation} {body}: '{message}' should name {named}"
        );
    }
}

#[tokio::test]
async fn errors_reach_the_sdk_as_the_modelled_exceptions() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "web:1", "healthy", false).await;
    bed.create_service("web", &v1, 1, (false, false)).await;

    let err = bed
        .ecs
        .update_service()
        .service("nope")
        .send()
        .await
        .expect_err("no such service");
    assert!(err.into_service_error().is_service_not_found_exception());

    let err = bed
        .ecs
        .describe_services()
        .cluster("nope")
        .services("web")
        .send()
        .await
        .expect_err("no such cluster");
    assert!(err.into_service_error().is_cluster_not_found_exception());

    let err = bed
        .ecs
        .describe_task_definition()
        .task_definition("nope:1")
        .send()
        .await
        .expect_err("no such task definition");
    assert!(err.into_service_error().is_client_exception());

    let eleven: Vec<String> = (0..11).map(|i| format!("s{i}")).collect();
    let err = bed
        .ecs
        .describe_services()
        .set_services(Some(eleven))
        .send()
        .await
        .expect_err("more than 10 services");
    assert!(err.into_service_error().is_invalid_parameter_exception());

    let described = bed
        .ecs
        .describe_services()
        .services("web")
        .services("ghost")
        .send()
        .await
        .expect("describe");
    assert_eq!(described.services().len(), 1);
    let failure = &described.failures()[0];
    assert_eq!(failure.reason(), Some("MISSING"));
    assert_eq!(
        failure.arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:service/default/ghost")
    );

    for desired in [-1, 5001, i32::MAX] {
        let err = bed
            .ecs
            .update_service()
            .service("web")
            .desired_count(desired)
            .send()
            .await
            .expect_err("desiredCount out of range");
        assert!(
            err.into_service_error().is_invalid_parameter_exception(),
            "{desired}"
        );
    }
    let err = bed
        .ecs
        .update_service()
        .service("web")
        .deployment_configuration(
            aws_sdk_ecs::types::DeploymentConfiguration::builder()
                .minimum_healthy_percent(150)
                .build(),
        )
        .send()
        .await
        .expect_err("minimumHealthyPercent over 100");
    assert!(err.into_service_error().is_invalid_parameter_exception());

    let err = bed
        .ecs
        .delete_service()
        .service("web")
        .send()
        .await
        .expect_err("scaled above 0");
    assert!(err.into_service_error().is_invalid_parameter_exception());
    let deleted = bed
        .ecs
        .delete_service()
        .service("web")
        .force(true)
        .send()
        .await
        .expect("force delete");
    assert_eq!(deleted.service().and_then(|s| s.status()), Some("DRAINING"));
    let err = bed
        .ecs
        .update_service()
        .service("web")
        .desired_count(2)
        .send()
        .await
        .expect_err("service is draining");
    assert!(err.into_service_error().is_service_not_active_exception());
    bed.step_until("web", 30, |s| s.status() == Some("INACTIVE"))
        .await;
}

#[tokio::test]
async fn injected_faults_are_seen_by_the_sdk_as_the_right_errors() {
    let bed = Stepped::start().await;
    let no_retries = aws_sdk_ecs::Client::from_conf(
        testbed::ecs_config(&bed.sim.endpoint())
            .retry_config(RetryConfig::disabled())
            .build(),
    );

    bed.sim
        .inject_fault(json!({"operation": "DescribeClusters", "kind": "throttle", "count": 1}));
    let err = no_retries
        .describe_clusters()
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(raw_status(&err), Some(400));
    no_retries
        .describe_clusters()
        .send()
        .await
        .expect("the fault was used up");

    bed.sim
        .inject_fault(json!({"operation": "DescribeClusters", "kind": "error500", "count": 1}));
    let err = no_retries
        .describe_clusters()
        .send()
        .await
        .expect_err("server error");
    assert_eq!(raw_status(&err), Some(500));
    assert!(err.into_service_error().is_server_exception());

    // The SDK's own retries get past a short burst of throttling.
    let retrying = aws_sdk_ecs::Client::from_conf(
        testbed::ecs_config(&bed.sim.endpoint())
            .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(5)))
            .build(),
    );
    let before = bed.sim.calls("DescribeClusters");
    bed.sim
        .inject_fault(json!({"operation": "DescribeClusters", "kind": "throttle", "count": 2}));
    retrying
        .describe_clusters()
        .send()
        .await
        .expect("retried past throttling");
    assert_eq!(bed.sim.calls("DescribeClusters") - before, 3);
    assert_eq!(bed.sim.stats()["faulted"]["DescribeClusters"], 1 + 1 + 2);

    bed.sim
        .inject_fault(json!({"operation": "*", "kind": "delay", "delayMs": 300, "count": 1}));
    let start = Instant::now();
    no_retries
        .describe_clusters()
        .send()
        .await
        .expect("delayed, not failed");
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );

    bed.sim
        .inject_fault(json!({"kind": "throttle", "every": 2}));
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(no_retries.describe_clusters().send().await.is_ok());
    }
    assert_eq!(outcomes, [true, false, true, false]);
    bed.sim.clear_faults();
    no_retries
        .describe_clusters()
        .send()
        .await
        .expect("faults cleared");
}

fn raw_status<E>(err: &SdkError<E, aws_sdk_ecs::config::http::HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}
