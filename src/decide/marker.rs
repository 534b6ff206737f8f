//! What the worker writes on the task definition revisions it registers, and the pure decision of where a
//! redelivered message picks up from.
//!
//! SQS delivers at least once: a worker killed mid-rollout, a visibility timeout that lapsed or a duplicate
//! delivery all hand the same message to a worker again. Each revision the worker registers is tagged with
//! the message id (and the commit URL and the revision it replaces); once the service is pointed at it, with
//! the deployment id too. A redelivered message looks for its revision first and resumes from what the tags
//! and the service show, instead of registering a second revision or starting the rollout again.

use crate::decide::names::short_arn;
use crate::decide::service::ServiceState;

/// Every tag the worker writes starts with this; a producer's tags with it are dropped, so a body copied
/// from `describe-task-definition --include TAGS` cannot carry another message's marks.
pub const TAG_PREFIX: &str = "ecs-deployment:";
/// The SQS message id the revision was registered for.
pub const MESSAGE_ID_TAG: &str = "ecs-deployment:message-id";
/// The producer's `commit_url` attribute.
pub const COMMIT_URL_TAG: &str = "ecs-deployment:commit-url";
/// The task definition the service ran before: what a failed rollout goes back to.
pub const PREVIOUS_TAG: &str = "ecs-deployment:previous-task-definition";
/// The deployment UpdateService started for the revision: the service was pointed at it.
pub const DEPLOYMENT_TAG: &str = "ecs-deployment:deployment-id";
/// How many tags the worker may add to a revision (message id, commit URL, previous revision, deployment
/// id, and the two records of [`crate::decide::ledger`]); ECS allows 50 in all.
pub const MARKER_TAGS: usize = 6;
/// ECS allows at most this many tags on a resource.
pub const MAX_TAGS: usize = 50;
/// ECS caps a tag value at 256 characters.
const MAX_TAG_VALUE: usize = 256;

/// A revision found with this message's marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    /// Its ARN.
    pub task_definition: String,
    /// The task definition the service ran before it, as recorded at registration.
    pub previous_task_definition: Option<String>,
    /// The deployment that points the service at it, once recorded.
    pub deployment_id: Option<String>,
}

impl Marked {
    /// Reads the marks of a revision from its tags; `None` unless it was registered for `message_id`.
    pub fn from_tags(
        task_definition: &str,
        tags: &[(String, String)],
        message_id: &str,
    ) -> Option<Self> {
        let tag = |key: &str| {
            tags.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        (tag(MESSAGE_ID_TAG).as_deref() == Some(message_id)).then(|| Self {
            task_definition: task_definition.to_owned(),
            previous_task_definition: tag(PREVIOUS_TAG),
            deployment_id: tag(DEPLOYMENT_TAG),
        })
    }
}

/// The tags a revision is registered with.
pub fn registration_tags(
    message_id: &str,
    commit_url: Option<&str>,
    previous_task_definition: Option<&str>,
) -> Vec<(String, String)> {
    let mut tags = vec![(MESSAGE_ID_TAG.to_owned(), tag_value(message_id))];
    if let Some(url) = commit_url.filter(|u| !u.is_empty()) {
        tags.push((COMMIT_URL_TAG.to_owned(), tag_value(url)));
    }
    if let Some(previous) = previous_task_definition {
        tags.push((PREVIOUS_TAG.to_owned(), tag_value(previous)));
    }
    tags
}

/// `text` as a valid ECS tag value: characters ECS does not take become `_`, and it is cut to 256.
pub fn tag_value(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_TAG_VALUE)
        .collect()
}

/// Where a deployment starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing was done for this message yet: register, update the service, watch.
    Register,
    /// The revision is registered but the service was never pointed at it: update, then watch.
    Update {
        /// The revision registered on an earlier delivery.
        task_definition: String,
        /// What the service ran before, as recorded.
        previous_task_definition: Option<String>,
    },
    /// The revision is registered but the service was never pointed at it, and the service no longer runs
    /// what it ran then: someone deployed since, and updating it now would undo that. Settled as
    /// superseded.
    Superseded {
        /// The revision registered on an earlier delivery.
        task_definition: String,
        /// What the service ran then, as recorded.
        previous_task_definition: Option<String>,
        /// What the service runs now (its PRIMARY deployment's task definition), when it says.
        now: Option<String>,
    },
    /// The service was pointed at the revision: watch that rollout, wherever it got to.
    Watch {
        /// The revision registered on an earlier delivery.
        task_definition: String,
        /// What the service ran before, as recorded.
        previous_task_definition: Option<String>,
        /// The deployment to watch, when known; otherwise it is found by its task definition.
        deployment_id: Option<String>,
    },
}

/// Decides where a deployment starts, from this message's marked revision (if one was found) and the
/// service as it is now.
///
/// A recorded deployment id, or a deployment of the service running the revision, means the service was
/// pointed at it: the rollout is watched, never started again (the watch tells a finished, rolled back or
/// superseded rollout apart). Otherwise the revision is registered but unused, and the service is updated
/// only while it still runs the revision recorded as the one before; if it runs anything else (or nothing
/// was recorded), the service may have been pointed at the revision and deployed over since, and the
/// message is superseded rather than allowed to undo a newer deployment.
pub fn plan(marked: Option<&Marked>, service: &ServiceState) -> Plan {
    let Some(marked) = marked else {
        return Plan::Register;
    };
    let running = service
        .deployments
        .iter()
        .find(|d| d.task_definition == marked.task_definition);
    let now = service
        .deployments
        .iter()
        .find(|d| d.status == "PRIMARY")
        .map(|d| d.task_definition.clone());
    match (&marked.deployment_id, running) {
        (None, None) if now.is_some() && now == marked.previous_task_definition => Plan::Update {
            task_definition: marked.task_definition.clone(),
            previous_task_definition: marked.previous_task_definition.clone(),
        },
        (None, None) => Plan::Superseded {
            task_definition: marked.task_definition.clone(),
            previous_task_definition: marked.previous_task_definition.clone(),
            now,
        },
        (recorded, found) => Plan::Watch {
            task_definition: marked.task_definition.clone(),
            previous_task_definition: marked.previous_task_definition.clone(),
            deployment_id: recorded.clone().or_else(|| found.map(|d| d.id.clone())),
        },
    }
}

