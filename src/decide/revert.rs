//! A `rollback` message: the revision it goes back to, and whether the worker points the service at it,
//! watches a rollout that already does (a redelivery), or leaves a service someone deployed since alone.

use serde_json::Value;

use crate::decide::marker::PREVIOUS_TAG;
use crate::decide::names::{family_of, short_arn};
use crate::decide::service::ServiceState;

/// What a rollback needs of a described revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Its ARN.
    pub arn: String,
    /// The revision the worker recorded as the one the service ran before it, when it registered it.
    pub previous: Option<String>,
}

/// Reads a DescribeTaskDefinition answer (with tags).
pub fn revision(json: &str) -> Result<Revision, String> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| format!("DescribeTaskDefinition answered with no JSON: {e}"))?;
    let arn = value
        .pointer("/taskDefinition/taskDefinitionArn")
        .and_then(Value::as_str)
        .ok_or("DescribeTaskDefinition answered with no taskDefinitionArn")?
        .to_owned();
    let previous = value
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|t| t.get("key").and_then(Value::as_str) == Some(PREVIOUS_TAG))
        .and_then(|t| t.get("value").and_then(Value::as_str))
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    Ok(Revision { arn, previous })
}

/// The revision to go back to from `current`, which service `service` runs: the one `named` by the
/// `revision` attribute, or else the one recorded as running before it.
pub fn target<'a>(
    service: &str,
    current: &'a Revision,
    named: Option<&'a str>,
) -> Result<&'a str, String> {
    named.or(current.previous.as_deref()).ok_or_else(|| {
        format!(
            "nothing to roll back to: the revision {} that service '{service}' runs records no revision before it (it was not registered by this worker); name one with the message attribute 'revision'",
            short_arn(&current.arn)
        )
    })
}

/// Checks the revision found for the target against the one the service runs: the same family, and not
/// the same revision.
pub fn check(service: &str, current: &Revision, target: &Revision) -> Result<(), String> {
    if family_of(&target.arn) != family_of(&current.arn) {
        return Err(format!(
            "message attribute 'revision' ({}) is not of the family {} that service '{service}' runs",
            short_arn(&target.arn),
            family_of(&current.arn)
        ));
    }
    if target.arn == current.arn {
        return Err(format!(
            "service '{service}' runs {} already: nothing to roll back",
            short_arn(&current.arn)
        ));
    }
    Ok(())
}

/// What a rollback to `target` does with the service as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Point the service at the target.
    Update,
    /// A deployment of the target started after the message was sent (by an earlier delivery): watch it.
    Watch {
        /// That deployment's id.
        deployment_id: String,
        /// The revision it deploys.
        task_definition: String,
    },
    /// A deployment of another revision started after the message was sent: rolling back now would undo
    /// it. The message is settled as superseded.
    Superseded {
        /// What the service runs now.
        now: String,
    },
}

/// Decides the step from the service's PRIMARY deployment and when the message was sent (`sent_at_ms`,
/// SQS's SentTimestamp): only a deployment created after the message was sent is news to it. Such a
/// deployment of the `named` revision is this rollout; of another one, someone deployed since. Without a
/// named revision, a redelivery takes it for its own earlier delivery's, a first delivery for someone
/// else's.
pub fn step(
    service: &ServiceState,
    named: Option<&str>,
    sent_at_ms: u64,
    redelivered: bool,
) -> Step {
    let Some(primary) = service.deployments.iter().find(|d| d.status == "PRIMARY") else {
        return Step::Update;
    };
    let sent = i64::try_from(sent_at_ms).unwrap_or(i64::MAX);
    let newer = primary
        .created_at_ms
        .is_some_and(|created| sent > 0 && created > sent);
    if !newer {
        return Step::Update;
    }
    let ours = match named {
        Some(named) => short_arn(named) == short_arn(&primary.task_definition),
        None => redelivered,
    };
    if ours {
        Step::Watch {
            deployment_id: primary.id.clone(),
            task_definition: primary.task_definition.clone(),
        }
    } else {
        Step::Superseded {
            now: primary.task_definition.clone(),
        }
    }
}

