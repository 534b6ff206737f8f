//! The ECS operations and their errors, through aws-sdk-ecs and through raw AWS JSON 1.1 requests.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_ecs::config::retry::RetryConfig;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{
    DeploymentController, DeploymentControllerType, DesiredStatus, Tag, TaskDefinitionField,
};
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

#[tokio::test]
async fn list_services_pages_ten_at_a_time_and_leaves_inactive_ones_out() {
    let bed = Stepped::start().await;
    let td = bed.register("web", "web:1", "healthy", false).await;
    for i in 0..12 {
        bed.create_service(&format!("s{i:02}"), &td, 0, (false, false))
            .await;
    }
    bed.ecs
        .delete_service()
        .service("s11")
        .send()
        .await
        .expect("delete");
    bed.step_until("s11", 30, |s| s.status() == Some("INACTIVE"))
        .await;
    let first = bed.ecs.list_services().send().await.expect("list");
    assert_eq!(first.service_arns().len(), 10, "ECS's default page");
    let token = first.next_token().expect("a second page").to_owned();
    let second = bed
        .ecs
        .list_services()
        .next_token(token)
        .send()
        .await
        .expect("list");
    assert_eq!(
        second.service_arns().len(),
        1,
        "s11 is INACTIVE: not listed"
    );
    assert!(second.next_token().is_none());
    let all = bed
        .ecs
        .list_services()
        .max_results(100)
        .send()
        .await
        .expect("list");
    assert!(
        all.service_arns()[0].ends_with("service/default/s00"),
        "{all:?}"
    );
    let daemons = bed
        .ecs
        .list_services()
        .scheduling_strategy(aws_sdk_ecs::types::SchedulingStrategy::Daemon)
        .send()
        .await
        .expect("list");
    assert!(daemons.service_arns().is_empty());
}

