//! Tasks that start slowly, a service scaled to zero, and reads of a service that lag behind its updates.

mod common;

use aws_sdk_ecs::types::Service;
use common::Stepped;

#[tokio::test]
async fn slow_tasks_stay_pending_for_their_seconds() {
    let bed = Stepped::start().await;
    let slow = bed.register("web", "web:1", "slow:20", false).await;
    bed.create_service("web", &slow, 1, (false, false)).await;
    bed.sim.advance(15);
    let service = bed.service("web").await;
    assert_eq!((service.running_count(), service.pending_count()), (0, 1));
    let seen = bed.complete("web", &slow).await;
    // Without a health check, ECS counts the task healthy 40 s after it reached RUNNING.
    assert!(
        (40..=52).contains(&seen.len()),
        "completes 40 s after its 20 s start: {}",
        seen.len()
    );
}

#[tokio::test]
async fn scaling_to_zero_completes_once_the_old_tasks_are_gone() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "web:1", "healthy", false).await;
    bed.create_service("web", &v1, 2, (false, false)).await;
    bed.complete("web", &v1).await;
    let v2 = bed.register("web", "web:2", "healthy", false).await;
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&v2)
        .desired_count(0)
        .send()
        .await
        .expect("update");
    bed.complete("web", &v2).await;
    assert!(bed.task_arns("web", "RUNNING").await.is_empty());
    let service = bed.service("web").await;
    assert_eq!(service.deployments()[0].desired_count(), 0);
}

#[tokio::test]
async fn stale_reads_may_miss_an_update_for_up_to_the_lag_then_show_it() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "nginx:1", "healthy", false).await;
    let v2 = bed.register("web", "nginx:2", "healthy", false).await;
    bed.create_service("web", &v1, 2, (false, false)).await;
    bed.complete("web", &v1).await;
    bed.sim.stale_reads(3, 42);
    bed.sim.advance(5);

    bed.update("web", &v2).await;
    // Right after the update, some reads come from before it: only the old deployment.
    let reads: Vec<Service> = reads_of_web(&bed, 40).await;
    let missed = reads
        .iter()
        .filter(|s| s.task_definition() == Some(v1.as_str()))
        .count();
    assert!(missed > 0, "no read was behind");
    assert!(missed < reads.len(), "no read was current");
    for stale in reads
        .iter()
        .filter(|s| s.task_definition() == Some(v1.as_str()))
    {
        assert_eq!(stale.deployments().len(), 1, "{stale:#?}");
    }
    // Once the lag has passed, every read shows the update.
    bed.sim.advance(3);
    let reads = reads_of_web(&bed, 40).await;
    assert!(
        reads
            .iter()
            .all(|s| s.task_definition() == Some(v2.as_str())),
        "a read older than the lag"
    );
    // A mutation is never lost to a lagging read.
    bed.sim.stale_reads(0, 0);
    assert_eq!(
        bed.service("web").await.task_definition(),
        Some(v2.as_str())
    );
}

/// `n` reads of service `web` in a row.
async fn reads_of_web(bed: &Stepped, n: usize) -> Vec<Service> {
    let mut reads = Vec::with_capacity(n);
    for _ in 0..n {
        reads.push(bed.service("web").await);
    }
    reads
}
