//! ECS's own verdict on a service deployment, read from the record DescribeServiceDeployments gives, with
//! the words that explain it (the circuit breaker's count, the alarms that fired, the hook that waits).

use crate::decide::service::ServiceDeploymentState;

/// What ECS's record of a service deployment says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcsVerdict {
    /// PENDING or IN_PROGRESS (or a status this worker does not know yet): the status and stage.
    Going(String),
    /// IN_PROGRESS with lifecycle hooks waiting for ContinueServiceDeployment.
    Paused {
        /// The hooks' ids.
        hooks: Vec<String>,
        /// The lifecycle stage they hold.
        stage: String,
    },
    /// SUCCESSFUL.
    Succeeded,
    /// ROLLBACK_REQUESTED or ROLLBACK_IN_PROGRESS, and why.
    RollingBack(String),
    /// ROLLBACK_SUCCESSFUL, and why it was rolled back.
    RolledBack(String),
    /// ROLLBACK_FAILED, and why.
    RollbackFailed(String),
    /// STOPPED or STOP_REQUESTED, and why: replaced by a newer deployment, or failed with no rollback.
    Stopped(String),
}

/// Reads ECS's verdict from its record of a service deployment.
pub fn verdict(record: &ServiceDeploymentState) -> EcsVerdict {
    let stage = record.lifecycle_stage.clone().unwrap_or_default();
    match record.status.as_str() {
        "SUCCESSFUL" => EcsVerdict::Succeeded,
        "ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS" => EcsVerdict::RollingBack(why(record)),
        "ROLLBACK_SUCCESSFUL" => EcsVerdict::RolledBack(why(record)),
        "ROLLBACK_FAILED" => EcsVerdict::RollbackFailed(why(record)),
        "STOPPED" | "STOP_REQUESTED" => EcsVerdict::Stopped(why(record)),
        "IN_PROGRESS" if !record.paused_hooks.is_empty() => EcsVerdict::Paused {
            hooks: record.paused_hooks.clone(),
            stage,
        },
        status => EcsVerdict::Going(if stage.is_empty() {
            status.to_owned()
        } else {
            format!("{status} at {stage}")
        }),
    }
}

/// Why the service deployment ended as it did, in ECS's words: the rollback's reason (or the status
/// reason), with the circuit breaker's count against its threshold and the alarms that went into ALARM.
pub fn why(record: &ServiceDeploymentState) -> String {
    let mut why = record
        .rollback_reason
        .clone()
        .or_else(|| record.status_reason.clone())
        .unwrap_or_else(|| format!("ECS says {}", record.status));
    if let Some((status, failures, threshold)) = &record.circuit_breaker
        && (status == "TRIGGERED" || *failures > 0)
    {
        why.push_str(&format!(
            " (circuit breaker: {failures} failed tasks, threshold {threshold})"
        ));
    }
    if !record.triggered_alarms.is_empty() {
        why.push_str(&format!(
            " (alarms in ALARM: {})",
            record.triggered_alarms.join(", ")
        ));
    }
    why
}

/// ECS's verdict in one line, for people: the status and stage, the hooks waiting, or why it ended so.
pub fn summary(record: &ServiceDeploymentState) -> String {
    match verdict(record) {
        EcsVerdict::Going(status) => status,
        EcsVerdict::Paused { hooks, stage } => format!(
            "IN_PROGRESS, waiting at {stage} for lifecycle hook {} (ecs-deployment continue)",
            hooks.join(", ")
        ),
        EcsVerdict::Succeeded => "SUCCESSFUL".to_owned(),
        EcsVerdict::RollingBack(why)
        | EcsVerdict::RolledBack(why)
        | EcsVerdict::RollbackFailed(why)
        | EcsVerdict::Stopped(why) => format!("{}: {why}", record.status),
    }
}

/// Whether the service deployment is still under way, so StopServiceDeployment can roll it back.
pub fn in_flight(record: &ServiceDeploymentState) -> bool {
    matches!(record.status.as_str(), "PENDING" | "IN_PROGRESS")
}