/// Why a message of `action` (a rollback, a redeploy) was not carried out: see [`Step::Superseded`].
pub fn superseded_reason(action: &str, now: &str) -> String {
    format!(
        "superseded: the service was updated to {} after this {action} was sent; carrying it out now would undo that",
        short_arn(now)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::decide::service::DeploymentState;

    const V4: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:4";
    const V5: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:5";

    fn described(arn: &str, previous: Option<&str>) -> String {
        let tags: Vec<Value> = previous
            .map(|p| json!({"key": PREVIOUS_TAG, "value": p}))
            .into_iter()
            .chain([json!({"key": "team", "value": "a"})])
            .collect();
        json!({"taskDefinition": {"taskDefinitionArn": arn, "family": "web"}, "tags": tags})
            .to_string()
    }

    #[test]
    fn the_target_is_named_or_the_recorded_previous_revision() {
        let current = revision(&described(V5, Some(V4))).expect("read");
        assert_eq!(current.previous.as_deref(), Some(V4));
        assert_eq!(target("web", &current, None), Ok(V4));
        assert_eq!(target("web", &current, Some("web:2")), Ok("web:2"));
        let unrecorded = revision(&described(V5, None)).expect("read");
        let err = target("web", &unrecorded, None).expect_err("nothing");
        assert!(
            err.starts_with("nothing to roll back to: the revision web:5"),
            "{err}"
        );
        assert!(err.contains("'revision'"), "{err}");
        assert!(revision("{}").is_err());
    }

    #[test]
    fn only_another_revision_of_the_same_family_is_a_target() {
        let current = revision(&described(V5, None)).expect("read");
        let older = revision(&described(V4, None)).expect("read");
        assert_eq!(check("web", &current, &older), Ok(()));
        let other = revision(&described(
            "arn:aws:ecs:us-east-1:1:task-definition/api:3",
            None,
        ))
        .expect("read");
        assert_eq!(
            check("web", &current, &other),
            Err("message attribute 'revision' (api:3) is not of the family web that service 'web' runs".into())
        );
        let same = check("web", &current, &current).expect_err("same");
        assert!(same.contains("runs web:5 already"), "{same}");
    }

    #[test]
    fn only_a_deployment_newer_than_the_message_is_news_to_it() {
        let service = |td: &str, created: Option<i64>| ServiceState {
            status: "ACTIVE".into(),
            deployments: vec![DeploymentState {
                id: "ecs-svc/1".into(),
                status: "PRIMARY".into(),
                task_definition: td.into(),
                created_at_ms: created,
                ..DeploymentState::default()
            }],
            ..ServiceState::default()
        };
        let sent = 1_000;
        let watch = |td: &str| Step::Watch {
            deployment_id: "ecs-svc/1".into(),
            task_definition: td.into(),
        };
        let superseded = |td: &str| Step::Superseded { now: td.into() };
        // (the service's PRIMARY and its creation, the named revision, redelivered, the step)
        let cases = [
            (service(V5, Some(500)), Some(V4), false, Step::Update),
            (service(V5, Some(500)), None, true, Step::Update),
            (service(V5, None), None, false, Step::Update),
            (service(V4, Some(1_500)), Some(V4), true, watch(V4)),
            (service(V4, Some(1_500)), Some("web:4"), false, watch(V4)),
            (service(V5, Some(1_500)), Some(V4), true, superseded(V5)),
            (service(V4, Some(1_500)), None, true, watch(V4)),
            (service(V5, Some(1_500)), None, false, superseded(V5)),
            (ServiceState::default(), None, false, Step::Update),
        ];
        for (service, named, redelivered, expected) in cases {
            assert_eq!(
                step(&service, named, sent, redelivered),
                expected,
                "{named:?} {redelivered}"
            );
        }
        assert_eq!(
            step(&service(V5, Some(1_500)), Some(V4), 0, false),
            Step::Update,
            "no send time known"
        );
        assert!(
            superseded_reason("rollback", V5)
                .contains("updated to web:5 after this rollback was sent; carrying it out now")
        );
        // The action's name is said as given, and the revision's name is never rewritten.
        let redeploy = superseded_reason(
            "redeploy",
            "arn:aws:ecs:us-east-1:1:task-definition/web-rollback:3",
        );
        assert!(
            redeploy.contains(
                "updated to web-rollback:3 after this redeploy was sent; carrying it out now"
            ),
            "{redeploy}"
        );
    }
}
