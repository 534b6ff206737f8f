//! ListServices and ListTasks: their filters and pages.

mod common;

use std::collections::BTreeSet;

use aws_sdk_ecs::types::DesiredStatus;
use common::Stepped;

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