/// Why a redelivery does not update the service: see [`Plan::Superseded`].
pub fn superseded_reason(task_definition: &str, before: Option<&str>, now: Option<&str>) -> String {
    let now = now.map_or_else(
        || "no task definition".to_owned(),
        |n| short_arn(n).to_owned(),
    );
    match before {
        Some(before) => format!(
            "superseded: {} was registered on an earlier delivery while the service ran {}; it now runs {now}, so it is not updated to {}, which would undo a newer deployment",
            short_arn(task_definition),
            short_arn(before),
            short_arn(task_definition)
        ),
        None => format!(
            "superseded: {} was registered on an earlier delivery, with no record of what the service ran then; it now runs {now}, and is not updated to {}, which could undo a newer deployment",
            short_arn(task_definition),
            short_arn(task_definition)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::service::DeploymentState;

    const OLD: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:1";
    const NEW: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:2";
    const OTHER: &str = "arn:aws:ecs:us-east-1:1:task-definition/web:3";

    fn service(deployments: &[(&str, &str)]) -> ServiceState {
        ServiceState {
            status: "ACTIVE".into(),
            desired_count: 2,
            deployments: deployments
                .iter()
                .map(|(id, td)| DeploymentState {
                    id: (*id).into(),
                    status: "PRIMARY".into(),
                    task_definition: (*td).into(),
                    ..DeploymentState::default()
                })
                .collect(),
            deployment_controller: None,
            ..ServiceState::default()
        }
    }

    fn marked(deployment: Option<&str>) -> Marked {
        Marked {
            task_definition: NEW.into(),
            previous_task_definition: Some(OLD.into()),
            deployment_id: deployment.map(str::to_owned),
        }
    }

    fn watch(deployment: Option<&str>) -> Plan {
        Plan::Watch {
            task_definition: NEW.into(),
            previous_task_definition: Some(OLD.into()),
            deployment_id: deployment.map(str::to_owned),
        }
    }

    #[test]
    fn a_redelivered_message_resumes_where_it_stopped() {
        let update = Plan::Update {
            task_definition: NEW.into(),
            previous_task_definition: Some(OLD.into()),
        };
        // (what was found, the service's deployments, the plan)
        let cases: Vec<(&str, Option<Marked>, ServiceState, Plan)> = vec![
            (
                "first delivery",
                None,
                service(&[("d1", OLD)]),
                Plan::Register,
            ),
            (
                "registered, killed before UpdateService",
                Some(marked(None)),
                service(&[("d1", OLD)]),
                update,
            ),
            (
                "updated, killed before the deployment id was tagged",
                Some(marked(None)),
                service(&[("d2", NEW), ("d1", OLD)]),
                watch(Some("d2")),
            ),
            (
                "updated, not tagged, and someone deployed since: not updated back",
                Some(marked(None)),
                service(&[("d3", OTHER)]),
                Plan::Superseded {
                    task_definition: NEW.into(),
                    previous_task_definition: Some(OLD.into()),
                    now: Some(OTHER.into()),
                },
            ),
            (
                "registered with nothing recorded as before: not updated",
                Some(Marked {
                    previous_task_definition: None,
                    ..marked(None)
                }),
                service(&[("d1", OLD)]),
                Plan::Superseded {
                    task_definition: NEW.into(),
                    previous_task_definition: None,
                    now: Some(OLD.into()),
                },
            ),
            (
                "updated and tagged, rollout in progress",
                Some(marked(Some("d2"))),
                service(&[("d2", NEW), ("d1", OLD)]),
                watch(Some("d2")),
            ),
            (
                "updated and tagged, rollout already over (rolled back)",
                Some(marked(Some("d2"))),
                service(&[("d3", OLD)]),
                watch(Some("d2")),
            ),
            (
                "updated and tagged, service gone",
                Some(marked(Some("d2"))),
                ServiceState::default(),
                watch(Some("d2")),
            ),
        ];
        for (what, found, service, expected) in cases {
            assert_eq!(plan(found.as_ref(), &service), expected, "{what}");
        }
    }

    #[test]
    fn marks_are_read_back_only_for_their_message() {
        let tags = registration_tags("m-1", Some("https://git.example/c/1?x=#y"), Some(OLD));
        assert_eq!(tags[1].1, "https://git.example/c/1_x=_y");
        let mut all = tags.clone();
        all.push(("team".into(), "web".into()));
        all.push((DEPLOYMENT_TAG.into(), "ecs-svc/9".into()));
        assert_eq!(
            Marked::from_tags(NEW, &all, "m-1"),
            Some(Marked {
                task_definition: NEW.into(),
                previous_task_definition: Some(OLD.into()),
                deployment_id: Some("ecs-svc/9".into()),
            })
        );
        assert_eq!(Marked::from_tags(NEW, &all, "m-2"), None);
        assert_eq!(Marked::from_tags(NEW, &[], "m-1"), None);
        assert!(tags.len() < MARKER_TAGS);
        assert_eq!(tag_value(&"x".repeat(300)).len(), 256);
    }
}