#[tokio::test]
async fn list_tasks_filters_and_paginates() {
    let bed = Stepped::start().await;
    let a1 = bed.register("alpha", "alpha:1", "healthy", false).await;
    let b1 = bed.register("beta", "beta:1", "healthy", false).await;
    bed.create_service("a", &a1, 5, (false, false)).await;
    bed.create_service("b", &b1, 2, (false, false)).await;
    bed.complete("a", &a1).await;
    bed.complete("b", &b1).await;

    let count = |builder: aws_sdk_ecs::operation::list_tasks::builders::ListTasksFluentBuilder| async move {
        builder.send().await.expect("list tasks").task_arns().len()
    };
    assert_eq!(count(bed.ecs.list_tasks()).await, 7);
    assert_eq!(count(bed.ecs.list_tasks().service_name("a")).await, 5);
    assert_eq!(count(bed.ecs.list_tasks().family("beta")).await, 2);
    let a_deployment = bed.service("a").await.deployments()[0]
        .id()
        .map(str::to_owned)
        .expect("deployment id");
    assert_eq!(
        count(bed.ecs.list_tasks().started_by(&a_deployment)).await,
        5
    );
    assert_eq!(
        count(bed.ecs.list_tasks().desired_status(DesiredStatus::Stopped)).await,
        0
    );
    assert_eq!(
        count(
            bed.ecs
                .list_tasks()
                .started_by(&a_deployment)
                .desired_status(DesiredStatus::Stopped)
        )
        .await,
        0
    );
    let err = bed
        .ecs
        .list_tasks()
        .started_by(&a_deployment)
        .service_name("a")
        .send()
        .await
        .expect_err("startedBy with another filter");
    let err = err.into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    assert!(
        err.to_string()
            .contains("startedBy must be the only filter"),
        "{err}"
    );

    // Pages of 2 by hand, then through the SDK's paginator.
    let mut seen = BTreeSet::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = bed
            .ecs
            .list_tasks()
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        assert!(page.task_arns().len() <= 2);
        seen.extend(page.task_arns().iter().cloned());
        pages += 1;
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!((seen.len(), pages), (7, 4));
    let paginated: Vec<String> = bed
        .ecs
        .list_tasks()
        .max_results(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .expect("paginate");
    assert_eq!(paginated.into_iter().collect::<BTreeSet<_>>(), seen);

    let err = bed
        .ecs
        .list_tasks()
        .service_name("ghost")
        .send()
        .await
        .expect_err("no such service");
    assert!(err.into_service_error().is_service_not_found_exception());
    let err = bed
        .ecs
        .list_tasks()
        .next_token("garbage")
        .send()
        .await
        .expect_err("bad token");
    assert!(err.into_service_error().is_invalid_parameter_exception());

    let a2 = bed.register("alpha", "alpha:2", "healthy", false).await;
    bed.update("a", &a2).await;
    bed.complete("a", &a2).await;
    assert_eq!(
        count(
            bed.ecs
                .list_tasks()
                .service_name("a")
                .desired_status(DesiredStatus::Stopped)
        )
        .await,
        5
    );
    assert_eq!(
        count(
            bed.ecs
                .list_tasks()
                .started_by(&a_deployment)
                .desired_status(DesiredStatus::Stopped)
        )
        .await,
        5,
        "a deployment's stopped tasks, by its id"
    );

    let described = bed
        .ecs
        .describe_tasks()
        .tasks(seen.iter().next().cloned().expect("a task"))
        .tasks("0123456789abcdef0123456789abcdef")
        .send()
        .await
        .expect("describe tasks");
    assert_eq!(described.tasks().len(), 1);
    assert_eq!(described.failures()[0].reason(), Some("MISSING"));
}

#[tokio::test]
async fn task_definitions_are_revisioned_listed_deregistered_and_tagged() {
    let bed = Stepped::start().await;
    let first = bed
        .ecs
        .register_task_definition()
        .family("svc")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("app")
                .image("app:1")
                .build(),
        )
        .tags(Tag::builder().key("commit").value("abc123").build())
        .send()
        .await
        .expect("register");
    let definition = first.task_definition().expect("task definition");
    assert_eq!(definition.revision(), 1);
    assert_eq!(definition.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert!(definition.registered_at().is_some());
    assert!(definition.registered_by().is_some());
    assert_eq!(definition.compatibilities().len(), 1);
    let container = &definition.container_definitions()[0];
    assert_eq!(container.essential(), Some(true), "ECS fills in essential");
    assert_eq!(first.tags()[0].value(), Some("abc123"));
    let v2 = bed.register("svc", "app:2", "healthy", false).await;
    assert!(v2.ends_with("task-definition/svc:2"), "{v2}");

    let latest = bed
        .ecs
        .describe_task_definition()
        .task_definition("svc")
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .expect("describe latest");
    assert_eq!(latest.task_definition().map(|d| d.revision()), Some(2));
    assert!(latest.tags().is_empty());
    let tagged = bed
        .ecs
        .describe_task_definition()
        .task_definition("svc:1")
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .expect("describe svc:1");
    assert_eq!(tagged.tags()[0].key(), Some("commit"));

    bed.ecs
        .deregister_task_definition()
        .task_definition("svc:2")
        .send()
        .await
        .expect("deregister");
    let latest = bed
        .ecs
        .describe_task_definition()
        .task_definition("svc")
        .send()
        .await
        .expect("describe latest active");
    assert_eq!(latest.task_definition().map(|d| d.revision()), Some(1));
    let inactive = bed
        .ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Inactive)
        .send()
        .await
        .expect("list inactive");
    assert_eq!(inactive.task_definition_arns(), std::slice::from_ref(&v2));
    let active = bed
        .ecs
        .list_task_definitions()
        .family_prefix("svc")
        .send()
        .await
        .expect("list active");
    assert_eq!(active.task_definition_arns().len(), 1);
    let err = bed
        .ecs
        .create_service()
        .service_name("s")
        .task_definition(&v2)
        .desired_count(1)
        .send()
        .await
        .expect_err("inactive task definition");
    assert!(err.into_service_error().is_client_exception());

    let arn = definition.task_definition_arn().expect("arn").to_owned();
    bed.ecs
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("commit").value("def456").build())
        .tags(Tag::builder().key("team").value("platform").build())
        .send()
        .await
        .expect("tag");
    bed.ecs
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .expect("untag");
    let tags = bed
        .ecs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("list tags");
    let pairs: Vec<_> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [(Some("commit"), Some("def456"))]);
    let err = bed
        .ecs
        .list_tags_for_resource()
        .resource_arn("arn:aws:ecs:us-east-1:123456789012:service/default/ghost")
        .send()
        .await
        .expect_err("no such resource");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn services_deleted_behind_the_callers_back_drain_or_vanish() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "web:1", "healthy", false).await;
    bed.create_service("web", &v1, 2, (false, false)).await;
    bed.create_service("api", &v1, 1, (false, false)).await;
    bed.sim.advance(2);

    bed.sim.delete_service("default", "web", false);
    assert_eq!(bed.service("web").await.status(), Some("DRAINING"));
    bed.step_until("web", 30, |s| s.status() == Some("INACTIVE"))
        .await;
    assert!(bed.task_arns("web", "RUNNING").await.is_empty());

    bed.sim.delete_service("default", "api", true);
    let described = bed
        .ecs
        .describe_services()
        .services("api")
        .send()
        .await
        .expect("describe");
    assert!(described.services().is_empty());
    assert_eq!(described.failures()[0].reason(), Some("MISSING"));

    let clusters = bed
        .ecs
        .describe_clusters()
        .clusters("default")
        .clusters("ghost")
        .send()
        .await
        .expect("describe clusters");
    assert_eq!(clusters.clusters()[0].cluster_name(), Some("default"));
    assert_eq!(clusters.failures()[0].reason(), Some("MISSING"));
}

