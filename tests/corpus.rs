//! Real task definitions from public repositories (`../shared/corpus/task-definitions`, read in place):
//! what ECS would accept, the worker accepts and passes on unchanged (explicit nulls and read-only members
//! dropped, as ECS-facing tools do); what ECS refuses is rejected with the member named.

use std::path::PathBuf;

use ecs_deployment::decide::escalation::repository;
use ecs_deployment::decide::guard::{Case, judge};
use ecs_deployment::decide::message::parse;
use ecs_deployment::decide::policy::{Identity, Policy};
use ecs_deployment::decide::task_definition::described_members;
use serde_json::{Map, Value};

/// Members ECS returns but RegisterTaskDefinition does not take: console exports carry them.
const READ_ONLY: [&str; 8] = [
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// Files the worker rejects, the member its reason must name, and why ECS refuses them too.
const REJECTED: [(&str, &str, &str); 4] = [
    (
        "29-",
        "containerDefinitions[0].inferenceDevices",
        "not a member of RegisterTaskDefinition's input",
    ),
    (
        "39-",
        "containerDefinitions[0].linuxParameters.devices[0].permissions[0]",
        "'string' is outside the enum (and driverOpts is a string where a map is wanted)",
    ),
    (
        "43-",
        "containerDefinitions[0].portMappings[0].containerPort",
        "a string where ECS wants an integer",
    ),
    (
        "49-",
        "ipcMode",
        "ECS answers \"ClientException: is not a valid value\" for an empty ipcMode or pidMode",
    ),
];

/// Files the worker passes on and ECS refuses when registering, and what ECS says: the worker then
/// rejects the message with ECS's words.
const REFUSED_BY_ECS: [(&str, &str); 2] = [
    (
        "50-",
        "containerDefinitions[1].image should not be null or empty.",
    ),
    (
        "60-",
        "family '<TASK_NAME>' is invalid: up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.",
    ),
];

/// The corpus folder beside this checkout; where it is absent, the test output says so.
fn corpus() -> Option<PathBuf> {
    let dir = testbed::workspace_root().join("../shared/corpus/task-definitions");
    if dir.join("INDEX.tsv").is_file() {
        return Some(dir);
    }
    eprintln!(
        "skipped: the task definition corpus is not at ../shared/corpus/task-definitions beside this checkout"
    );
    None
}

/// The corpus files named in INDEX.tsv, in order.
fn files(dir: &std::path::Path) -> Vec<String> {
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("read INDEX.tsv");
    index
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What RegisterTaskDefinition gets from `raw`, worked out here independently of the worker: the inner
/// `taskDefinition` of a describe output (with its `tags`), no read-only members, no nulls.
fn expected_request(raw: &Value) -> Value {
    let mut object = raw.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(inner)) = object.remove("taskDefinition") {
        let tags = object.remove("tags");
        object = inner;
        if let Some(tags) = tags.filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
            object.entry("tags").or_insert(tags);
        }
    }
    for member in READ_ONLY {
        object.remove(member);
    }
    without_nulls(Value::Object(object))
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[test]
fn every_corpus_task_definition_is_accepted_unchanged_or_rejected_naming_its_member() {
    let Some(dir) = corpus() else {
        return;
    };
    let sim = testbed::Sim::start(None);
    let attributes = [("service".to_owned(), "web".to_owned())].into();
    let names = files(&dir);
    assert_eq!(names.len(), 60, "INDEX.tsv lists {} files", names.len());
    let (mut accepted, mut rejected, mut refused) = (0, 0, 0);
    for name in &names {
        let body = std::fs::read_to_string(dir.join(name)).expect("read a corpus file");
        let outcome = parse(&body, &attributes);
        if let Some((_, member, why)) = REJECTED.iter().find(|(p, _, _)| name.starts_with(p)) {
            let reason = outcome.expect_err(&format!("{name} is rejected: {why}"));
            assert!(
                reason.contains(&format!("'{member}'")),
                "{name}: the reason names {member}: {reason}"
            );
            rejected += 1;
            continue;
        }
        let request = outcome.unwrap_or_else(|reason| panic!("{name} is accepted: {reason}"));
        let raw: Value = serde_json::from_str(&body).expect("corpus files are JSON");
        let sent: Value =
            serde_json::from_str(&request.task_definition.to_json()).expect("the request is JSON");
        assert_eq!(
            sent,
            expected_request(&raw),
            "{name}: passed on unchanged but for nulls and read-only members"
        );
        // ECS's model accepts what the worker sends, but for what ECS itself refuses.
        let answer = sim.try_call("RegisterTaskDefinition", &sent);
        if let Some((_, says)) = REFUSED_BY_ECS.iter().find(|(p, _)| name.starts_with(p)) {
            let error = answer.expect_err(&format!("{name}: ECS refuses it"));
            assert_eq!(error["message"], *says, "{name}");
            refused += 1;
            continue;
        }
        let registered =
            answer.unwrap_or_else(|error| panic!("{name}: ecs-sim refuses it: {error}"));
        assert!(
            registered["taskDefinition"]["taskDefinitionArn"].is_string(),
            "{name}: {registered}"
        );
        accepted += 1;
    }
    assert_eq!((accepted, rejected, refused), (54, 4, 2));
}

/// `request` with what runs changed: each image to another tag of its repository, each environment value
/// and each command.
fn what_runs_changed(request: &Value) -> Value {
    let mut changed = request.clone();
    let containers = changed
        .get_mut("containerDefinitions")
        .and_then(Value::as_array_mut);
    for container in containers.into_iter().flatten() {
        let image = container["image"].as_str().unwrap_or("").to_owned();
        if !image.is_empty() {
            container["image"] = Value::from(format!("{}:changed", repository(&image)));
        }
        let environment = container
            .get_mut("environment")
            .and_then(Value::as_array_mut);
        for variable in environment.into_iter().flatten() {
            variable["value"] = Value::from("changed");
        }
        if container.get("command").is_some() {
            container["command"] = serde_json::json!(["sh", "-c", "echo changed"]);
        }
    }
    changed
}

#[test]
fn the_guard_admits_every_accepted_corpus_file_unchanged_and_with_what_runs_changed() {
    let Some(dir) = corpus() else {
        return;
    };
    let sim = testbed::Sim::start(None);
    let attributes = [("service".to_owned(), "web".to_owned())].into();
    let policy = Policy::default_for("default");
    let identity = Identity::default();
    let mut judged = 0;
    for name in files(&dir) {
        if REJECTED.iter().any(|(p, _, _)| name.starts_with(p))
            || REFUSED_BY_ECS.iter().any(|(p, _)| name.starts_with(p))
        {
            continue;
        }
        let body = std::fs::read_to_string(dir.join(&name)).expect("read a corpus file");
        let request = parse(&body, &attributes).unwrap_or_else(|r| panic!("{name}: {r}"));
        let sent: Value =
            serde_json::from_str(&request.task_definition.to_json()).expect("the request is JSON");
        // The running revision, as ECS describes it back.
        let registered = sim.call("RegisterTaskDefinition", &sent);
        let arn = registered["taskDefinition"]["taskDefinitionArn"].clone();
        let described = sim.call(
            "DescribeTaskDefinition",
            &serde_json::json!({"taskDefinition": arn, "include": ["TAGS"]}),
        );
        let baseline = described_members(&described.to_string())
            .unwrap_or_else(|e| panic!("{name}: the description reads back: {e}"));
        for (what, message) in [
            ("equal to the running revision", sent.clone()),
            (
                "with images, environment values and commands changed",
                what_runs_changed(&sent),
            ),
        ] {
            let request = parse(&message.to_string(), &attributes)
                .unwrap_or_else(|r| panic!("{name} {what}: {r}"));
            let case = Case {
                request: &request,
                cluster: "default",
                baseline: Some(&baseline),
            };
            if let Err(refusal) = judge(&policy, &identity, &case) {
                panic!("{name} {what} is a false refusal: {refusal}");
            }
            judged += 1;
        }
    }
    assert_eq!(judged, 2 * 54);
}
