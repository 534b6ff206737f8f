//! End to end: messages whose `action` attribute asks for something other than a whole task definition,
//! through the same guard, marker, watch and settlement as a deployment.

mod common;

use common::{Bed, WorkerProcess, short};
use ecs_deployment::decide::outcome::{Disposition, Outcome};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn an_image_message_sets_one_container_s_image_and_keeps_the_rest() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    bed.bed.sim.call(
        "TagResource",
        &json!({"resourceArn": v1, "tags": [{"key": "team", "value": "a"}]}),
    );
    let mut worker = bed.start_worker(bed.config(&[]));

    let id = bed
        .send(
            r#"{"app": "nginx:1.29"}"#,
            &[("service", "web"), ("action", "image")],
        )
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.message_id, id);
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(v1.as_str())
    );
    let v2 = report.new_task_definition.clone().expect("registered");
    assert_eq!(short(&v2), "web:2");

    let described = |arn: &str| {
        bed.bed.sim.call(
            "DescribeTaskDefinition",
            &json!({"taskDefinition": arn, "include": ["TAGS"]}),
        )
    };
    let (old, new) = (described(&v1), described(&v2));
    assert_eq!(
        new["taskDefinition"]["containerDefinitions"][0]["image"],
        "nginx:1.29"
    );
    // Everything else is the revision the service ran.
    let mut expected = old["taskDefinition"]["containerDefinitions"].clone();
    expected[0]["image"] = json!("nginx:1.29");
    assert_eq!(new["taskDefinition"]["containerDefinitions"], expected);
    let (producer_tags, marks) = bed.tags(&v2);
    assert_eq!(
        producer_tags,
        json!([{"key": "team", "value": "a"}]),
        "its tags kept"
    );
    assert_eq!(
        marks.get("ecs-deployment:message-id"),
        Some(&id),
        "marked as any deployment"
    );
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v2.clone(), v2]
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_image_and_action_messages_are_rejected_naming_what_is_wrong() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[
        ("ALLOWED_IMAGES", "nginx:*"),
        ("ALLOWED_SERVICES", "web,missing"),
    ]));

    let cases = [
        (
            r#"{"db": "postgres:16"}"#,
            vec![("service", "web"), ("action", "image")],
            "body: container 'db' is not in the task definition web:1 the service runs (its containers: app)",
        ),
        (
            r#"{"app": "nginx:1.29"}"#,
            vec![("service", "web"), ("action", "promote")],
            "message attribute 'action' (\"promote\") is not one of deploy, image",
        ),
        (
            r#"{"app": "nginx:1.29"}"#,
            vec![("service", "missing"), ("action", "image")],
            "service 'missing' not found in cluster 'default'",
        ),
        (
            r#"{"app": "evil.example.com/miner:1"}"#,
            vec![("service", "web"), ("action", "image")],
            "ALLOWED_IMAGES",
        ),
    ];
    for (body, attributes, says) in &cases {
        bed.send(body, attributes).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("{attributes:?}: {report:?}");
        };
        assert!(reason.contains(says), "{attributes:?}: {reason}");
        assert_eq!(
            report.disposition,
            Disposition::DeadLetter,
            "{attributes:?}"
        );
    }
    // A service the policy does not allow is refused before any call to ECS.
    let reads = bed.bed.sim.calls("DescribeServices");
    bed.send(
        r#"{"app": "nginx:1.29"}"#,
        &[("service", "payments"), ("action", "image")],
    )
    .await;
    let report = worker.next_report().await;
    let Outcome::Rejected { reason } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(reason.contains("ALLOWED_SERVICES"), "{reason}");
    assert_eq!(
        bed.bed.sim.calls("DescribeServices"),
        reads,
        "no call to ECS"
    );
    assert_eq!(
        bed.dead_letters(cases.len() + 1).await.len(),
        cases.len() + 1
    );
    assert_eq!(bed.revisions("web"), 1, "nothing registered");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 0);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn send_image_sends_an_image_message_and_follows_it() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    // Through the reply queue, the worker's verdict; without one, the revision it tagged in the family.
    for (image, reply) in [
        ("app=nginx:1.29", Some(replies.as_str())),
        ("app=nginx:1.30", None),
    ] {
        let mut args = vec!["send", "--service", "web", "--image", image];
        if let Some(reply) = reply {
            args.extend(["--reply-to", reply]);
        }
        let run = waiting(&bed, &args).await;
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains(&format!("set {image} in service web")),
            "{run:?}"
        );
        let report = worker.next_report().await;
        assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    }
    let running = bed.running_task_definitions("web").await;
    assert_eq!(
        running.iter().map(|t| short(t)).collect::<Vec<_>>(),
        ["web:3"]
    );

    let bad = bed
        .cli(&["send", "--service", "web", "--image", "app"], None)
        .await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stderr.contains("--image app: expected CONTAINER=IMAGE"),
        "{bad:?}"
    );
    let register_only = bed
        .cli(
            &["send", "--service", "false", "--image", "app=nginx:1"],
            None,
        )
        .await;
    assert_eq!(register_only.code, 2, "{register_only:?}");
    worker.stop().await;
}