#[tokio::test]
async fn code_deploy_and_external_services_are_created_but_not_updated_to_a_task_definition() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "nginx:1", "healthy", false).await;
    let v2 = bed.register("web", "nginx:2", "healthy", false).await;
    for (name, controller) in [
        ("blue-green", DeploymentControllerType::CodeDeploy),
        ("external", DeploymentControllerType::External),
    ] {
        let mut create = bed
            .ecs
            .create_service()
            .service_name(name)
            .desired_count(2)
            .deployment_controller(
                DeploymentController::builder()
                    .r#type(controller.clone())
                    .build()
                    .expect("controller"),
            );
        if controller == DeploymentControllerType::CodeDeploy {
            create = create.task_definition(&v1);
        }
        create.send().await.expect("create the service");
        let service = bed.service(name).await;
        assert_eq!(
            service.deployment_controller().map(|c| c.r#type()),
            Some(&controller)
        );
        assert!(service.deployments().is_empty(), "{service:#?}");

        let err = bed
            .ecs
            .update_service()
            .service(name)
            .task_definition(&v2)
            .send()
            .await
            .expect_err("not through UpdateService");
        let err = err.into_service_error();
        assert!(err.is_invalid_parameter_exception(), "{err:?}");
        assert!(
            err.to_string().contains(&format!(
                "Unable to update task definition on services with a {} deployment controller",
                controller.as_str()
            )),
            "{err}"
        );
        bed.ecs
            .update_service()
            .service(name)
            .desired_count(3)
            .send()
            .await
            .expect("the desired count may change");
    }
    assert_eq!(
        bed.service("blue-green").await.task_definition(),
        Some(v1.as_str())
    );
    let err = bed
        .ecs
        .create_service()
        .service_name("rolling")
        .desired_count(1)
        .send()
        .await
        .expect_err("a rolling service needs a task definition");
    assert!(err.into_service_error().is_invalid_parameter_exception());
}
