//! The hostile suite's cases: one message that tries what a rule forbids, run on a fresh bed and checked to
//! be refused by that rule with nothing changed, a good message deploying afterwards.

use ecs_deployment::decide::outcome::{Disposition, Outcome};
use serde_json::Value;

use super::{Bed, short, task_definition};

/// One hostile message and what its refusal must say.
pub struct Hostile {
    /// The worker's settings besides the bed's.
    pub config: Vec<(&'static str, String)>,
    /// The message's attributes (`service` = `web` unless given).
    pub attributes: Vec<(&'static str, String)>,
    /// The body.
    pub body: Value,
    /// The rule that must refuse it.
    pub rule: &'static str,
    /// Words the rejection reason must have: the member or attribute, and the setting.
    pub says: Vec<&'static str>,
    /// The image of the good message sent afterwards.
    pub good_image: String,
}

impl Hostile {
    /// A case: `body` must be refused by `rule`, the reason saying each of `says`.
    pub fn new(body: Value, rule: &'static str, says: &[&'static str]) -> Self {
        Self {
            config: Vec::new(),
            attributes: vec![("service", "web".into())],
            body,
            rule,
            says: says.to_vec(),
            good_image: "nginx:1.30".into(),
        }
    }

    /// The worker runs with `config` besides the bed's settings.
    pub fn with_config(mut self, config: &[(&'static str, &str)]) -> Self {
        self.config = config.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self
    }

    /// The message has `attributes` instead of `service` = `web`.
    pub fn with_attributes(mut self, attributes: &[(&'static str, &str)]) -> Self {
        self.attributes = attributes
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect();
        self
    }
}

/// A body for service `web` (family `web`) with `change` merged into its one container.
pub fn container(change: Value) -> Value {
    let mut body = task_definition("web", "nginx:1.29", "healthy");
    if let (Some(container), Value::Object(change)) =
        (body["containerDefinitions"][0].as_object_mut(), change)
    {
        container.extend(change);
    }
    body
}

/// A body for service `web` with `change` merged into it.
pub fn changed(change: Value) -> Value {
    let mut body = task_definition("web", "nginx:1.29", "healthy");
    if let (Some(body), Value::Object(change)) = (body.as_object_mut(), change) {
        body.extend(change);
    }
    body
}

/// Runs the case on a fresh bed with service `web` (and `ecs-deployment` and `deployer`, for the worker
/// itself) and checks the refusal.
pub async fn refused(case: Hostile) {
    refused_as(case, None).await;
}

/// [`refused`], with the worker calling as the IAM role `role` when given.
pub async fn refused_as(case: Hostile, role: Option<&str>) {
    let bed = Bed::start(true).await;
    let web = bed.service("web", 1, (true, true)).await;
    bed.service("ecs-deployment", 1, (true, true)).await;
    bed.service("deployer", 1, (true, true)).await;
    let families = ["web", "api", "deployer", "ecs-deployment"];
    let revisions: Vec<usize> = families.iter().map(|f| bed.revisions(f)).collect();
    let config: Vec<(&str, &str)> = case.config.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config = bed.config(&config);
    let mut worker = match role {
        None => bed.start_worker(config),
        Some(role) => bed.start_worker_with_sts(config, bed.sts_as_role(role).await),
    };
    let attributes: Vec<(&str, &str)> = case
        .attributes
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let id = bed.send(&case.body.to_string(), &attributes).await;

    let report = worker.next_report().await;
    assert_eq!(report.message_id, id);
    let Outcome::Rejected { reason } = &report.outcome else {
        panic!("{}: not refused: {report:?}", case.rule);
    };
    assert_eq!(
        (report.disposition, report.settled),
        (Disposition::DeadLetter, true)
    );
    assert!(reason.starts_with("policy: "), "{reason}");
    for words in &case.says {
        assert!(
            reason.contains(words),
            "{}: {reason} should say {words}",
            case.rule
        );
    }
    let letter = bed.dead_letters(1).await.remove(0);
    let attributes = letter.message_attributes.unwrap_or_default();
    assert_eq!(
        attributes["rejection_reason"].string_value(),
        Some(reason.as_str()),
        "the dead letter carries the reason"
    );
    assert_eq!(letter.body.as_deref(), Some(case.body.to_string().as_str()));

    let after: Vec<usize> = families.iter().map(|f| bed.revisions(f)).collect();
    assert_eq!(after, revisions, "{}: no revision registered", case.rule);
    assert_eq!(
        bed.bed.sim.calls("UpdateService"),
        0,
        "{}: no service touched",
        case.rule
    );
    assert_eq!(
        bed.bed.sim.calls("RegisterTaskDefinition"),
        3,
        "only the bed's own"
    );
    let service = bed.describe("web").await.expect("web");
    assert_eq!(service.task_definition(), Some(web.as_str()));
    assert_eq!(service.deployments().len(), 1);
    let line = format!(
        r#"ecs_deployment_policy_refusals_total{{rule="{}"}} 1"#,
        case.rule
    );
    assert!(worker.metrics.encode().contains(&line), "{line}");

    // A good message still deploys.
    bed.send_web(&case.good_image, "healthy").await;
    let good = worker.next_report().await;
    assert_eq!(good.outcome, Outcome::Deployed, "{good:?}");
    assert_eq!(
        good.new_task_definition.as_deref().map(short),
        Some("web:2")
    );
    bed.assert_queue_empty().await;
    worker.stop().await;
}
