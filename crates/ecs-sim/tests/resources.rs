//! Task definitions and services as resources: revisions, listing, deregistering and tags; services deleted behind the caller's back; CodeDeploy and external services.

mod common;

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    DeploymentController, DeploymentControllerType, Tag, TaskDefinitionField,
};
use common::Stepped;

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
