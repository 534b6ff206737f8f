//! A service revision: what a deployment runs (a task definition with the service's settings and the image
//! digests resolved for it), rendered as DescribeServiceRevisions gives it.

use serde_json::{Value, json};

use crate::task::ContainerSpec;

/// What a deployment runs: a task definition with the service's settings at the time.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRevision {
    /// `arn:aws:ecs:REGION:ACCOUNT:service-revision/CLUSTER/SERVICE/ID`.
    pub arn: String,
    /// The service's ARN.
    pub service_arn: String,
    /// The task definition.
    pub task_definition: String,
    /// The service's launch type.
    pub launch_type: Option<String>,
    /// The task definition's containers, with the digests resolved for them when the deployment started.
    pub images: Vec<ContainerSpec>,
    /// When it was created (epoch seconds).
    pub created_at: f64,
}

impl ServiceRevision {
    /// Renders it as DescribeServiceRevisions returns it.
    pub fn render(&self, cluster_arn: &str) -> Value {
        let images: Vec<Value> = self
            .images
            .iter()
            .map(|c| {
                let mut out = json!({"containerName": c.name, "image": c.image});
                if let Some(digest) = &c.digest {
                    out["imageDigest"] = json!(digest);
                }
                out
            })
            .collect();
        let mut out = json!({
            "serviceRevisionArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": cluster_arn,
            "taskDefinition": self.task_definition,
            "containerImages": images,
            "guardDutyEnabled": false,
            "createdAt": self.created_at,
        });
        if let Some(launch_type) = &self.launch_type {
            out["launchType"] = json!(launch_type);
        }
        out
    }
}
