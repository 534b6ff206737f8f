//! Rollouts through aws-sdk-ecs, stepped one simulated second at a time.

mod common;

use aws_sdk_ecs::types::{DeploymentRolloutState, HealthStatus};
use common::{Stepped, events, is_completed_on};

#[tokio::test]
async fn healthy_rollout_of_three_tasks_moves_through_the_ecs_states() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "nginx:1", "healthy", true).await;
    bed.create_service("web", &v1, 3, (false, false)).await;
    bed.complete("web", &v1).await;
    let old_tasks = bed.task_arns("web", "RUNNING").await;
    assert_eq!(old_tasks.len(), 3);

    let v2 = bed.register("web", "nginx:2", "healthy", true).await;
    bed.update("web", &v2).await;
    let start = bed.service("web").await;
    let deployments = start.deployments();
    assert_eq!(deployments.len(), 2, "{deployments:#?}");
    assert_eq!(deployments[0].status(), Some("PRIMARY"));
    assert_eq!(deployments[0].task_definition(), Some(v2.as_str()));
    assert_eq!(
        deployments[0].rollout_state(),
        Some(&DeploymentRolloutState::InProgress)
    );
    assert_eq!(
        (
            deployments[0].desired_count(),
            deployments[0].running_count()
        ),
        (3, 0)
    );
    assert_eq!(deployments[1].status(), Some("ACTIVE"));
    assert_eq!(deployments[1].task_definition(), Some(v1.as_str()));
    assert_eq!(deployments[1].running_count(), 3);
    let primary_id = deployments[0]
        .id()
        .map(str::to_owned)
        .expect("deployment id");

    let seen = bed.complete("web", &v2).await;
    // minimumHealthyPercent 100 and maximumPercent 200: never fewer than 3 running, never more than 6 tasks.
    for state in &seen {
        assert!(
            state.running_count() >= 3,
            "dropped below 3 running: {state:#?}"
        );
        assert!(
            state.running_count() + state.pending_count() <= 6,
            "over 200%: {state:#?}"
        );
    }
    assert!(
        seen.iter().any(|s| s
            .deployments()
            .first()
            .is_some_and(|d| d.pending_count() == 3)),
        "the new tasks were never seen pending"
    );
    assert!(
        seen.iter().any(|s| s.deployments().len() == 2
            && s.deployments().iter().all(|d| d.running_count() == 3)),
        "old and new tasks were never seen running side by side"
    );
    // COMPLETED only once the ACTIVE deployment was gone.
    for state in &seen {
        if state.deployments().len() > 1 {
            assert_eq!(
                state.deployments()[0].rollout_state(),
                Some(&DeploymentRolloutState::InProgress)
            );
        }
    }
    let done = seen.last().expect("states");
    assert_eq!(done.task_definition(), Some(v2.as_str()));
    assert_eq!(
        (
            done.running_count(),
            done.pending_count(),
            done.desired_count()
        ),
        (3, 0, 3)
    );
    let messages = events(done);
    assert!(
        messages[0].ends_with("has reached a steady state."),
        "{messages:?}"
    );
    assert!(
        messages[1].contains(&format!("(deployment {primary_id}) deployment completed.")),
        "{messages:?}"
    );

    let running = bed.tasks("web", "RUNNING").await;
    assert_eq!(running.len(), 3);
    for task in &running {
        assert_eq!(task.task_definition_arn(), Some(v2.as_str()));
        assert_eq!(task.last_status(), Some("RUNNING"));
        assert_eq!(task.health_status(), Some(&HealthStatus::Healthy));
        assert_eq!(task.started_by(), Some(primary_id.as_str()));
        assert_eq!(task.group(), Some("service:web"));
        let container = &task.containers()[0];
        assert_eq!(container.image(), Some("nginx:2"));
        assert!(
            container
                .image_digest()
                .is_some_and(|d| d.starts_with("sha256:"))
        );
    }
    let stopped = bed.tasks("web", "STOPPED").await;
    let mut stopped_arns: Vec<_> = stopped
        .iter()
        .filter_map(|t| t.task_arn().map(str::to_owned))
        .collect();
    let mut old_sorted = old_tasks.clone();
    stopped_arns.sort();
    old_sorted.sort();
    assert_eq!(
        stopped_arns, old_sorted,
        "exactly the old tasks were stopped"
    );
    for task in &stopped {
        assert_eq!(task.last_status(), Some("STOPPED"));
        assert_eq!(task.desired_status(), Some("STOPPED"));
        assert!(task.stopped_at().is_some());
        assert_eq!(
            task.stopped_reason(),
            Some(format!("Scaling activity initiated by (deployment {primary_id})").as_str())
        );
    }
}

