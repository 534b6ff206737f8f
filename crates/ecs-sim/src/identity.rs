//! Where and as whom the simulated ECS runs: the region and account in every ARN it hands out.

/// Where and as whom the simulated ECS runs; only used to build ARNs.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The region in every ARN.
    pub region: String,
    /// The account id in every ARN.
    pub account_id: String,
}

impl Identity {
    /// The ARN of an ECS resource, e.g. `cluster/default`.
    pub fn arn(&self, resource: &str) -> String {
        format!("arn:aws:ecs:{}:{}:{resource}", self.region, self.account_id)
    }
}
