//! ECS fixtures: task definitions whose tasks behave as asked, services that have completed their first
//! rollout, and what ECS says about them.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, HealthCheck,
    ServiceDeployment,
};
use serde_json::{Value, json};

use super::{Bed, REPORT_DEADLINE};

impl Bed {
    /// Makes ecs-sim write the output of containers using awslogs to moto, whose log group `group` is
    /// made here.
    pub async fn task_logs_in(&self, group: &str) {
        testbed::logs_client(&self.bed.moto.endpoint())
            .create_log_group()
            .log_group_name(group)
            .send()
            .await
            .expect("create the log group");
        self.bed.sim.use_logs(&self.bed.moto.endpoint());
    }

    /// ECS's record of the service's current deployment.
    pub async fn current_record(&self, service: &str) -> Option<ServiceDeployment> {
        let described = self.describe(service).await?;
        let arn = described.current_service_deployment()?;
        let out = self
            .ecs
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .ok()?;
        out.service_deployments().first().cloned()
    }

    /// The `family:revision` of every task the service runs.
    pub async fn running_revisions(&self, service: &str) -> Vec<String> {
        self.running_task_definitions(service)
            .await
            .iter()
            .map(|t| short(t).to_owned())
            .collect()
    }

    /// What the worker asked of ECS that changes a service: (UpdateService, StopServiceDeployment) calls.
    pub fn changes(&self) -> (u64, u64) {
        let sim = &self.bed.sim;
        (
            sim.calls("UpdateService"),
            sim.calls("StopServiceDeployment"),
        )
    }

