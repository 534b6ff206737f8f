//! Where a rolling deployment's rollback goes: "the service is rolled back to the last deployment that
//! completed successfully", also when that deployment ran the same task definition (a forced new
//! deployment whose images fail goes back to the service revision, and the image digests, that worked).

mod common;

use aws_sdk_ecs::types::ServiceDeploymentStatus;
use common::Stepped;
use testbed::{Moto, delete_tag, ecr_client, ecr_image, push_image};

#[tokio::test]
async fn a_forced_deployment_that_fails_rolls_back_to_the_same_task_definition_and_its_old_digest()
{
    let moto = Moto::start();
    let ecr = ecr_client(&moto.endpoint());
    let built = push_image(&ecr, "web", "prod", "first build").await;
    let bed = Stepped::start().await;
    bed.sim.use_ecr(&moto.endpoint());
    let v1 = bed
        .register("web", &ecr_image("web", "prod"), "healthy", true)
        .await;
    bed.create_service("web", &v1, 2, (true, true)).await;
    bed.complete("web", &v1).await;
    let first = bed.current().await;

    // The tag is gone from ECR: a forced new deployment resolves it again and cannot pull.
    delete_tag(&ecr, "web", "prod").await;
    bed.ecs
        .update_service()
        .service("web")
        .force_new_deployment(true)
        .send()
        .await
        .expect("force a new deployment");
    let forced = bed.current().await;
    assert_ne!(
        forced.service_deployment_arn(),
        first.service_deployment_arn()
    );
    bed.step_to(ServiceDeploymentStatus::RollbackSuccessful, 120)
        .await;
    let rolled_back = bed.current().await;
    assert_eq!(
        rolled_back
            .rollback()
            .and_then(|r| r.service_revision_arn()),
        first.target_service_revision().and_then(|r| r.arn()),
        "back to the revision of the last completed deployment"
    );
    let service = bed.service("web").await;
    let deployments = service.deployments();
    assert_eq!(deployments[0].task_definition(), Some(v1.as_str()));
    assert_eq!(
        deployments[0].rollout_state().map(|s| s.as_str()),
        Some("COMPLETED")
    );
    let tasks = bed.tasks("web", "RUNNING").await;
    assert_eq!(tasks.len(), 2);
    for task in tasks {
        assert_eq!(task.task_definition_arn(), Some(v1.as_str()));
        assert_eq!(task.containers()[0].image_digest(), Some(built.as_str()));
    }
}
