//! The old script's SNS messages (`SNS_FORMAT=legacy`): its subject, Markdown message and the card
//! attributes (`color`, `messagetype`, `summary`, `order`, `items`, `buttons`) its users' Teams bridges
//! read, for a deployment started, succeeded or failed.

use serde_json::json;

use crate::decide::names::short_arn;
use crate::ops::notify::markup::{markdown_text, markdown_url};
use crate::ops::notify::notice::{Event, Notice};

/// The worker's own log group in the shipped task definition, which the old script linked to as well.
const WORKER_LOG_GROUP: &str = "/ecs/ecs-deployment";

/// One SNS message in the old script's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legacy {
    /// The subject.
    pub subject: String,
    /// The Markdown message (`[text](url)` links, `<br>` between lines).
    pub message: String,
    /// Message attributes: name, data type, value.
    pub attributes: Vec<(&'static str, &'static str, String)>,
}

/// Console links for the notice's service and revision, in the region of its task definition.
struct Links {
    service: String,
    events: String,
    task_definition: Option<String>,
    region: String,
}

fn links(notice: &Notice) -> Option<Links> {
    let arn = notice
        .new_task_definition
        .as_deref()
        .or(notice.previous_task_definition.as_deref())?;
    let region = arn.split(':').nth(3).filter(|r| !r.is_empty())?.to_owned();
    let console = format!("https://{region}.console.aws.amazon.com/ecs/v2");
    let service = format!(
        "{console}/clusters/{}/services/{}",
        notice.cluster, notice.service
    );
    let task_definition = notice.new_task_definition.as_deref().map(|arn| {
        let (family, revision) = short_arn(arn)
            .split_once(':')
            .unwrap_or((short_arn(arn), ""));
        format!("{console}/task-definitions/{family}/{revision}?region={region}")
    });
    Some(Links {
        events: format!("{service}/deployments?region={region}"),
        service: format!("{service}/tasks?region={region}"),
        task_definition,
        region,
    })
}

/// The old script's message for `notice`: started and finished deployments; `None` for events it had
/// no message for (waiting at a hook, retrying later).
pub fn legacy(notice: &Notice) -> Option<Legacy> {
    let links = links(notice);
    let td = notice.new_task_definition.as_deref().map(short_arn);
    // What the message and ECS say is escaped; the worker's own markup (links, <br>) is not.
    let td_link = match (&td, links.as_ref().and_then(|l| l.task_definition.as_ref())) {
        (Some(td), Some(url)) => format!("[{}]({})", markdown_text(td), markdown_url(url)),
        (Some(td), None) => markdown_text(td),
        _ => String::new(),
    };
    let service = markdown_text(&notice.service);
    let service_link = match &links {
        Some(l) => format!("[{service}]({})", markdown_url(&l.service)),
        None => service.clone(),
    };
    let commit = notice.commit_url.as_deref().map(|url| {
        let id = url.rsplit('/').next().unwrap_or(url);
        format!(
            " <br>Commit ID: [{}]({})",
            markdown_text(id),
            markdown_url(url)
        )
    });
    let family = td.map(|t| t.split(':').next().unwrap_or(t).to_owned());
    let normal = |color: &str, subject: String, message: String, buttons: Option<String>| {
        let mut attributes = vec![
            ("color", "String", color.to_owned()),
            ("messagetype", "String", "normal".to_owned()),
            ("summary", "String", subject.clone()),
            ("order", "String.Array", json!(["message"]).to_string()),
        ];
        if let Some(buttons) = buttons {
            attributes.push(("buttons", "String", buttons));
        }
        Legacy {
            subject,
            message,
            attributes,
        }
    };
    let registered = || {
        let subject = format!("ECS Deployment: {}", family.clone().unwrap_or_default());
        let mut message = format!("Registered new Task Definition {td_link}");
        if notice.service != "false" {
            message.push_str(&format!(
                " <br>Starting Service Update of {service_link} with new Task Definition {td_link}"
            ));
        }
        message.push_str(commit.as_deref().unwrap_or_default());
        normal("0000ff", subject, message, None)
    };
    match (notice.event, notice.success) {
        (Event::Started, _) => Some(registered()),
        (Event::Finished, Some(true)) if notice.service == "false" => Some(registered()),
        (Event::Finished, Some(true)) => {
            let subject = format!("ECS Service Update Successful: {}", notice.service);
            let message = format!(
                "Completed Service Update of {service_link} with new Task Definition {td_link}"
            );
            let buttons = links.as_ref().map(|l| {
                let logs = format!(
                    "https://{0}.console.aws.amazon.com/cloudwatch/home?region={0}#logEventViewer:group={WORKER_LOG_GROUP}",
                    l.region
                );
                json!([
                    {"name": "Service Events", "value": l.events},
                    {"name": "Deployment Logs", "value": logs}
                ])
                .to_string()
            });
            Some(normal("00ff00", subject, message, buttons))
        }
        (Event::Finished, _) => {
            let error = notice
                .reason
                .clone()
                .unwrap_or_else(|| notice.outcome.clone().unwrap_or_default());
            let subject = "ECS Deployment Failure".to_owned();
            let message = format!("{subject}: {}", markdown_text(&error));
            let mut attributes = vec![
                ("color", "String", "ff0000".to_owned()),
                ("messagetype", "String", "pretext".to_owned()),
                ("summary", "String", message.clone()),
                ("order", "String.Array", json!(["facts"]).to_string()),
                (
                    "items",
                    "String",
                    json!([
                        {"name": "Service", "value": notice.service},
                        {"name": "Error Message", "value": error}
                    ])
                    .to_string(),
                ),
            ];
            if let Some(l) = &links {
                let view = json!([{"name": "View", "value": l.events}]).to_string();
                attributes.push(("buttons", "String", view));
            }
            Some(Legacy {
                subject,
                message,
                attributes,
            })
        }
        (Event::Waiting | Event::Retrying, _) => None,
    }
}

#[cfg(test)]
mod tests;
