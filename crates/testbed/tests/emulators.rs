//! The test bed itself: moto answers SQS as aws-sdk-sqs and the aws CLI speak it, and nothing outlives a test.

use std::time::Duration;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use testbed::{Moto, Sim, TestBed, aws_json};

#[tokio::test(flavor = "multi_thread")]
async fn a_fifo_groups_messages_go_to_one_long_polling_receiver_at_a_time() {
    // moto's own server hands them to every receiver that was already waiting; SQS does not.
    let bed = TestBed::start(None);
    let sqs = testbed::sqs_client(&bed.moto.endpoint());
    let queue = sqs
        .create_queue()
        .queue_name("deployments.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .send()
        .await
        .expect("create a FIFO queue")
        .queue_url
        .expect("queue URL");
    for round in 0..3 {
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let (sqs, queue) = (sqs.clone(), queue.clone());
                tokio::spawn(async move {
                    let out = sqs
                        .receive_message()
                        .queue_url(&queue)
                        .max_number_of_messages(1)
                        .visibility_timeout(60)
                        .wait_time_seconds(1)
                        .send()
                        .await
                        .expect("receive");
                    out.messages()
                        .iter()
                        .filter_map(|m| m.message_id().map(str::to_owned))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // Every receiver is waiting before the group's messages arrive.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for n in 0..3 {
            sqs.send_message()
                .queue_url(&queue)
                .message_body(format!("round {round}, message {n}"))
                .message_group_id(format!("group-{round}"))
                .send()
                .await
                .expect("send");
        }
        let mut holding = 0;
        for receiver in receivers {
            if !receiver.await.expect("a receiver").is_empty() {
                holding += 1;
            }
        }
        assert_eq!(
            holding, 1,
            "round {round}: {holding} receivers got messages of one group at once"
        );
    }
}

#[tokio::test]
async fn moto_serves_sqs_to_the_sdk_and_the_cli() {
    let bed = TestBed::start(None);
    let sqs = testbed::sqs_client(&bed.moto.endpoint());
    let queue = sqs
        .create_queue()
        .queue_name("deployments")
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue URL");
    sqs.send_message()
        .queue_url(&queue)
        .message_body(r#"{"family":"web"}"#)
        .message_attributes(
            "service",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("web")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("send");
    let received = sqs
        .receive_message()
        .queue_url(&queue)
        .wait_time_seconds(2)
        .message_attribute_names("All")
        .send()
        .await
        .expect("receive");
    let message = &received.messages()[0];
    assert_eq!(message.body(), Some(r#"{"family":"web"}"#));
    let service = message.message_attributes().and_then(|a| a.get("service"));
    assert_eq!(service.and_then(|v| v.string_value()), Some("web"));
    sqs.delete_message()
        .queue_url(&queue)
        .receipt_handle(message.receipt_handle().expect("receipt handle"))
        .send()
        .await
        .expect("delete");

    let listed = aws_json(&bed.moto.endpoint(), &["sqs", "list-queues"]);
    assert_eq!(listed["QueueUrls"][0], queue.as_str());
    let env = bed.env();
    assert!(env.contains(&("AWS_ENDPOINT_URL_SQS", bed.moto.endpoint())));
    assert!(env.contains(&("AWS_ENDPOINT_URL_ECS", bed.sim.endpoint())));
}

#[test]
fn emulators_stop_when_their_handles_drop() {
    let moto = Moto::start();
    let pid = moto.pid();
    let proc_dir = format!("/proc/{pid}");
    assert!(std::path::Path::new(&proc_dir).exists());
    drop(moto);
    assert!(
        !std::path::Path::new(&proc_dir).exists(),
        "moto_server {pid} outlived its handle"
    );

    let sim = Sim::start(Some(Duration::from_millis(10)));
    let health = format!("{}/_sim/health", sim.endpoint());
    assert!(ureq::get(&health).call().is_ok());
    drop(sim);
    assert!(
        ureq::get(&health).call().is_err(),
        "ecs-sim still answers after drop"
    );
}

#[test]
fn moto_comes_back_on_the_same_port_after_an_outage() {
    let moto = Moto::start();
    let port = moto.port();
    let endpoint = moto.endpoint();
    moto.stop();
    assert!(ureq::get(&format!("{endpoint}/moto-api/")).call().is_err());
    let again = Moto::start_on_port(port);
    assert_eq!(again.endpoint(), endpoint);
    assert!(ureq::get(&format!("{endpoint}/moto-api/")).call().is_ok());
}

#[test]
#[should_panic(expected = "Run `make setup`")]
fn a_missing_emulator_fails_the_test_saying_how_to_set_up() {
    testbed::venv_bin("moto_server_that_is_not_installed");
}
