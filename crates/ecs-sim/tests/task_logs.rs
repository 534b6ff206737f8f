//! The output of containers that use the awslogs driver, written to moto's CloudWatch Logs in each
//! container's log stream, `prefix/container/task-id`.

mod common;

use common::Stepped;
use serde_json::json;

#[tokio::test]
async fn an_awslogs_container_s_output_reaches_its_log_stream() {
    let bed = Stepped::start().await;
    let moto = testbed::Moto::start();
    let logs = testbed::logs_client(&moto.endpoint());
    logs.create_log_group()
        .log_group_name("/ecs/svc")
        .send()
        .await
        .expect("create the log group");
    bed.sim.use_logs(&moto.endpoint());
    bed.sim.call(
        "RegisterTaskDefinition",
        &json!({"family": "svc", "containerDefinitions": [
            {"name": "app", "image": "app:1", "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/svc", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"
            }}},
            {"name": "quiet", "image": "quiet:1", "essential": false}
        ]}),
    );
    let run = bed.sim.call(
        "RunTask",
        &json!({"taskDefinition": "svc", "overrides": {"containerOverrides": [
            {"name": "app", "command": ["ecs-sim-exit", "3", "1"]}
        ]}}),
    );
    let arn = run["tasks"][0]["taskArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = arn.rsplit('/').next().unwrap_or_default().to_owned();
    for _ in 0..60 {
        let task = bed.sim.call("DescribeTasks", &json!({"tasks": [arn]}));
        if task["tasks"][0]["lastStatus"] == "STOPPED" {
            break;
        }
        bed.sim.advance(1);
    }
    let events = logs
        .get_log_events()
        .log_group_name("/ecs/svc")
        .log_stream_name(format!("web/app/{id}"))
        .start_from_head(true)
        .send()
        .await
        .expect("the container's log stream");
    let lines: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(
        lines,
        [
            "ecs-sim: app started: ecs-sim-exit 3 1",
            "ecs-sim: app exited with code 3"
        ]
    );
    let streams = logs
        .describe_log_streams()
        .log_group_name("/ecs/svc")
        .send()
        .await
        .expect("the group's streams");
    assert_eq!(
        streams.log_streams().len(),
        1,
        "a container without awslogs writes nowhere"
    );
}
