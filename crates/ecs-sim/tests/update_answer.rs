//! UpdateService's answer is the service "following the update call": its `currentServiceDeployment`
//! names the service deployment the update started, and an update that starts none still names the
//! current one.

mod common;

use common::Stepped;
use serde_json::json;

#[tokio::test]
async fn update_service_s_answer_names_the_service_deployment_it_started() {
    let bed = Stepped::start().await;
    let v1 = bed.register("web", "nginx:1", "healthy", true).await;
    let v2 = bed.register("web", "nginx:2", "healthy", true).await;
    bed.create_web(&v1, 2, json!({}));
    bed.complete("web", &v1).await;
    let before = bed.current().await;
    let answer = bed.sim.call(
        "UpdateService",
        &json!({"service": "web", "taskDefinition": v2}),
    );
    let named = answer["service"]["currentServiceDeployment"]
        .as_str()
        .expect("named")
        .to_owned();
    assert_ne!(Some(named.as_str()), before.service_deployment_arn());
    let started = bed.current().await;
    assert_eq!(started.service_deployment_arn(), Some(named.as_str()));
    assert_eq!(
        answer["service"]["deployments"][0]["taskDefinition"],
        json!(v2)
    );
    // The same task definition again starts no deployment: the answer names the one there is.
    let again = bed.sim.call(
        "UpdateService",
        &json!({"service": "web", "taskDefinition": v2}),
    );
    assert_eq!(
        again["service"]["currentServiceDeployment"].as_str(),
        Some(named.as_str())
    );
}
