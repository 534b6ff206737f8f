//! Table tests of sameness: defaults, sets, keyed items and the paths differences are named by.

use serde_json::{Value, json};

use super::*;

fn members(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn diff(new: Value, old: Value) -> Vec<(String, String, bool)> {
    let wanted = |path: &str| {
        !matches!(
            path,
            "containerDefinitions[].image" | "containerDefinitions[].name"
        )
    };
    differences(&members(new), &members(old), &wanted, &|_, _| false)
        .into_iter()
        .map(|d| (d.model, d.path, d.removed))
        .collect()
}

fn td(container: Value) -> Value {
    json!({"family": "web", "networkMode": "awsvpc", "containerDefinitions": [container]})
}

#[test]
fn what_ecs_treats_as_the_same_is_no_difference() {
    let same = [
        (
            td(json!({"name": "a", "image": "x", "privileged": false, "mountPoints": []})),
            td(json!({"name": "a", "image": "y"})),
        ),
        (
            td(
                json!({"name": "a", "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]}),
            ),
            td(json!({"name": "a", "portMappings": [{"containerPort": 80}]})),
        ),
        (
            td(
                json!({"name": "a", "linuxParameters": {"capabilities": {"drop": ["ALL", "NET_RAW"]}}}),
            ),
            td(
                json!({"name": "a", "linuxParameters": {"capabilities": {"drop": ["NET_RAW", "ALL"]}}}),
            ),
        ),
        (
            json!({"family": "web", "containerDefinitions": [{"name": "a"}, {"name": "b", "user": "1000"}]}),
            json!({"family": "web", "networkMode": "bridge", "containerDefinitions": [{"name": "b", "user": "1000"}, {"name": "a"}]}),
        ),
        (
            td(
                json!({"name": "a", "logConfiguration": {"logDriver": "awslogs", "options": {"b": "2", "a": "1"}}}),
            ),
            td(
                json!({"name": "a", "logConfiguration": {"logDriver": "awslogs", "options": {"a": "1", "b": "2"}}}),
            ),
        ),
    ];
    for (new, old) in same {
        assert_eq!(diff(new.clone(), old), vec![], "{new}");
    }
}

#[test]
fn each_difference_is_named_by_its_path() {
    let cases = [
        (
            td(json!({"name": "a", "privileged": true})),
            td(json!({"name": "a"})),
            vec![(
                "containerDefinitions[].privileged",
                "containerDefinitions[0].privileged",
                false,
            )],
        ),
        (
            td(json!({"name": "a", "linuxParameters": {"capabilities": {"drop": ["NET_RAW"]}}})),
            td(json!({"name": "a", "linuxParameters": {"capabilities": {"drop": ["ALL"]}}})),
            vec![(
                "containerDefinitions[].linuxParameters.capabilities.drop[]",
                "containerDefinitions[0].linuxParameters.capabilities.drop",
                false,
            )],
        ),
        (
            td(json!({"name": "a", "mountPoints": [{"sourceVolume": "v", "containerPath": "/d"}]})),
            td(
                json!({"name": "a", "mountPoints": [{"sourceVolume": "v", "containerPath": "/d", "readOnly": true}]}),
            ),
            vec![(
                "containerDefinitions[].mountPoints[].containerPath",
                "containerDefinitions[0].mountPoints",
                false,
            )],
        ),
        (
            td(
                json!({"name": "a", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "other"}}}),
            ),
            td(
                json!({"name": "a", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "web"}}}),
            ),
            vec![(
                "containerDefinitions[].logConfiguration.options{}",
                "containerDefinitions[0].logConfiguration.options.awslogs-group",
                false,
            )],
        ),
        (
            json!({"family": "web", "containerDefinitions": [{"name": "a"}]}),
            json!({"family": "web", "containerDefinitions": [{"name": "a"}, {"name": "proxy", "user": "0"}]}),
            vec![(
                "containerDefinitions[].user",
                "containerDefinitions[1].user",
                true,
            )],
        ),
        (
            json!({"family": "web", "containerDefinitions": [{"name": "a"}, {"name": "side", "readonlyRootFilesystem": false}]}),
            json!({"family": "web", "containerDefinitions": [{"name": "a"}]}),
            vec![],
        ),
        (
            json!({"family": "web", "containerDefinitions": [{"name": "a"}], "volumes": [{"name": "tmp"}]}),
            json!({"family": "web", "containerDefinitions": [{"name": "a"}]}),
            vec![("volumes[].name", "volumes[0].name", false)],
        ),
        (
            json!({"family": "web", "containerDefinitions": [{"name": "a"}], "volumes": [{"name": "d", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "DISABLED"}}]}),
            json!({"family": "web", "containerDefinitions": [{"name": "a"}], "volumes": [{"name": "d", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "ENABLED"}}]}),
            vec![(
                "volumes[].efsVolumeConfiguration.transitEncryption",
                "volumes[0].efsVolumeConfiguration.transitEncryption",
                false,
            )],
        ),
    ];
    for (new, old, expected) in cases {
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(m, p, r)| (m.to_owned(), p.to_owned(), r))
            .collect();
        assert_eq!(diff(new.clone(), old), expected, "{new}");
    }
}

#[test]
fn ordered_lists_keep_their_order_and_skipped_items_are_left_out() {
    let new = td(json!({"name": "a", "dnsServers": ["10.0.0.2", "10.0.0.1"]}));
    let old = td(json!({"name": "a", "dnsServers": ["10.0.0.1", "10.0.0.2"]}));
    assert_eq!(diff(new, old).len(), 1);
    let new = members(td(
        json!({"name": "a", "secrets": [{"name": "A", "valueFrom": "ok"}]}),
    ));
    let old = members(td(json!({"name": "a"})));
    let skip = |list: &str, item: &Value| {
        list == "containerDefinitions[].secrets" && item["valueFrom"] == "ok"
    };
    assert!(differences(&new, &old, &|_| true, &skip).is_empty());
    assert_eq!(differences(&new, &old, &|_| true, &|_, _| false).len(), 1);
}
