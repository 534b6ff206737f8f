//! ECS's API rate limits: token buckets per API category that refill in simulated time, throttled calls
//! answered ThrottlingException and counted.

use serde_json::json;
use testbed::Sim;

/// Calls `operation` `times` times; gives how many were throttled.
fn throttled_of(sim: &Sim, operation: &str, body: &serde_json::Value, times: usize) -> usize {
    (0..times)
        .filter(|_| match sim.try_call(operation, body) {
            Ok(_) => false,
            Err(error) => {
                assert_eq!(error["__type"], "ThrottlingException", "{error}");
                assert_eq!(error["message"], "Rate exceeded");
                true
            }
        })
        .count()
}

#[test]
fn a_category_serves_its_burst_then_its_sustained_rate_per_simulated_second() {
    let sim = Sim::start(None);
    sim.call("CreateCluster", &json!({}));
    sim.api_limits(Some(json!({})));
    let describe = json!({"services": ["web"]});
    assert_eq!(throttled_of(&sim, "DescribeServices", &describe, 110), 10);
    // ListServices shares the service-read bucket; DescribeTasks has its own.
    assert_eq!(throttled_of(&sim, "ListServices", &json!({}), 1), 1);
    assert_eq!(throttled_of(&sim, "ListTasks", &json!({}), 5), 0);
    // One simulated second later: 20 more.
    sim.advance(1);
    assert_eq!(throttled_of(&sim, "DescribeServices", &describe, 25), 5);
    let stats = sim.stats();
    assert_eq!(stats["throttled"]["DescribeServices"], 15);
    assert_eq!(stats["throttled"]["ListServices"], 1);
    assert_eq!(
        stats["calls"]["DescribeServices"], 135,
        "throttled calls are calls"
    );

    // RegisterTaskDefinition: 20, then 1 a second.
    let register =
        json!({"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx:1"}]});
    assert_eq!(
        throttled_of(&sim, "RegisterTaskDefinition", &register, 21),
        1
    );
    sim.advance(3);
    assert_eq!(
        throttled_of(&sim, "RegisterTaskDefinition", &register, 4),
        1
    );
    assert_eq!(
        sim.call("ListTaskDefinitions", &json!({}))["taskDefinitionArns"]
            .as_array()
            .map(Vec::len),
        Some(23),
        "a throttled registration registers nothing"
    );
}

#[test]
fn raised_quotas_override_a_category_and_limits_can_be_turned_off() {
    let sim = Sim::start(None);
    sim.call("CreateCluster", &json!({}));
    sim.api_limits(Some(json!({"service-read": {"burst": 150, "rate": 40}})));
    let describe = json!({"services": ["web"]});
    assert_eq!(throttled_of(&sim, "DescribeServices", &describe, 160), 10);
    sim.advance(1);
    assert_eq!(throttled_of(&sim, "DescribeServices", &describe, 45), 5);
    sim.api_limits(None);
    assert_eq!(throttled_of(&sim, "DescribeServices", &describe, 300), 0);
}
