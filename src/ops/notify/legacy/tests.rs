//! The old script's SNS messages, attribute by attribute, for each event it published.

use serde_json::{Value, json};

use super::*;
use crate::decide::outcome::{Outcome, Rollback};
use crate::ops::notify::fixtures::report;

const CONSOLE: &str = "https://us-east-1.console.aws.amazon.com/ecs/v2";

fn attribute<'a>(message: &'a Legacy, name: &str) -> (&'a str, &'a str) {
    message
        .attributes
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, data_type, value)| (*data_type, value.as_str()))
        .unwrap_or_else(|| panic!("no attribute {name}: {message:?}"))
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text} is not JSON: {e}"))
}

#[test]
fn a_started_deployment_is_the_old_registered_and_starting_message_in_blue() {
    let notice = Notice::started(
        &report(Outcome::Deployed),
        Some("arn:aws:ecs:us-east-1:1:task-definition/web:4"),
        Some("arn:aws:ecs:us-east-1:1:task-definition/web:5"),
        None,
    );
    let message = legacy(&notice).expect("the old script published it");
    assert_eq!(message.subject, "ECS Deployment: web");
    let td = format!("[web:5]({CONSOLE}/task-definitions/web/5?region=us-east-1)");
    assert_eq!(
        message.message,
        format!(
            "Registered new Task Definition {td} <br>Starting Service Update of \
             [web]({CONSOLE}/clusters/prod/services/web/tasks?region=us-east-1) with new Task Definition {td} \
             <br>Commit ID: [1?a=\\<b\\>\\&c](https://git.example/c/1?a=%3Cb%3E&c)"
        )
    );
    assert_eq!(attribute(&message, "color"), ("String", "0000ff"));
    assert_eq!(attribute(&message, "messagetype"), ("String", "normal"));
    assert_eq!(
        attribute(&message, "summary"),
        ("String", "ECS Deployment: web")
    );
    assert_eq!(attribute(&message, "order").0, "String.Array");
    assert_eq!(json_of(attribute(&message, "order").1), json!(["message"]));
    assert_eq!(message.attributes.len(), 4);
}

#[test]
fn a_success_is_the_old_completed_message_in_green_with_its_buttons() {
    let message = legacy(&Notice::finished(&report(Outcome::Deployed), None)).expect("published");
    assert_eq!(message.subject, "ECS Service Update Successful: web");
    assert!(
        message.message.starts_with(&format!(
            "Completed Service Update of [web]({CONSOLE}/clusters/prod/services/web/tasks?region=us-east-1) with new Task Definition [web:5]("
        )),
        "{}",
        message.message
    );
    assert_eq!(attribute(&message, "color"), ("String", "00ff00"));
    assert_eq!(attribute(&message, "messagetype"), ("String", "normal"));
    assert_eq!(
        attribute(&message, "summary"),
        ("String", "ECS Service Update Successful: web")
    );
    assert_eq!(json_of(attribute(&message, "order").1), json!(["message"]));
    let buttons = json_of(attribute(&message, "buttons").1);
    assert_eq!(buttons[0]["name"], "Service Events");
    assert_eq!(
        buttons[0]["value"],
        format!("{CONSOLE}/clusters/prod/services/web/deployments?region=us-east-1")
    );
    assert_eq!(buttons[1]["name"], "Deployment Logs");
    assert!(
        buttons[1]["value"]
            .as_str()
            .is_some_and(|u| u.contains("group=/ecs/ecs-deployment"))
    );
}

#[test]
fn a_failure_is_the_old_red_pretext_with_service_and_error_facts() {
    let failed = Outcome::Failed {
        reason: "tasks failed to start".into(),
        rollback: Rollback::CompletedByEcs,
    };
    let notice = Notice::finished(&report(failed), None);
    let error = notice.reason.clone().unwrap_or_default();
    assert!(error.starts_with("tasks failed to start"), "{error}");
    let message = legacy(&notice).expect("published");
    assert_eq!(message.subject, "ECS Deployment Failure");
    assert_eq!(message.message, format!("ECS Deployment Failure: {error}"));
    assert_eq!(attribute(&message, "color"), ("String", "ff0000"));
    assert_eq!(attribute(&message, "messagetype"), ("String", "pretext"));
    assert_eq!(
        attribute(&message, "summary"),
        (
            "String",
            format!("ECS Deployment Failure: {error}").as_str()
        )
    );
    assert_eq!(attribute(&message, "order").0, "String.Array");
    assert_eq!(json_of(attribute(&message, "order").1), json!(["facts"]));
    assert_eq!(
        json_of(attribute(&message, "items").1),
        json!([
            {"name": "Service", "value": "web"},
            {"name": "Error Message", "value": error}
        ])
    );
    assert_eq!(
        json_of(attribute(&message, "buttons").1),
        json!([{"name": "View", "value": format!("{CONSOLE}/clusters/prod/services/web/deployments?region=us-east-1")}])
    );
}

#[test]
fn register_only_is_the_old_registered_message_and_other_events_are_not_sent() {
    let mut registered = report(Outcome::Registered);
    registered.service = "false".into();
    let message = legacy(&Notice::finished(&registered, None)).expect("published");
    assert_eq!(message.subject, "ECS Deployment: web");
    assert!(
        !message.message.contains("Starting Service Update"),
        "{}",
        message.message
    );
    let retry = Notice::finished(
        &report(Outcome::RetryLater {
            reason: "throttled".into(),
        }),
        None,
    );
    assert_eq!(legacy(&retry), None);
}