/// The lifecycle hooks of `record` to answer: `hook` when it waits, or every hook that waits; an error
/// saying why there is none to answer.
pub fn hooks_to_answer(
    record: &ServiceDeploymentState,
    hook: Option<&str>,
) -> Result<Vec<String>, String> {
    if record.paused_hooks.is_empty() {
        return Err(format!(
            "service deployment {} is {}{} and waits for no lifecycle hook",
            record.arn,
            record.status,
            record
                .lifecycle_stage
                .as_deref()
                .map(|s| format!(" at {s}"))
                .unwrap_or_default()
        ));
    }
    match hook {
        None => Ok(record.paused_hooks.clone()),
        Some(hook) if record.paused_hooks.iter().any(|h| h == hook) => Ok(vec![hook.to_owned()]),
        Some(hook) => Err(format!(
            "lifecycle hook {hook} does not wait; the ones that do: {}",
            record.paused_hooks.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: &str) -> ServiceDeploymentState {
        ServiceDeploymentState {
            arn: "arn:aws:ecs:us-east-1:1:service-deployment/prod/web/abc".into(),
            status: status.into(),
            lifecycle_stage: Some("SCALE_UP".into()),
            ..ServiceDeploymentState::default()
        }
    }

    #[test]
    fn every_status_has_its_verdict() {
        let breaker = |r: ServiceDeploymentState| ServiceDeploymentState {
            rollback_reason: Some("ECS deployment circuit breaker: tasks failed to start.".into()),
            circuit_breaker: Some(("TRIGGERED".into(), 3, 3)),
            ..r
        };
        let cases = [
            (record("PENDING"), EcsVerdict::Going("PENDING at SCALE_UP".into())),
            (record("IN_PROGRESS"), EcsVerdict::Going("IN_PROGRESS at SCALE_UP".into())),
            (
                ServiceDeploymentState {
                    lifecycle_stage: None,
                    ..record("SOMETHING_NEW")
                },
                EcsVerdict::Going("SOMETHING_NEW".into()),
            ),
            (
                ServiceDeploymentState {
                    paused_hooks: vec!["approve".into()],
                    lifecycle_stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
                    ..record("IN_PROGRESS")
                },
                EcsVerdict::Paused {
                    hooks: vec!["approve".into()],
                    stage: "POST_TEST_TRAFFIC_SHIFT".into(),
                },
            ),
            (record("SUCCESSFUL"), EcsVerdict::Succeeded),
            (
                breaker(record("ROLLBACK_IN_PROGRESS")),
                EcsVerdict::RollingBack(
                    "ECS deployment circuit breaker: tasks failed to start. (circuit breaker: 3 failed tasks, threshold 3)".into(),
                ),
            ),
            (
                ServiceDeploymentState {
                    status_reason: Some("Service deployment rollback requested.".into()),
                    ..record("ROLLBACK_REQUESTED")
                },
                EcsVerdict::RollingBack("Service deployment rollback requested.".into()),
            ),
            (
                ServiceDeploymentState {
                    rollback_reason: Some("ECS deployment alarms: cpu in ALARM state.".into()),
                    triggered_alarms: vec!["cpu".into(), "5xx".into()],
                    ..record("ROLLBACK_SUCCESSFUL")
                },
                EcsVerdict::RolledBack(
                    "ECS deployment alarms: cpu in ALARM state. (alarms in ALARM: cpu, 5xx)".into(),
                ),
            ),
            (
                breaker(record("ROLLBACK_FAILED")),
                EcsVerdict::RollbackFailed(
                    "ECS deployment circuit breaker: tasks failed to start. (circuit breaker: 3 failed tasks, threshold 3)".into(),
                ),
            ),
            (
                ServiceDeploymentState {
                    status_reason: Some("Replaced by service deployment x.".into()),
                    circuit_breaker: Some(("MONITORING".into(), 0, 3)),
                    ..record("STOPPED")
                },
                EcsVerdict::Stopped("Replaced by service deployment x.".into()),
            ),
            (record("STOP_REQUESTED"), EcsVerdict::Stopped("ECS says STOP_REQUESTED".into())),
        ];
        for (record, expected) in cases {
            assert_eq!(verdict(&record), expected, "{}", record.status);
        }
    }

    #[test]
    fn summaries_say_status_stage_hooks_and_why() {
        let cases = [
            (record("IN_PROGRESS"), "IN_PROGRESS at SCALE_UP"),
            (record("SUCCESSFUL"), "SUCCESSFUL"),
            (
                ServiceDeploymentState {
                    paused_hooks: vec!["approve".into()],
                    ..record("IN_PROGRESS")
                },
                "IN_PROGRESS, waiting at SCALE_UP for lifecycle hook approve (ecs-deployment continue)",
            ),
            (
                ServiceDeploymentState {
                    status_reason: Some("Replaced by x.".into()),
                    ..record("STOPPED")
                },
                "STOPPED: Replaced by x.",
            ),
        ];
        for (record, expected) in cases {
            assert_eq!(summary(&record), expected);
        }
    }

    #[test]
    fn only_pending_and_in_progress_deployments_can_be_stopped() {
        for (status, stoppable) in [
            ("PENDING", true),
            ("IN_PROGRESS", true),
            ("SUCCESSFUL", false),
            ("ROLLBACK_REQUESTED", false),
            ("ROLLBACK_IN_PROGRESS", false),
            ("STOPPED", false),
        ] {
            assert_eq!(in_flight(&record(status)), stoppable, "{status}");
        }
    }

    #[test]
    fn only_waiting_hooks_are_answered() {
        let waiting = ServiceDeploymentState {
            paused_hooks: vec!["approve".into(), "qa".into()],
            ..record("IN_PROGRESS")
        };
        assert_eq!(
            hooks_to_answer(&waiting, None),
            Ok(vec!["approve".to_owned(), "qa".to_owned()])
        );
        assert_eq!(
            hooks_to_answer(&waiting, Some("qa")),
            Ok(vec!["qa".to_owned()])
        );
        let unknown = hooks_to_answer(&waiting, Some("other")).unwrap_err();
        assert!(
            unknown.contains("other does not wait") && unknown.contains("approve, qa"),
            "{unknown}"
        );
        let none = hooks_to_answer(&record("IN_PROGRESS"), None).unwrap_err();
        assert!(
            none.contains("IN_PROGRESS at SCALE_UP and waits for no lifecycle hook"),
            "{none}"
        );
    }
}
