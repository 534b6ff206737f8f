//! An in-process ecs-sim on a free loopback port, and its `/_sim/` control API.

use std::time::Duration;

use serde_json::Value;

use crate::local::{STARTUP_DEADLINE, http_get};
use crate::wait::wait_until_blocking;

/// ecs-sim in this process on a free loopback port, with its control API; stopped on drop.
pub struct Sim {
    /// The running simulator.
    server: ecs_sim::SimServer,
}

impl Sim {
    /// Starts ecs-sim with `tick` of real time per simulated second (`None`: time moves only by
    /// [`Sim::advance`], for tests that step through a rollout).
    pub fn start(tick: Option<Duration>) -> Self {
        let config = ecs_sim::Config {
            tick,
            ..ecs_sim::Config::default()
        };
        let server = ecs_sim::SimServer::start(config).expect("start ecs-sim on a loopback port");
        let sim = Self { server };
        wait_until_blocking("ecs-sim to answer", STARTUP_DEADLINE, || {
            http_get(&sim.url("/_sim/health")).ok()
        });
        sim
    }

    /// Its endpoint URL, for `AWS_ENDPOINT_URL_ECS` or `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint())
    }

    fn control(&self, path: &str, body: Value) -> Value {
        let mut response = ureq::post(&self.url(path))
            .send_json(&body)
            .unwrap_or_else(|e| panic!("ecs-sim control call {path} {body} failed: {e}"));
        if response.status() == 204 {
            return Value::Null;
        }
        response
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("ecs-sim control call {path} answered no JSON: {e}"))
    }

    /// Calls an ECS operation with a raw AWS JSON 1.1 body and returns the raw answer, bypassing any SDK's
    /// model (which would drop members it does not know); panics when the call fails.
    pub fn call(&self, operation: &str, body: &Value) -> Value {
        ureq::post(&self.endpoint())
            .header(
                "X-Amz-Target",
                &format!("AmazonEC2ContainerServiceV20141113.{operation}"),
            )
            .header("Content-Type", "application/x-amz-json-1.1")
            .send(body.to_string())
            .and_then(|mut r| r.body_mut().read_json())
            .unwrap_or_else(|e| panic!("{operation} failed: {e}"))
    }

    /// Calls an ECS operation as [`Sim::call`] does; an error answer is given back as its body.
    pub fn try_call(&self, operation: &str, body: &Value) -> Result<Value, Value> {
        let mut response = ureq::post(&self.endpoint())
            .config()
            .http_status_as_error(false)
            .build()
            .header(
                "X-Amz-Target",
                &format!("AmazonEC2ContainerServiceV20141113.{operation}"),
            )
            .header("Content-Type", "application/x-amz-json-1.1")
            .send(body.to_string())
            .unwrap_or_else(|e| panic!("{operation} could not be sent: {e}"));
        let ok = response.status().is_success();
        let answer: Value = response
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("{operation} answered no JSON: {e}"));
        if ok { Ok(answer) } else { Err(answer) }
    }

    /// Installs a fault, as `POST /_sim/faults` takes it, e.g.
    /// `{"operation": "UpdateService", "kind": "throttle", "count": 2}`.
    pub fn inject_fault(&self, fault: Value) {
        self.control("/_sim/faults", fault);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        ureq::delete(&self.url("/_sim/faults"))
            .call()
            .unwrap_or_else(|e| panic!("ecs-sim DELETE /_sim/faults failed: {e}"));
    }

    /// Calls received per operation: `{"calls": {"DescribeServices": 3, ...}, "total": N, "faulted": {...}}`.
    pub fn stats(&self) -> Value {
        ureq::get(&self.url("/_sim/stats"))
            .call()
            .and_then(|mut r| r.body_mut().read_json())
            .unwrap_or_else(|e| panic!("ecs-sim GET /_sim/stats failed: {e}"))
    }

    /// Zeroes the call counts.
    pub fn reset_stats(&self) {
        ureq::delete(&self.url("/_sim/stats"))
            .call()
            .unwrap_or_else(|e| panic!("ecs-sim DELETE /_sim/stats failed: {e}"));
    }

    /// Calls received of one operation.
    pub fn calls(&self, operation: &str) -> u64 {
        self.stats()["calls"][operation].as_u64().unwrap_or(0)
    }

    /// Deletes a service behind the worker's back: DRAINING then INACTIVE, or MISSING with `purge`.
    pub fn delete_service(&self, cluster: &str, service: &str, purge: bool) {
        self.control(
            "/_sim/services/delete",
            serde_json::json!({"cluster": cluster, "service": service, "purge": purge}),
        );
    }

    /// Makes reads eventually consistent: DescribeServices, ListTasks and DescribeTasks see the state of up
    /// to `max_lag_seconds` simulated seconds ago, each read's lag drawn from `seed` (0 turns it off).
    pub fn stale_reads(&self, max_lag_seconds: u64, seed: u64) {
        self.control(
            "/_sim/stale-reads",
            serde_json::json!({"maxLagSeconds": max_lag_seconds, "seed": seed}),
        );
    }

    /// Sets a CloudWatch alarm's state: `ALARM` or `OK`.
    pub fn set_alarm(&self, name: &str, state: &str) {
        self.control(
            "/_sim/alarms",
            serde_json::json!({"name": name, "state": state}),
        );
    }

    /// Makes the Lambda function `arn` answer the lifecycle hooks that invoke it with `result`
    /// (`SUCCEEDED`, `FAILED` or `IN_PROGRESS`).
    pub fn set_lambda(&self, arn: &str, result: &str) {
        self.control(
            "/_sim/lambda",
            serde_json::json!({"functionArn": arn, "result": result}),
        );
    }

    /// Makes ecs-sim ask the ECR endpoint `endpoint` (moto's) for the digests of ECR images' tags, as ECS
    /// asks ECR when a deployment or task starts.
    pub fn use_ecr(&self, endpoint: &str) {
        self.control(
            "/_sim/registry",
            serde_json::json!({"ecrEndpoint": endpoint}),
        );
    }

    /// Writes the output of containers that use the awslogs driver to the CloudWatch Logs at `endpoint`
    /// (moto's server).
    pub fn use_logs(&self, endpoint: &str) {
        self.control("/_sim/logs", serde_json::json!({"logsEndpoint": endpoint}));
    }

    /// Turns ECS's API rate limits on (AWS's buckets with `overrides`, as `{"service-read": {"burst": 200,
    /// "rate": 40}}`), or off with `None`.
    pub fn api_limits(&self, overrides: Option<Value>) {
        let body = match overrides {
            Some(overrides) => serde_json::json!({"limits": "aws", "overrides": overrides}),
            None => serde_json::json!({"limits": "none"}),
        };
        self.control("/_sim/api-limits", body);
    }

    /// Runs `seconds` simulated seconds at once; returns the simulated clock.
    pub fn advance(&self, seconds: u64) -> u64 {
        self.control("/_sim/advance", serde_json::json!({"seconds": seconds}))["now"]
            .as_u64()
            .unwrap_or(0)
    }
}