/// Runs the CLI with `args` followed by `--wait` (60 s at most, reading every 200 ms).
async fn waiting(bed: &Bed, args: &[&str]) -> common::CliRun {
    let mut args = args.to_vec();
    args.extend(["--wait", "--timeout", "60s", "--poll-interval", "200ms"]);
    bed.cli(&args, None).await
}

/// A `rollback` message for service `web`, naming `revision` when given.
async fn send_rollback(bed: &Bed, revision: Option<&str>) -> String {
    let mut attributes = vec![("service", "web"), ("action", "rollback")];
    if let Some(revision) = revision {
        attributes.push(("revision", revision));
    }
    bed.send("{}", &attributes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_goes_back_without_registering_anything() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    bed.register("api", "nginx:1", "healthy").await;
    let mut worker = bed.start_worker(bed.config(&[]));

    // Before any deployment by the worker, web:1 records nothing before it.
    send_rollback(&bed, None).await;
    let report = worker.next_report().await;
    let Outcome::Rejected { reason } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(
        reason.contains("nothing to roll back to: the revision web:1"),
        "{reason}"
    );

    bed.send_web("nginx:1.28", "healthy").await;
    let v2 = worker
        .next_report()
        .await
        .new_task_definition
        .expect("deployed");
    send_rollback(&bed, None).await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(v2.as_str())
    );
    assert_eq!(report.new_task_definition.as_deref(), Some(v1.as_str()));
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v1.clone(), v1.clone()]
    );

    send_rollback(&bed, Some("web:2")).await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        bed.running_task_definitions("web").await,
        vec![v2.clone(), v2.clone()]
    );
    assert_eq!(bed.revisions("web"), 2, "nothing registered by a rollback");

    for (revision, says) in [
        (
            "api:1",
            "message attribute 'revision' (api:1) is not of the family web",
        ),
        (
            "web:2",
            "service 'web' runs web:2 already: nothing to roll back",
        ),
        ("web:99", "DescribeTaskDefinition"),
        (
            "web",
            "message attribute 'revision' (\"web\") is not a task definition revision",
        ),
    ] {
        send_rollback(&bed, Some(revision)).await;
        let report = worker.next_report().await;
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("{revision}: {report:?}");
        };
        assert!(reason.contains(says), "{revision}: {reason}");
    }
    assert_eq!(
        bed.bed.sim.calls("RegisterTaskDefinition"),
        3,
        "api:1, web:1 and web:2 only"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_sent_before_someone_deployed_leaves_their_deployment_alone() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    let v2 = bed.register("web", "nginx:1.28", "healthy").await;
    send_rollback(&bed, Some("web:1")).await;
    // Someone deploys web:2 after the rollback was sent and before a worker reads it.
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&v2)
        .send()
        .await
        .expect("update the service");
    let mut worker = bed.start_worker(bed.config(&[]));
    let report = worker.next_report().await;
    let Outcome::Superseded { reason } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(
        reason.contains("updated to web:2 after this rollback was sent"),
        "{reason}"
    );
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "only theirs");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_redelivered_mid_rollout_is_watched_not_started_again() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // web:2's tasks stay PENDING for 300 simulated seconds (3 s): a rollback to it is slow.
    let slow = bed.register("web", "nginx:1.28", "slow:300").await;
    bed.register("web", "nginx:1.29", "healthy").await;
    bed.ecs
        .update_service()
        .service("web")
        .task_definition("web:3")
        .send()
        .await
        .expect("update the service");
    testbed::wait_until("web:3 runs", std::time::Duration::from_secs(30), || async {
        (bed.running_task_definitions("web")
            .await
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>()
            == ["web:3"])
        .then_some(())
    })
    .await;
    bed.bed.sim.reset_stats();
    let visibility = [("SQS_VISIBILITY_TIMEOUT", "2")];
    let first = WorkerProcess::start(&bed, &visibility);
    send_rollback(&bed, Some("web:2")).await;
    let mut second = killed_and_resumed(
        &bed,
        first,
        "rolling the service back as asked",
        &visibility,
    )
    .await;
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "no second rollout");
    assert_eq!(bed.running_task_definitions("web").await, vec![slow]);
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn send_rollback_sends_a_rollback_and_follows_it_through_the_reply_queue() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 1, (true, true)).await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send_web("nginx:1.28", "healthy").await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);

    let run = waiting(
        &bed,
        &[
            "send",
            "--service",
            "web",
            "--rollback",
            "--reply-to",
            &replies,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("roll service web back to the revision it ran before"),
        "{run:?}"
    );
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    assert_eq!(bed.running_task_definitions("web").await, vec![v1]);

    for (args, says) in [
        (
            vec!["send", "--service", "web", "--rollback", "--wait"],
            "needs --reply-to",
        ),
        (
            vec!["send", "--service", "web", "--revision", "web:1"],
            "--rollback",
        ),
        (
            vec![
                "send",
                "--service",
                "web",
                "--rollback",
                "--revision",
                "web",
            ],
            "is not a task definition revision",
        ),
    ] {
        let run = bed.cli(&args, None).await;
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {run:?}");
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_replaces_every_task_with_the_same_revision() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 2, (true, true)).await;
    let before: Vec<String> = testbed::service_tasks(&bed.ecs, "web", "RUNNING")
        .await
        .into_iter()
        .filter_map(|t| t.task_arn)
        .collect();
    bed.bed.sim.reset_stats();
    let mut worker = bed.start_worker(bed.config(&[]));

    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(report.new_task_definition.as_deref(), Some(v1.as_str()));
    let service = bed.describe("web").await.expect("the service");
    let primary = service.deployments()[0].id().unwrap_or_default().to_owned();
    let running = testbed::service_tasks(&bed.ecs, "web", "RUNNING").await;
    let running: Vec<_> = running
        .iter()
        .filter(|t| t.last_status() == Some("RUNNING"))
        .collect();
    assert_eq!(running.len(), 2);
    for task in running {
        assert_eq!(
            task.started_by(),
            Some(primary.as_str()),
            "started by the redeploy"
        );
        assert!(
            !before.iter().any(|b| Some(b.as_str()) == task.task_arn()),
            "a new task"
        );
        assert_eq!(task.task_definition_arn(), Some(v1.as_str()));
    }
    assert_eq!(bed.revisions("web"), 1, "nothing registered");
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1);

    // The same through the command line, followed through a reply queue.
    let replies = bed.queue("replies").await;
    let run = waiting(
        &bed,
        &[
            "send",
            "--service",
            "web",
            "--redeploy",
            "--reply-to",
            &replies,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("redeploy service web"), "{run:?}");
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    assert_eq!(bed.bed.sim.calls("UpdateService"), 2);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_revisions_deregisters_old_revisions_but_never_one_in_use_or_to_roll_back_to() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // Another service of the cluster runs web:1; web's own history grows to web:4.
    let v1 = bed
        .describe("web")
        .await
        .and_then(|s| s.task_definition)
        .expect("web:1");
    bed.ecs
        .create_service()
        .service_name("web-canary")
        .task_definition(&v1)
        .desired_count(1)
        .send()
        .await
        .expect("create web-canary");
    let mut worker = bed.start_worker(bed.config(&[("KEEP_REVISIONS", "1")]));
    for image in ["nginx:1.28", "nginx:1.29", "nginx:1.30"] {
        bed.send_web(image, "healthy").await;
        assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    }
    // Kept: web:4 (the newest, running), web:3 (what web would roll back to), web:1 (web-canary runs it).
    let active = || async {
        bed.ecs
            .list_task_definitions()
            .family_prefix("web")
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .send()
            .await
            .expect("list")
            .task_definition_arns()
            .iter()
            .map(|t| short(t).to_owned())
            .collect::<Vec<_>>()
    };
    testbed::wait_until(
        "web:2 deregistered",
        std::time::Duration::from_secs(30),
        || async { (active().await == ["web:1", "web:3", "web:4"]).then_some(()) },
    )
    .await;
    assert_eq!(bed.bed.sim.calls("DeregisterTaskDefinition"), 1);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_redelivered_mid_rollout_is_watched_not_forced_again() {
    let bed = Bed::start(true).await;
    bed.service("web", 1, (true, true)).await;
    // web:2's tasks stay PENDING for 300 simulated seconds (3 s): its redeploy is slow.
    let slow = bed.register("web", "nginx:1.28", "slow:300").await;
    bed.ecs
        .update_service()
        .service("web")
        .task_definition(&slow)
        .send()
        .await
        .expect("update the service");
    testbed::wait_until("web:2 runs", std::time::Duration::from_secs(30), || async {
        (bed.running_task_definitions("web").await == [slow.clone()]).then_some(())
    })
    .await;
    bed.bed.sim.reset_stats();
    let visibility = [("SQS_VISIBILITY_TIMEOUT", "2")];
    let first = WorkerProcess::start(&bed, &visibility);
    bed.send("{}", &[("service", "web"), ("action", "redeploy")])
        .await;
    let mut second = killed_and_resumed(
        &bed,
        first,
        "forcing a new deployment of the revision the service runs",
        &visibility,
    )
    .await;
    assert_eq!(bed.bed.sim.calls("UpdateService"), 1, "not forced twice");
    second.signal("TERM");
    assert_eq!(second.wait_exit(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_aws_cli_sends_image_and_rollback_messages_as_a_producer_would() {
    let bed = Bed::start(true).await;
    let v1 = bed.service("web", 1, (true, true)).await;
    let mut worker = bed.start_worker(bed.config(&[]));
    let send = |body: &str, attributes: &str| {
        testbed::aws_json(
            &bed.bed.moto.endpoint(),
            &[
                "sqs",
                "send-message",
                "--queue-url",
                &bed.queue_url,
                "--message-body",
                body,
                "--message-attributes",
                attributes,
            ],
        )
    };
    send(
        r#"{"app": "nginx:1.29"}"#,
        r#"{"service": {"DataType": "String", "StringValue": "web"},
            "action": {"DataType": "String", "StringValue": "image"}}"#,
    );
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    send(
        "{}",
        r#"{"service": {"DataType": "String", "StringValue": "web"},
            "action": {"DataType": "String", "StringValue": "rollback"}}"#,
    );
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(bed.running_task_definitions("web").await, vec![v1]);
    worker.stop().await;
}

/// Kills `first` once it logged `logged` and ECS took its UpdateService, then starts another worker and
/// checks that it resumed that rollout and settled it as deployed; gives that worker.
async fn killed_and_resumed(
    bed: &Bed,
    mut first: WorkerProcess,
    logged: &str,
    settings: &[(&str, &str)],
) -> WorkerProcess {
    first.wait_for(logged, |_| true);
    wait_for_update(bed).await;
    first.signal("KILL");
    assert_eq!(first.wait_exit(), None, "killed by the signal");
    let mut second = WorkerProcess::start(bed, settings);
    let finished = second.wait_for("deployment finished", |_| true);
    assert_eq!(finished["outcome"], "deployed", "{}", second.log_text());
    second.wait_for(
        "resuming: the service was pointed at the revision on an earlier delivery; watching that rollout",
        |_| true,
    );
    second
}

/// Waits until ECS has taken the worker's UpdateService (the log line comes just before the call).
async fn wait_for_update(bed: &Bed) {
    testbed::wait_until(
        "the UpdateService call",
        std::time::Duration::from_secs(30),
        || async { (bed.bed.sim.calls("UpdateService") >= 1).then_some(()) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn promote_sends_what_stage_runs_by_digest_to_prod() {
    let bed = Bed::start(true).await;
    bed.service("stage", 1, (true, true)).await;
    let prod_v1 = bed.service("prod", 1, (true, true)).await;
    let replies = bed.queue("replies").await;
    let mut worker = bed.start_worker(bed.config(&[]));
    bed.send(
        &common::task_definition("stage", "nginx:1.29", "healthy").to_string(),
        &[("service", "stage")],
    )
    .await;
    assert_eq!(worker.next_report().await.outcome, Outcome::Deployed);
    let stage_digest = testbed::service_tasks(&bed.ecs, "stage", "RUNNING")
        .await
        .iter()
        .find(|t| t.last_status() == Some("RUNNING"))
        .and_then(|t| {
            t.containers()
                .first()
                .and_then(|c| c.image_digest().map(str::to_owned))
        })
        .expect("stage's digest");

    let run = waiting(
        &bed,
        &[
            "promote",
            "--from",
            "stage",
            "--to",
            "prod",
            "--reply-to",
            &replies,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(
        report.previous_task_definition.as_deref(),
        Some(prod_v1.as_str())
    );
    let prod_v2 = report.new_task_definition.expect("registered");
    assert_eq!(short(&prod_v2), "prod:2", "the target's own family");
    let described = bed.bed.sim.call(
        "DescribeTaskDefinition",
        &json!({"taskDefinition": prod_v2}),
    );
    assert_eq!(
        described["taskDefinition"]["containerDefinitions"][0]["image"],
        format!("nginx@{stage_digest}").as_str()
    );

    let nothing = bed
        .cli(&["promote", "--from", "missing", "--to", "prod"], None)
        .await;
    assert_ne!(nothing.code, 0, "{nothing:?}");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_naming_a_cluster_sends_it_so_the_worker_deploys_there() {
    let bed = Bed::start(true).await;
    // Service web in cluster blue; the worker's ECS_CLUSTER is default, blue is allowed.
    let sim = &bed.bed.sim;
    sim.call("CreateCluster", &json!({"clusterName": "blue"}));
    let v1 = bed.register("web", "nginx:1.27", "healthy").await;
    sim.call(
        "CreateService",
        &json!({"cluster": "blue", "serviceName": "web", "taskDefinition": v1, "desiredCount": 1}),
    );
    let blue_web = || {
        sim.call(
            "DescribeServices",
            &json!({"cluster": "blue", "services": ["web"]}),
        )["services"][0]
            .clone()
    };
    let rollout_state = || {
        blue_web()["deployments"][0]["rolloutState"]
            .as_str()
            .map(str::to_owned)
    };
    testbed::wait_until(
        "web's first rollout in blue",
        std::time::Duration::from_secs(60),
        || async { (rollout_state().as_deref() == Some("COMPLETED")).then_some(()) },
    )
    .await;
    let mut worker = bed.start_worker(bed.config(&[("ALLOWED_CLUSTERS", "default,blue")]));
    let replies = bed.queue("replies").await;
    let run = waiting(
        &bed,
        &[
            "send",
            "--cluster",
            "blue",
            "--service",
            "web",
            "--image",
            "app=nginx:1.29",
            "--reply-to",
            &replies,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let report = worker.next_report().await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(report.cluster, "blue", "{report:?}");
    let primary = blue_web()["taskDefinition"].clone();
    assert_eq!(
        primary.as_str().map(short),
        Some("web:2"),
        "blue's web runs the update"
    );
    worker.stop().await;
}