#[tokio::test]
async fn image_digests_are_stable_per_image() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "nginx:1", "healthy", false).await;
    bed.create_service("a", &v1, 1, (false, false)).await;
    bed.create_service("b", &v1, 1, (false, false)).await;
    bed.complete("a", &v1).await;
    bed.complete("b", &v1).await;
    let a = bed.tasks("a", "RUNNING").await;
    let b = bed.tasks("b", "RUNNING").await;
    let digest =
        |t: &[aws_sdk_ecs::types::Task]| t[0].containers()[0].image_digest().map(str::to_owned);
    assert_eq!(digest(&a), digest(&b));
    // No health check: healthStatus stays UNKNOWN, as in ECS, and the rollout still completes.
    assert_eq!(a[0].health_status().map(|h| h.as_str()), Some("UNKNOWN"));
}

#[tokio::test]
async fn crash_with_circuit_breaker_fails_and_rolls_back_to_the_last_completed_deployment() {
    let bed = Stepped::start().await;
    let good = bed.register("api", "api:good", "healthy", false).await;
    bed.create_service("api", &good, 3, (true, true)).await;
    bed.complete("api", &good).await;
    let bad = bed.register("api", "api:bad", "crash", false).await;
    bed.update("api", &bad).await;

    let seen = bed
        .step_until("api", 300, |s| {
            s.deployments().len() == 1 && is_completed_on(s, &good)
        })
        .await;
    let failed = seen
        .iter()
        .flat_map(|s| s.deployments())
        .find(|d| {
            d.task_definition() == Some(bad.as_str())
                && d.rollout_state() == Some(&DeploymentRolloutState::Failed)
        })
        .expect("the crashing deployment went FAILED");
    assert!(
        failed.failed_tasks() >= 3,
        "threshold for 3 tasks is 3 failures: {failed:#?}"
    );
    assert!(
        failed
            .rollout_state_reason()
            .is_some_and(|r| r.contains("circuit breaker")),
        "{failed:#?}"
    );
    assert!(
        seen.iter().any(|s| s.deployments().len() >= 2
            && s.deployments()[0].task_definition() == Some(good.as_str())
            && s.deployments()[0].rollout_state() == Some(&DeploymentRolloutState::InProgress)),
        "a rollback deployment on the good task definition became PRIMARY"
    );
    for state in &seen {
        assert!(
            state.running_count() >= 3,
            "old tasks kept serving during the failed rollout"
        );
    }
    let messages = events(seen.last().expect("states")).join("\n");
    assert!(
        messages.contains("deployment failed: tasks failed to start."),
        "{messages}"
    );
    assert!(
        messages.contains("rolling back to deployment"),
        "{messages}"
    );

    let stopped = bed.tasks("api", "STOPPED").await;
    assert!(
        stopped
            .iter()
            .any(|t| t.task_definition_arn() == Some(bad.as_str())
                && t.stopped_reason() == Some("Essential container in task exited")
                && t.stop_code().map(|c| c.as_str()) == Some("EssentialContainerExited")),
        "crashed tasks carry ECS's stoppedReason"
    );
    // A crashing task does reach RUNNING before it exits: the trap of "any task RUNNING means done".
    assert!(
        stopped
            .iter()
            .any(|t| t.task_definition_arn() == Some(bad.as_str()) && t.started_at().is_some())
    );
}

#[tokio::test]
async fn crash_with_circuit_breaker_without_rollback_stays_failed_on_the_new_definition() {
    let bed = Stepped::start().await;
    let good = bed.register("api", "api:good", "healthy", false).await;
    bed.create_service("api", &good, 2, (true, false)).await;
    bed.complete("api", &good).await;
    let bad = bed.register("api", "api:bad", "crash", false).await;
    bed.update("api", &bad).await;
    let seen = bed
        .step_until("api", 300, |s| {
            s.deployments()[0].rollout_state() == Some(&DeploymentRolloutState::Failed)
        })
        .await;
    let last = seen.last().expect("states");
    assert_eq!(last.deployments()[0].task_definition(), Some(bad.as_str()));
    // Nothing more happens: no rollback, old tasks keep running.
    bed.sim.advance(60);
    let later = bed.service("api").await;
    assert_eq!(later.deployments()[0].task_definition(), Some(bad.as_str()));
    assert_eq!(
        later.deployments()[0].rollout_state(),
        Some(&DeploymentRolloutState::Failed)
    );
    assert_eq!(later.deployments().len(), 2);
    assert_eq!(later.running_count(), 2);
}

