//! What a measured run sets up and reads back: the worker process, queues, services that completed their
//! first rollout, and ECS's own timestamps of what it did.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{DeploymentCircuitBreaker, DeploymentConfiguration};

use crate::process::WorkerProcess;
use crate::requests::container;
use crate::scenarios::{DEADLINE, failed};

use crate::scenarios::Bench;

impl Bench {
    /// Starts a worker on `queue` and waits for its first ReceiveMessage, noting how long that took.
    pub(crate) async fn start_worker(
        &mut self,
        name: &str,
        queue: &str,
        settings: &[(&str, String)],
    ) -> Result<WorkerProcess, String> {
        let mut env: BTreeMap<String, String> = self
            .bed
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        env.insert(
            "AWS_ENDPOINT_URL_SQS".into(),
            self.sqs_proxy.endpoint.clone(),
        );
        env.insert(
            "AWS_ENDPOINT_URL_ECS".into(),
            self.ecs_proxy.endpoint.clone(),
        );
        env.insert("SQS_URL".into(), queue.to_owned());
        env.insert("LOG_FORMAT".into(), "json".into());
        // ecs-sim's behaviour label (`dockerLabels`) is how a scenario makes a rollout crash.
        env.insert("ALLOWED_PRIVILEGES".into(), "labels".into());
        for (key, value) in settings {
            env.insert((*key).to_owned(), value.clone());
        }
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mark = self.sqs_proxy.recorder.mark();
        let worker =
            WorkerProcess::start(&self.worker, &env, self.logs.join(format!("{name}.log")))?;
        let received = self
            .sqs_proxy
            .recorder
            .wait_for(mark, "ReceiveMessage", 1, DEADLINE)
            .await
            .map_err(|e| failed(&worker, &e))?;
        self.starts.push(
            received[0]
                .instant
                .saturating_duration_since(worker.spawned)
                .as_secs_f64(),
        );
        Ok(worker)
    }

    /// A standard queue named `name`.
    pub(crate) async fn queue(&self, name: &str) -> Result<String, String> {
        self.sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| format!("CreateQueue {name}: {e:?}"))?
            .queue_url
            .ok_or_else(|| format!("CreateQueue {name} answered no URL"))
    }

    /// A FIFO queue named `name.fifo`, as several workers share one: each service its own message group.
    pub(crate) async fn fifo_queue(&self, name: &str) -> Result<String, String> {
        self.sqs
            .create_queue()
            .queue_name(format!("{name}.fifo"))
            .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .map_err(|e| format!("CreateQueue {name}.fifo: {e:?}"))?
            .queue_url
            .ok_or_else(|| format!("CreateQueue {name}.fifo answered no URL"))
    }

    /// Creates services `{prefix}-0` .. `{prefix}-{n-1}` on healthy first revisions with the circuit
    /// breaker, and waits until each has finished its first rollout.
    pub(crate) async fn services(&self, prefix: &str, n: usize) -> Result<Vec<String>, String> {
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
        for name in &names {
            self.ecs
                .register_task_definition()
                .family(name)
                .container_definitions(container(name, "nginx:1.27.0", "healthy")?)
                .send()
                .await
                .map_err(|e| format!("RegisterTaskDefinition {name}: {e:?}"))?;
            let breaker = DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build();
            self.ecs
                .create_service()
                .service_name(name)
                .task_definition(format!("{name}:1"))
                .desired_count(self.plan.desired)
                .deployment_configuration(
                    DeploymentConfiguration::builder()
                        .maximum_percent(200)
                        .minimum_healthy_percent(100)
                        .deployment_circuit_breaker(breaker)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| format!("CreateService {name}: {e:?}"))?;
        }
        let give_up = Instant::now() + DEADLINE;
        for batch in names.chunks(10) {
            loop {
                let described = self.describe(batch).await?;
                let settled = described.iter().all(|s| {
                    s.deployments().len() == 1
                        && s.deployments()[0].rollout_state().map(|r| r.as_str())
                            == Some("COMPLETED")
                });
                if settled && described.len() == batch.len() {
                    break;
                }
                if Instant::now() > give_up {
                    return Err(format!(
                        "services {batch:?} did not finish their first rollout"
                    ));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(names)
    }

    pub(crate) async fn describe(
        &self,
        names: &[String],
    ) -> Result<Vec<aws_sdk_ecs::types::Service>, String> {
        Ok(self
            .ecs
            .describe_services()
            .set_services(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| format!("DescribeServices: {e:?}"))?
            .services
            .unwrap_or_default())
    }

    /// When ecs-sim registered `family:revision`, epoch seconds.
    pub(crate) async fn registered_at(&self, revision: &str) -> Result<f64, String> {
        self.ecs
            .describe_task_definition()
            .task_definition(revision)
            .send()
            .await
            .map_err(|e| format!("DescribeTaskDefinition {revision}: {e:?}"))?
            .task_definition
            .and_then(|d| d.registered_at)
            .map(|at| at.as_secs_f64())
            .ok_or_else(|| format!("{revision} has no registeredAt"))
    }

    /// When the service's deployment to `family:revision` was created and when it completed, epoch
    /// seconds.
    pub(crate) async fn completed_rollout(
        &self,
        service: &str,
        revision: &str,
    ) -> Result<(f64, f64), String> {
        let described = self.describe(&[service.to_owned()]).await?;
        let deployment = described
            .first()
            .into_iter()
            .flat_map(|s| s.deployments())
            .find(|d| {
                d.task_definition()
                    .is_some_and(|t| t.ends_with(&format!("/{revision}")))
            })
            .ok_or_else(|| format!("{service} has no deployment of {revision}"))?;
        let state = deployment.rollout_state().map(|r| r.as_str().to_owned());
        if state.as_deref() != Some("COMPLETED") {
            return Err(format!(
                "{service}'s deployment of {revision} is {state:?}, not COMPLETED"
            ));
        }
        match (deployment.created_at(), deployment.updated_at()) {
            (Some(created), Some(updated)) => Ok((created.as_secs_f64(), updated.as_secs_f64())),
            _ => Err(format!("{service}'s deployment has no createdAt/updatedAt")),
        }
    }
}
