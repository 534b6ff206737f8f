//! Image digests from moto's ECR: resolved when a deployment (or, without version consistency, a task)
//! starts, kept by each task, so a moved tag shows only in tasks a new deployment starts.

mod common;

use aws_sdk_ecs::types::Task;
use common::{Stepped, is_completed_on};
use testbed::{Moto, ecr_client, ecr_image, move_tag, push_image};

fn digests(tasks: &[Task]) -> Vec<Option<String>> {
    tasks
        .iter()
        .map(|t| t.containers()[0].image_digest().map(str::to_owned))
        .collect()
}

async fn revision_digest(bed: &Stepped, name: &str) -> Option<String> {
    let deployment = bed
        .ecs
        .list_service_deployments()
        .service(name)
        .send()
        .await
        .expect("list service deployments");
    let deployment_arn = deployment.service_deployments()[0]
        .service_deployment_arn()
        .expect("arn")
        .to_owned();
    let described = bed
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(deployment_arn)
        .send()
        .await
        .expect("describe service deployment");
    let revision = described.service_deployments()[0]
        .target_service_revision()
        .and_then(|r| r.arn())
        .map(str::to_owned)
        .expect("a target revision");
    let revisions = bed
        .ecs
        .describe_service_revisions()
        .service_revision_arns(revision)
        .send()
        .await
        .expect("describe service revisions");
    revisions.service_revisions()[0].container_images()[0]
        .image_digest()
        .map(str::to_owned)
}

#[tokio::test]
async fn tasks_run_the_digest_ecr_gave_when_their_deployment_started() {
    let moto = Moto::start();
    let ecr = ecr_client(&moto.endpoint());
    let first = push_image(&ecr, "web", "hash_1", "first build").await;
    let second = push_image(&ecr, "web", "hash_2", "second build").await;
    assert_ne!(first, second);
    assert_eq!(move_tag(&ecr, "web", "prod", "hash_1").await, first);
    let bed = Stepped::start().await;
    bed.sim.use_ecr(&moto.endpoint());
    let v1 = bed
        .register("web", &ecr_image("web", "prod"), "healthy", false)
        .await;
    bed.create_service("web", &v1, 2, (false, false)).await;
    bed.complete("web", &v1).await;
    let running = bed.tasks("web", "RUNNING").await;
    assert_eq!(digests(&running), vec![Some(first.clone()); 2]);
    assert_eq!(revision_digest(&bed, "web").await, Some(first.clone()));

    // The tag moves: running tasks keep what they pulled, and so does a task the scheduler starts for the
    // same deployment.
    assert_eq!(move_tag(&ecr, "web", "prod", "hash_2").await, second);
    bed.sim.advance(5);
    assert_eq!(
        digests(&bed.tasks("web", "RUNNING").await),
        vec![Some(first.clone()); 2]
    );

    // A forced new deployment resolves the tag again, and its tasks run the new image.
    bed.ecs
        .update_service()
        .service("web")
        .force_new_deployment(true)
        .send()
        .await
        .expect("force a new deployment");
    bed.step_until("web", 120, |s| {
        s.deployments().len() == 1 && is_completed_on(s, &v1)
    })
    .await;
    let running = bed.tasks("web", "RUNNING").await;
    assert_eq!(digests(&running), vec![Some(second.clone()); 2]);
    assert_eq!(revision_digest(&bed, "web").await, Some(second));
}

#[tokio::test]
async fn a_tag_ecr_lacks_stops_tasks_with_cannot_pull() {
    let moto = Moto::start();
    let ecr = ecr_client(&moto.endpoint());
    push_image(&ecr, "web", "hash_1", "first build").await;
    let bed = Stepped::start().await;
    bed.sim.use_ecr(&moto.endpoint());
    let missing = bed
        .register("web", &ecr_image("web", "no-such-tag"), "healthy", false)
        .await;
    bed.create_service("web", &missing, 1, (false, false)).await;
    let stopped = testbed::wait_until(
        "a task that could not pull its image",
        std::time::Duration::from_secs(30),
        || async {
            bed.sim.advance(1);
            let stopped = bed.tasks("web", "STOPPED").await;
            (!stopped.is_empty()).then_some(stopped)
        },
    )
    .await;
    let reason = stopped[0].stopped_reason().unwrap_or_default();
    assert!(
        reason.starts_with("CannotPullContainerError") && reason.contains("no-such-tag"),
        "{reason}"
    );
    assert_eq!(
        stopped[0].stop_code().map(|c| c.as_str()),
        Some("TaskFailedToStart")
    );
    assert!(stopped[0].started_at().is_none());
    let started = bed.tasks("web", "RUNNING").await;
    assert!(
        started.iter().all(|t| t.last_status() != Some("RUNNING")),
        "{started:#?}"
    );
}

#[tokio::test]
async fn without_version_consistency_each_task_pulls_the_tag_when_it_starts() {
    let moto = Moto::start();
    let ecr = ecr_client(&moto.endpoint());
    let first = push_image(&ecr, "web", "hash_1", "first build").await;
    let second = push_image(&ecr, "web", "hash_2", "second build").await;
    move_tag(&ecr, "web", "prod", "hash_1").await;
    let bed = Stepped::start().await;
    bed.sim.use_ecr(&moto.endpoint());
    let container = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name("app")
        .image(ecr_image("web", "prod"))
        .version_consistency(aws_sdk_ecs::types::VersionConsistency::Disabled)
        .docker_labels("ecs-sim.behaviour", "healthy")
        .build();
    let v1 = bed
        .ecs
        .register_task_definition()
        .family("web")
        .container_definitions(container)
        .send()
        .await
        .expect("register")
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("arn")
        .to_owned();
    bed.create_service("web", &v1, 1, (false, false)).await;
    bed.complete("web", &v1).await;
    assert_eq!(
        digests(&bed.tasks("web", "RUNNING").await),
        vec![Some(first.clone())]
    );
    assert_eq!(revision_digest(&bed, "web").await, None);

    // The tag moves; a task started later for the same deployment pulls the new image.
    move_tag(&ecr, "web", "prod", "hash_2").await;
    bed.ecs
        .update_service()
        .service("web")
        .desired_count(2)
        .send()
        .await
        .expect("scale out");
    let running = testbed::wait_until(
        "a second task",
        std::time::Duration::from_secs(30),
        || async {
            bed.sim.advance(1);
            let running = bed.tasks("web", "RUNNING").await;
            let started = running
                .iter()
                .filter(|t| t.last_status() == Some("RUNNING"))
                .count();
            (started == 2).then_some(running)
        },
    )
    .await;
    let mut got = digests(&running);
    got.sort();
    let mut expected = vec![Some(first), Some(second)];
    expected.sort();
    assert_eq!(got, expected);
}
