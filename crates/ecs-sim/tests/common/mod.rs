//! Helpers shared by the ecs-sim tests: a simulator stepped by hand, and short ways to set up services.

#![allow(dead_code)]

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentRolloutState,
    HealthCheck, Service, ServiceDeployment, ServiceDeploymentStatus,
};
use serde_json::{Value, json};
use testbed::Sim;

/// A simulator whose time moves only when the test says so, and an SDK client for it.
pub struct Stepped {
    /// The simulator.
    pub sim: Sim,
    /// aws-sdk-ecs pointed at it.
    pub ecs: Client,
}

impl Stepped {
    /// `web` on a healthy `web:1`, then updated to a `web:2` whose tasks behave as `behaviour`, with the
    /// deployment configuration `config` from that update on.
    pub async fn started(&self, config: Value, behaviour: &str) -> (String, String) {
        let v1 = self.register("web", "nginx:1", "healthy", true).await;
        let v2 = self.register("web", "nginx:2", behaviour, true).await;
        self.create_web(&v1, 2, json!({}));
        self.step_to(ServiceDeploymentStatus::Successful, 60).await;
        self.sim.call(
            "UpdateService",
            &json!({"service": "web", "taskDefinition": v2, "deploymentConfiguration": config}),
        );
        (v1, v2)
    }

    /// Starts a simulator without a ticker and creates the `default` cluster.
    pub async fn start() -> Self {
        let sim = Sim::start(None);
        let ecs = testbed::ecs_client(&sim.endpoint());
        ecs.create_cluster()
            .send()
            .await
            .expect("create the default cluster");
        Self { sim, ecs }
    }

    /// Registers a one-container task definition; `behaviour` goes in the `ecs-sim.behaviour` label.
    pub async fn register(
        &self,
        family: &str,
        image: &str,
        behaviour: &str,
        health_check: bool,
    ) -> String {
        let mut container = ContainerDefinition::builder()
            .name("app")
            .image(image)
            .docker_labels("ecs-sim.behaviour", behaviour);
        if health_check {
            container = container.health_check(
                HealthCheck::builder()
                    .command("CMD-SHELL")
                    .command("true")
                    .build()
                    .expect("health check"),
            );
        }
        self.ecs
            .register_task_definition()
            .family(family)
            .container_definitions(container.build())
            .send()
            .await
            .expect("register task definition")
            .task_definition
            .and_then(|d| d.task_definition_arn)
            .expect("registered task definition has an ARN")
    }

    /// Creates a service; `breaker` is (enable, rollback) of the deployment circuit breaker.
    pub async fn create_service(
        &self,
        name: &str,
        task_definition: &str,
        desired: i32,
        breaker: (bool, bool),
    ) {
        let config = DeploymentConfiguration::builder()
            .deployment_circuit_breaker(
                DeploymentCircuitBreaker::builder()
                    .enable(breaker.0)
                    .rollback(breaker.1)
                    .build(),
            )
            .build();
        self.ecs
            .create_service()
            .service_name(name)
            .task_definition(task_definition)
            .desired_count(desired)
            .deployment_configuration(config)
            .send()
            .await
            .expect("create service");
    }

    /// Points a service at a task definition.
    pub async fn update(&self, name: &str, task_definition: &str) {
        self.ecs
            .update_service()
            .service(name)
            .task_definition(task_definition)
            .send()
            .await
            .expect("update service");
    }

