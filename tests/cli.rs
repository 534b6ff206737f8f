//! The subcommands for producers and operators, through the real binary, against moto and ecs-sim.

mod common;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use common::cli::{expect, file, unreachable};
use common::{Bed, cli, task_definition};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn every_subcommand_documents_itself_and_its_exit_codes() {
    for sub in ["run", "validate", "send", "status", "diff", "healthcheck"] {
        let help = cli(testbed::isolated_aws_env(), &[sub, "--help"], None).await;
        expect(&help, 0, "Exit codes");
    }
    let wrong = cli(testbed::isolated_aws_env(), &["deploy"], None).await;
    assert_eq!(wrong.code, 2, "{wrong:?}");
    let wrong = cli(testbed::isolated_aws_env(), &["validate", "--bogus"], None).await;
    expect(&wrong, 2, "--bogus");
    let wrong = cli(
        testbed::isolated_aws_env(),
        &["send", "--service", "web", "--timeout", "soon"],
        None,
    )
    .await;
    expect(&wrong, 2, "--timeout");
    let missing = cli(testbed::isolated_aws_env(), &["status"], None).await;
    expect(&missing, 2, "--service");
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_judges_a_body_offline_exactly_as_the_worker_would() {
    let env = testbed::isolated_aws_env;
    let good = task_definition("web", "nginx:1.28", "healthy").to_string();
    let path = file("good.json", &good);
    let run = cli(env(), &["validate", &path], None).await;
    expect(
        &run,
        0,
        "valid: task definition family 'web', 1 container (app)",
    );
    assert!(run.stdout.contains("health-checked: app"), "{run:?}");
    // With a service, the policy too; ECS cannot be reached here, so only the rules that need no
    // comparison with the service's revision are applied, with a warning.
    let run = cli(
        unreachable(),
        &["validate", "--service", "web", "-"],
        Some(&good),
    )
    .await;
    expect(&run, 0, "deploys service 'web'");
    expect(
        &run,
        0,
        "warning: not compared with the revision it would replace",
    );

    let mut bad: Value = serde_json::from_str(&good).expect("JSON");
    bad["containerDefinitions"][0]["imag"] = Value::String("typo".into());
    let run = cli(env(), &["validate", "-"], Some(&bad.to_string())).await;
    expect(&run, 1, "containerDefinitions[0].imag");
    let run = cli(
        env(),
        &["validate", "--service", "my web", "-"],
        Some(&good),
    )
    .await;
    expect(&run, 1, "'service'");
    let run = cli(env(), &["validate", "-"], Some("{")).await;
    expect(&run, 1, "not JSON");
    let run = cli(env(), &["validate", "/no/such/file.json"], None).await;
    expect(&run, 2, "cannot read /no/such/file.json");
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_applies_the_workers_policy_against_the_revision_the_service_runs() {
    let bed = Bed::start(false).await;
    bed.service("web", 1, (true, true)).await;
    let mut privileged = task_definition("web", "nginx:1.29", "healthy");
    privileged["containerDefinitions"][0]["privileged"] = Value::Bool(true);
    let body = file("privileged.json", &privileged.to_string());

    // Read from ecs-sim: web:1 is not privileged.
    let run = bed
        .cli(&["validate", "--service", "web", &body], None)
        .await;
    expect(
        &run,
        1,
        "refused: policy: containerDefinitions[0].privileged",
    );
    expect(&run, 1, "ALLOWED_PRIVILEGES");
    let good = file(
        "good-validate.json",
        &task_definition("web", "nginx:1.29", "healthy").to_string(),
    );
    let run = bed
        .cli(&["validate", "--service", "web", &good], None)
        .await;
    expect(&run, 0, "allowed by the policy, compared with web:1");

    // A policy file that allows it for web.
    let policy = file(
        "policy.toml",
        "[[service]]\nmatch = \"web\"\nallowed_privileges = [\"privileged\"]\n",
    );
    let run = bed
        .cli(
            &["validate", "--service", "web", "--policy", &policy, &body],
            None,
        )
        .await;
    expect(&run, 0, "allowed by the policy, compared with web:1");
    let broken = file(
        "broken.toml",
        "[[service]]\nmatch = \"web\"\nallowed_privileges = [\"root\"]\n",
    );
    let run = bed
        .cli(
            &["validate", "--service", "web", "--policy", &broken, &body],
            None,
        )
        .await;
    expect(&run, 2, "--policy");
    expect(&run, 2, "\"root\" is not one of");

    // The current revision given as a file, with ECS out of reach: a revision that is privileged already.
    let run = cli(
        unreachable(),
        &["validate", "--service", "web", "--current", &body, &body],
        None,
    )
    .await;
    expect(&run, 0, "allowed by the policy, compared with");
    let run = bed
        .cli(&["validate", "--service", "nowhere", &good], None)
        .await;
    expect(&run, 1, "service 'nowhere' not found");
    let run = bed
        .cli(&["validate", "--policy", &policy, &good], None)
        .await;
    expect(&run, 2, "give --service too");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_puts_a_valid_message_on_the_queue_with_the_workers_attributes() {
    let bed = Bed::start(false).await;
    let body = task_definition("web", "nginx:1.28", "healthy").to_string();
    let path = file("send.json", &body);
    let run = bed
        .cli(
            &[
                "send",
                "--service",
                "web",
                "--commit-url",
                "https://x/c/1",
                &path,
            ],
            None,
        )
        .await;
    expect(&run, 0, "sent message ");
    let messages = bed.receive_all(&bed.queue_url, 1).await;
    assert_eq!(messages[0].body(), Some(body.as_str()));
    let attribute = |name: &str| {
        messages[0]
            .message_attributes()
            .and_then(|a| a.get(name))
            .and_then(|v| v.string_value())
            .map(str::to_owned)
    };
    assert_eq!(attribute("service").as_deref(), Some("web"));
    assert_eq!(attribute("commit_url").as_deref(), Some("https://x/c/1"));
    assert!(
        run.stdout.contains(messages[0].message_id().unwrap_or("?")),
        "{run:?}"
    );

    // Invalid: nothing is sent.
    let run = bed
        .cli(&["send", "--service", "web", "-"], Some("{\"family\": 1}"))
        .await;
    expect(&run, 1, "invalid: ");
    // No queue anywhere.
    let run = cli(
        testbed::isolated_aws_env(),
        &["send", "--service", "web", &path],
        None,
    )
    .await;
    expect(&run, 2, "SQS_URL");
    // A reply queue that does not exist is found out before anything is sent.
    let missing = format!("{}/123456789012/nope", bed.bed.moto.endpoint());
    let run = bed
        .cli(
            &["send", "--service", "web", "--reply-to", &missing, &path],
            None,
        )
        .await;
    expect(&run, 3, "--reply-to");
    assert_eq!(
        bed.counts(&bed.queue_url).await,
        (0, 1),
        "only the first message was sent"
    );

    // FIFO: grouped by service, and a retried send is not sent twice.
    let fifo = bed.fifo_queue("deployments.fifo").await;
    for _ in 0..2 {
        let run = bed
            .cli(
                &["send", "--service", "web", "--queue-url", &fifo, &path],
                None,
            )
            .await;
        expect(&run, 0, "sent message ");
    }
    let out = bed
        .sqs
        .receive_message()
        .queue_url(&fifo)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .expect("receive");
    let messages = out.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let group = messages[0]
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId));
    assert_eq!(group.map(String::as_str), Some("web"));

    // SQS unreachable: exit 3, saying which call failed.
    let run = cli(unreachable(), &["send", "--service", "web", &path], None).await;
    expect(&run, 3, "SendMessage");
}