#[tokio::test]
async fn crash_without_circuit_breaker_never_completes() {
    let bed = Stepped::start().await;
    let good = bed.register("api", "api:good", "healthy", false).await;
    bed.create_service("api", &good, 1, (false, false)).await;
    bed.complete("api", &good).await;
    let bad = bed.register("api", "api:bad", "crash", false).await;
    bed.update("api", &bad).await;
    bed.sim.advance(200);
    let service = bed.service("api").await;
    let primary = &service.deployments()[0];
    assert_eq!(
        primary.rollout_state(),
        Some(&DeploymentRolloutState::InProgress)
    );
    assert!(
        primary.failed_tasks() > 3,
        "keeps crash-looping: {primary:#?}"
    );
    assert_eq!(service.deployments().len(), 2);
}

#[tokio::test]
async fn a_later_update_supersedes_a_rollout_in_progress() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "web:1", "healthy", false).await;
    bed.create_service("web", &v1, 2, (false, false)).await;
    bed.complete("web", &v1).await;
    let v2 = bed.register("web", "web:2", "slow:30", false).await;
    let v3 = bed.register("web", "web:3", "healthy", false).await;
    bed.update("web", &v2).await;
    bed.sim.advance(3);
    bed.update("web", &v3).await;
    let service = bed.service("web").await;
    let definitions: Vec<_> = service
        .deployments()
        .iter()
        .map(|d| d.task_definition())
        .collect();
    assert_eq!(
        definitions,
        [Some(v3.as_str()), Some(v2.as_str()), Some(v1.as_str())]
    );
    let statuses: Vec<_> = service.deployments().iter().map(|d| d.status()).collect();
    assert_eq!(statuses, [Some("PRIMARY"), Some("ACTIVE"), Some("ACTIVE")]);

    bed.complete("web", &v3).await;
    let running = bed.tasks("web", "RUNNING").await;
    assert_eq!(running.len(), 2);
    assert!(
        running
            .iter()
            .all(|t| t.task_definition_arn() == Some(v3.as_str()))
    );
}

#[tokio::test]
async fn unplaceable_tasks_never_start_and_the_rollout_never_completes() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "web:1", "healthy", false).await;
    bed.create_service("web", &v1, 2, (true, true)).await;
    bed.complete("web", &v1).await;
    let v2 = bed.register("web", "web:2", "unplaceable", false).await;
    bed.update("web", &v2).await;
    bed.sim.advance(600);
    let service = bed.service("web").await;
    let primary = &service.deployments()[0];
    assert_eq!(
        primary.rollout_state(),
        Some(&DeploymentRolloutState::InProgress)
    );
    assert_eq!((primary.running_count(), primary.pending_count()), (0, 0));
    assert_eq!(service.running_count(), 2, "the old tasks keep running");
    assert!(
        events(&service)
            .iter()
            .any(|m| m.contains("was unable to place a task"))
    );
}

#[tokio::test]
async fn unhealthy_tasks_are_replaced_and_counted_as_failed() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "web:1", "healthy", true).await;
    bed.create_service("web", &v1, 2, (false, false)).await;
    bed.complete("web", &v1).await;
    let v2 = bed.register("web", "web:2", "unhealthy", true).await;
    bed.update("web", &v2).await;
    bed.sim.advance(60);
    let service = bed.service("web").await;
    let primary = &service.deployments()[0];
    assert_eq!(
        primary.rollout_state(),
        Some(&DeploymentRolloutState::InProgress)
    );
    assert!(primary.failed_tasks() >= 2, "{primary:#?}");
    assert_eq!(
        service.deployments().len(),
        2,
        "old tasks are never replaced"
    );
    assert!(
        events(&service)
            .iter()
            .any(|m| m.contains("failed container health checks"))
    );
    let stopped = bed.tasks("web", "STOPPED").await;
    assert!(stopped.iter().any(|t| t.stopped_reason()
        == Some("Task failed container health checks")
        && t.health_status() == Some(&HealthStatus::Unhealthy)));
}