    /// The service as DescribeServices returns it.
    pub async fn service(&self, name: &str) -> Service {
        self.ecs
            .describe_services()
            .services(name)
            .send()
            .await
            .expect("describe services")
            .services
            .unwrap_or_default()
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("service {name} not found"))
    }

    /// Advances one simulated second at a time until `done` holds for the service, for at most `limit`
    /// seconds; returns every state seen on the way.
    pub async fn step_until(
        &self,
        name: &str,
        limit: u64,
        done: impl Fn(&Service) -> bool,
    ) -> Vec<Service> {
        let mut seen = vec![self.service(name).await];
        for _ in 0..limit {
            if seen.last().is_some_and(&done) {
                return seen;
            }
            self.sim.advance(1);
            seen.push(self.service(name).await);
        }
        let last = seen.last().map(|s| format!("{s:#?}")).unwrap_or_default();
        panic!(
            "service {name} did not reach the expected state within {limit} simulated seconds: {last}"
        );
    }

    /// Steps until the service's only deployment is COMPLETED on `task_definition`.
    pub async fn complete(&self, name: &str, task_definition: &str) -> Vec<Service> {
        self.step_until(name, 120, |s| is_completed_on(s, task_definition))
            .await
    }

    /// Creates `web` on `task_definition` with `desired` tasks and the given `deploymentConfiguration`.
    pub fn create_web(&self, task_definition: &str, desired: i32, config: Value) {
        self.sim.call(
            "CreateService",
            &json!({"serviceName": "web", "taskDefinition": task_definition,
                    "desiredCount": desired, "deploymentConfiguration": config}),
        );
    }

    /// The service's current service deployment, described.
    pub async fn current(&self) -> ServiceDeployment {
        let arn = self
            .service("web")
            .await
            .current_service_deployment
            .expect("a current service deployment");
        self.ecs
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .expect("describe the service deployment")
            .service_deployments
            .unwrap_or_default()
            .into_iter()
            .next()
            .expect("it is described")
    }

    /// Steps one simulated second at a time until the current service deployment is `status`, for at most
    /// `limit` seconds; returns every lifecycle stage seen on the way, in order.
    pub async fn step_to(&self, status: ServiceDeploymentStatus, limit: u64) -> Vec<String> {
        self.stride_to(status, limit, 1).await
    }

    /// [`Stepped::step_to`], `stride` simulated seconds at a time.
    pub async fn stride_to(
        &self,
        status: ServiceDeploymentStatus,
        limit: u64,
        stride: u64,
    ) -> Vec<String> {
        let mut stages: Vec<String> = Vec::new();
        for _ in 0..limit.div_ceil(stride) {
            let d = self.current().await;
            if let Some(stage) = d.lifecycle_stage()
                && stages.last().map(String::as_str) != Some(stage.as_str())
            {
                stages.push(stage.as_str().to_owned());
            }
            if d.status() == Some(&status) {
                return stages;
            }
            self.sim.advance(stride);
        }
        panic!(
            "not {status:?} within {limit} simulated seconds: {:#?}",
            self.current().await
        );
    }

    /// The task definitions of the service's running tasks.
    pub async fn running(&self) -> Vec<String> {
        self.tasks("web", "RUNNING")
            .await
            .into_iter()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .filter_map(|t| t.task_definition_arn)
            .collect()
    }

    /// Task ARNs of a service with the given desired status.
    pub async fn task_arns(&self, service: &str, desired_status: &str) -> Vec<String> {
        self.ecs
            .list_tasks()
            .service_name(service)
            .desired_status(desired_status.into())
            .send()
            .await
            .expect("list tasks")
            .task_arns
            .unwrap_or_default()
    }

    /// The service's tasks with the given desired status, described.
    pub async fn tasks(
        &self,
        service: &str,
        desired_status: &str,
    ) -> Vec<aws_sdk_ecs::types::Task> {
        testbed::service_tasks(&self.ecs, service, desired_status).await
    }
}

/// Whether the service's only deployment is COMPLETED on `task_definition` with every desired task running.
pub fn is_completed_on(service: &Service, task_definition: &str) -> bool {
    let deployments = service.deployments();
    deployments.len() == 1
        && deployments[0].task_definition() == Some(task_definition)
        && deployments[0].rollout_state() == Some(&DeploymentRolloutState::Completed)
        && service.running_count() == service.desired_count()
}

/// The messages of the service's events, newest first.
pub fn events(service: &Service) -> Vec<String> {
    service
        .events()
        .iter()
        .filter_map(|e| e.message().map(str::to_owned))
        .collect()
}