    /// Registers a task definition for `family` whose tasks behave as `behaviour`, with a health check.
    pub async fn register(&self, family: &str, image: &str, behaviour: &str) -> String {
        self.ecs
            .register_task_definition()
            .family(family)
            .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
            .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image(image)
                    .essential(true)
                    .docker_labels("ecs-sim.behaviour", behaviour)
                    .health_check(
                        HealthCheck::builder()
                            .command("CMD-SHELL")
                            .command("true")
                            .build()
                            .expect("health check"),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("register a task definition")
            .task_definition
            .and_then(|d| d.task_definition_arn)
            .expect("task definition ARN")
    }

    /// Creates service `name` on a healthy `name:1` with `desired` tasks; `breaker` is the circuit
    /// breaker's (enable, rollback). Waits until its first rollout completed; returns the task definition.
    pub async fn service(&self, name: &str, desired: i32, breaker: (bool, bool)) -> String {
        self.service_on(name, "nginx:1.27", "healthy", desired, breaker)
            .await
    }

    /// [`Bed::service`] on `image`, whose tasks behave as `behaviour`.
    pub async fn service_on(
        &self,
        name: &str,
        image: &str,
        behaviour: &str,
        desired: i32,
        breaker: (bool, bool),
    ) -> String {
        let arn = self.register(name, image, behaviour).await;
        self.ecs
            .create_service()
            .service_name(name)
            .task_definition(&arn)
            .desired_count(desired)
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .maximum_percent(200)
                    .minimum_healthy_percent(100)
                    .deployment_circuit_breaker(
                        DeploymentCircuitBreaker::builder()
                            .enable(breaker.0)
                            .rollback(breaker.1)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("create the service");
        self.first_rollout(name).await;
        arn
    }

    /// Creates service `name` on a healthy `name:1` with `desired` tasks (`None`: a DAEMON service) and
    /// the raw `deploymentConfiguration` (strategies, hooks, alarms the SDK's builders would spell out at
    /// length); waits until its first rollout completed and returns the task definition.
    pub async fn service_configured(
        &self,
        name: &str,
        desired: Option<i32>,
        deployment_configuration: Value,
    ) -> String {
        let arn = self.register(name, "nginx:1.27", "healthy").await;
        // Lifecycle hooks would hold the first rollout too: they are added once it completed.
        let mut first = deployment_configuration.clone();
        let hooks = first
            .as_object_mut()
            .and_then(|c| c.remove("lifecycleHooks"));
        let mut request = json!({
            "cluster": "default",
            "serviceName": name,
            "taskDefinition": arn,
            "deploymentConfiguration": first,
        });
        match desired {
            Some(desired) => request["desiredCount"] = json!(desired),
            None => request["schedulingStrategy"] = json!("DAEMON"),
        }
        self.bed.sim.call("CreateService", &request);
        self.first_rollout(name).await;
        if hooks.is_some() {
            self.bed.sim.call(
                "UpdateService",
                &json!({"cluster": "default", "service": name,
                        "deploymentConfiguration": deployment_configuration}),
            );
        }
        arn
    }

    /// Waits until the service's first rollout completed.
    pub async fn first_rollout(&self, name: &str) {
        testbed::wait_until("the service's first rollout", REPORT_DEADLINE, || async {
            if self.manual_clock {
                self.bed.sim.advance(10);
            }
            let service = self.describe(name).await?;
            let done = service.deployments().len() == 1
                && service.deployments()[0].rollout_state().map(|s| s.as_str())
                    == Some("COMPLETED");
            done.then_some(())
        })
        .await;
    }

    /// The service as ECS describes it, or `None` when missing.
    pub async fn describe(&self, name: &str) -> Option<aws_sdk_ecs::types::Service> {
        self.ecs
            .describe_services()
            .services(name)
            .send()
            .await
            .expect("describe the service")
            .services
            .and_then(|s| s.into_iter().next())
    }

    /// Task definitions of the service's running tasks.
    pub async fn running_task_definitions(&self, name: &str) -> Vec<String> {
        testbed::service_tasks(&self.ecs, name, "RUNNING")
            .await
            .into_iter()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .filter_map(|t| t.task_definition_arn)
            .collect()
    }

    /// A revision's tags read back raw: (the producer's tags, the worker's `ecs-deployment:` marks by key).
    pub fn tags(&self, task_definition: &str) -> (Value, BTreeMap<String, String>) {
        let described = self.bed.sim.call(
            "DescribeTaskDefinition",
            &json!({"taskDefinition": task_definition, "include": ["TAGS"]}),
        );
        let all = described["tags"].as_array().cloned().unwrap_or_default();
        let (marks, producer): (Vec<Value>, Vec<Value>) = all.into_iter().partition(|t| {
            t["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("ecs-deployment:"))
        });
        let marks = marks
            .iter()
            .filter_map(|t| {
                Some((
                    t["key"].as_str()?.to_owned(),
                    t["value"].as_str()?.to_owned(),
                ))
            })
            .collect();
        (Value::Array(producer), marks)
    }

    /// How many ACTIVE revisions the family has, registered by anyone.
    pub fn revisions(&self, family: &str) -> usize {
        let listed = self
            .bed
            .sim
            .call("ListTaskDefinitions", &json!({"familyPrefix": family}));
        listed["taskDefinitionArns"].as_array().map_or(0, Vec::len)
    }

    /// The task definition service `name` points at, or `None` when it is missing.
    pub async fn task_definition_of(&self, name: &str) -> Option<String> {
        self.describe(name).await.and_then(|s| s.task_definition)
    }

    /// Waits until service `name` points at `family_revision` (`web:2`).
    pub async fn wait_for_task_definition(&self, name: &str, family_revision: &str) {
        testbed::wait_until(
            &format!("{name} on {family_revision}"),
            REPORT_DEADLINE,
            || async {
                let td = self.describe(name).await?.task_definition?;
                (short(&td) == family_revision).then_some(())
            },
        )
        .await;
    }
}

/// A task definition body as a producer sends it: one container whose tasks behave as `behaviour`.
pub fn task_definition(family: &str, image: &str, behaviour: &str) -> Value {
    json!({
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "app",
            "image": image,
            "essential": true,
            "dockerLabels": {"ecs-sim.behaviour": behaviour},
            "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5}
        }]
    })
}

/// `family:revision` of a task definition ARN.
pub fn short(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, name)| name)
}

/// A deployment configuration of `strategy` whose bakes add up to `minutes` (LINEAR and CANARY: half in
/// the step or canary bake, half in the final bake).
pub fn strategy_configuration(strategy: &str, minutes: u32) -> Value {
    let half = minutes / 2;
    match strategy {
        "BLUE_GREEN" => json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": minutes}),
        "LINEAR" => json!({"strategy": "LINEAR", "bakeTimeInMinutes": minutes - half,
            "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": half}}),
        "CANARY" => json!({"strategy": "CANARY", "bakeTimeInMinutes": minutes - half,
            "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": half}}),
        _ => json!({"strategy": "ROLLING"}),
    }
}

/// `config` with more members.
pub fn merged(mut config: Value, more: Value) -> Value {
    if let (Some(config), Some(more)) = (config.as_object_mut(), more.as_object()) {
        config.extend(more.clone());
    }
    config
}
