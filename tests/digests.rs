//! End to end against moto's ECR: a tag moved, `status` showing `no_match` beside ECS's verdict, a
//! redeploy replacing the tasks and checking their digests against the tag, and `status` showing `match`.

mod common;

use std::time::Duration;

use common::Bed;
use ecs_deployment::decide::outcome::{Outcome, Rollback};
use testbed::{ecr_client, ecr_image, move_tag, push_image};

/// The digests the service's RUNNING tasks run, one per task.
async fn running_digests(bed: &Bed, service: &str) -> Vec<String> {
    testbed::service_tasks(&bed.ecs, service, "RUNNING")
        .await
        .iter()
        .filter(|t| t.last_status() == Some("RUNNING"))
        .filter_map(|t| t.containers().first()?.image_digest().map(str::to_owned))
        .collect()
}

/// `status --service web`'s output, which must succeed.
async fn status(bed: &Bed) -> String {
    let run = bed.cli(&["status", "--service", "web"], None).await;
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn a_moved_tag_shows_no_match_until_a_redeploy_replaces_the_tasks() {
    let bed = Bed::start(true).await;
    let ecr = ecr_client(&bed.bed.moto.endpoint());
    let first = push_image(&ecr, "web", "hash_1", "first build").await;
    let second = push_image(&ecr, "web", "hash_2", "second build").await;
    move_tag(&ecr, "web", "prod", "hash_1").await;
    bed.bed.sim.use_ecr(&bed.bed.moto.endpoint());
    let prod = ecr_image("web", "prod");
    let v1 = bed
        .service_on("web", &prod, "healthy", 2, (true, true))
        .await;
    assert_eq!(running_digests(&bed, "web").await, vec![first.clone(); 2]);
    let view = status(&bed).await;
    assert_eq!(view.matches(" match").count(), 2, "{view}");

    // The tag moves: the tasks still run what they pulled, and status says so.
    move_tag(&ecr, "web", "prod", "hash_2").await;
    let view = status(&bed).await;
    assert_eq!(view.matches("no_match: app runs").count(), 2, "{view}");
    assert!(
        view.contains(&format!("in ECR now: {prod} -> {}", &second[..19])),
        "{view}"
    );
    // ECS's rollout is complete (its verdict stands); status adds that the tasks run moved images.
    assert!(view.contains("the rollout is complete"), "{view}");
    assert!(
        view.contains("2 of them run images their tags no longer point to"),
        "{view}"
    );

    // A redeploy replaces every task; the worker checks their digests against the tag.
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(report.new_task_definition.as_deref(), Some(v1.as_str()));
    assert_eq!(running_digests(&bed, "web").await, vec![second.clone(); 2]);
    let view = status(&bed).await;
    assert_eq!(view.matches(" match").count(), 2, "{view}");
    assert!(!view.contains("no_match"), "{view}");
    assert!(view.contains("the rollout is complete"), "{view}");
    assert!(!view.contains("no longer point to"), "{view}");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_moved_again_while_the_redeploy_ran_fails_it_naming_both_digests() {
    let bed = Bed::start(true).await;
    let ecr = ecr_client(&bed.bed.moto.endpoint());
    push_image(&ecr, "web", "hash_1", "first build").await;
    let second = push_image(&ecr, "web", "hash_2", "second build").await;
    let third = push_image(&ecr, "web", "hash_3", "third build").await;
    move_tag(&ecr, "web", "prod", "hash_1").await;
    bed.bed.sim.use_ecr(&bed.bed.moto.endpoint());
    // Tasks stay PENDING for 100 simulated seconds (1 s): time to move the tag under the redeploy.
    bed.service_on(
        "web",
        &ecr_image("web", "prod"),
        "slow:100",
        1,
        (true, true),
    )
    .await;
    move_tag(&ecr, "web", "prod", "hash_2").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;
    // Once the redeploy's task has pulled hash_2, the tag moves on to hash_3.
    testbed::wait_until(
        "a task of the redeploy that pulled hash_2",
        Duration::from_secs(60),
        || async {
            let service = bed.describe("web").await?;
            let primary = service.deployments().first()?.id()?.to_owned();
            testbed::service_tasks(&bed.ecs, "web", "RUNNING")
                .await
                .iter()
                .any(|t| {
                    t.started_by() == Some(primary.as_str())
                        && t.containers()[0].image_digest() == Some(second.as_str())
                })
                .then_some(())
        },
    )
    .await;
    move_tag(&ecr, "web", "prod", "hash_3").await;
    let report = worker.next_report().await;
    let Outcome::Failed { reason, rollback } = &report.outcome else {
        panic!("expected failed: {report:?}");
    };
    assert!(
        reason.starts_with("image digests no_match: task "),
        "{reason}"
    );
    assert!(
        reason.contains(&second[..19]) && reason.contains(&third[..19]),
        "{reason}"
    );
    assert!(reason.contains("send another redeploy"), "{reason}");
    assert!(matches!(rollback, Rollback::NotPossible(_)), "{rollback:?}");
    // The failed check leaves the service as it is: one deployment, on the redeploy's tasks.
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_image_in_ecr_the_check_is_skipped_and_the_redeploy_succeeds() {
    let bed = Bed::start(true).await;
    // ECS runs an ECR image (its digest a stable one of the name) that moto's ECR has never seen.
    bed.service_on("web", &ecr_image("web", "prod"), "healthy", 1, (true, true))
        .await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    worker.stop().await;
}
