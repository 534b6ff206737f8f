//! End to end: a held message's visibility: extensions and releases never cross, a hanging extension is given up in time, a lost hold is told only of a message still held.

mod common;

use std::time::Duration;

use common::{Bed, Event, Hold, Proxy, WorkerProcess};

/// Whether the proxy saw an event matching `what`.
fn saw(events: &[Event], what: impl Fn(&Event) -> bool) -> bool {
    events.iter().any(what)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_released_on_stop_is_not_hidden_again_by_an_extension_on_its_way() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let proxy = Proxy::start(&bed.bed.moto.endpoint()).await;
    // Every extension takes 2.5 s to reach SQS, unless the message was given up before that.
    proxy.hold(Hold::ExtensionsUntilSettled(Duration::from_millis(2500)));
    let worker = bed.start_worker_through(
        bed.config(&[
            ("SQS_VISIBILITY_TIMEOUT", "18"),
            ("SHUTDOWN_GRACE", "0s"),
            ("ECS_TIMEOUT", "10m"),
        ]),
        &proxy,
    );
    bed.send_web("nginx:1.28", "slow:60000").await;
    proxy
        .wait_for("an extension on its way", |e| {
            saw(e, |e| matches!(e, Event::ExtensionArrived(_)))
        })
        .await;

    worker.stop().await;
    proxy
        .wait_for("the extension and the release answered", |e| {
            saw(e, |e| matches!(e, Event::Extended(_)))
                && saw(e, |e| matches!(e, Event::Released(_)))
        })
        .await;
    assert_eq!(
        proxy.extended_after_release(),
        Vec::<String>::new(),
        "hidden again after its release: {:#?}",
        proxy.events()
    );
    assert_eq!(
        bed.counts(&bed.queue_url).await,
        (1, 0),
        "visible to another worker at once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_settled_message_whose_extension_was_on_its_way_is_not_called_a_lost_hold() {
    // Time in ecs-sim moves only when the test says, so the rollout ends while an extension is on its way.
    let bed = Bed::start_with_clock(true, None).await;
    bed.service("web", 1, (true, true)).await;
    let proxy = Proxy::start(&bed.bed.moto.endpoint()).await;
    proxy.hold(Hold::ExtensionsUntilSettled(Duration::from_millis(2500)));
    let mut worker = WorkerProcess::start(
        &bed,
        &[
            ("AWS_ENDPOINT_URL_SQS", proxy.url.as_str()),
            ("SQS_VISIBILITY_TIMEOUT", "18"),
        ],
    );
    let id = bed.send_web("nginx:1.28", "healthy").await;
    worker.wait_for("updated the service; watching the rollout", |_| true);
    proxy
        .wait_for("an extension on its way", |e| {
            saw(e, |e| matches!(e, Event::ExtensionArrived(_)))
        })
        .await;

    bed.bed.sim.advance(120);
    let finished = worker.wait_for("deployment finished", |_| true);
    assert_eq!(finished["message_id"], id.as_str());
    assert_eq!(finished["outcome"], "deployed", "{}", worker.log_text());
    // The extension reaches SQS after the delete, which refuses it.
    proxy
        .wait_for("the late extension refused", |e| {
            saw(e, |e| matches!(e, Event::ExtensionRefused(_)))
        })
        .await;
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(), Some(0), "{}", worker.log_text());
    assert!(
        worker.log_text().contains("\"message\":\"stopped\""),
        "{}",
        worker.log_text()
    );
    assert!(
        !worker.log_text().contains("lost hold"),
        "a settled message is not a lost hold: {}",
        worker.log_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_extension_that_hangs_is_given_up_and_tried_again_before_the_hold_lapses() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let proxy = Proxy::start(&bed.bed.moto.endpoint()).await;
    // The first extension never gets an answer; SQS itself would have kept the message hidden for 6 s.
    proxy.hold(Hold::FirstExtensionForever);
    let worker = bed.start_worker_through(
        bed.config(&[
            ("SQS_VISIBILITY_TIMEOUT", "6"),
            ("ECS_TIMEOUT", "10m"),
            ("SHUTDOWN_GRACE", "0s"),
        ]),
        &proxy,
    );
    let id = bed.send_web("nginx:1.28", "slow:60000").await;
    let deliveries = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Received(m) if m.iter().any(|(mid, _)| mid == &id)))
            .count()
    };
    let extensions = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::ExtensionArrived(_)))
            .count()
    };
    // Either the heartbeat gives up on the hanging call and extends again, or the hold lapses and SQS
    // delivers the message a second time: whichever comes first.
    proxy
        .wait_for("a second extension, or a second delivery", |e| {
            extensions(e) >= 2 || deliveries(e) >= 2
        })
        .await;
    let events = proxy.events();
    assert_eq!(deliveries(&events), 1, "the hold lapsed: {events:#?}");
    proxy
        .wait_for("the second extension answered", |e| {
            saw(e, |e| matches!(e, Event::Extended(_)))
        })
        .await;
    worker.stop().await;
}
