//! ECS's API rate limits: one token bucket per API action category, per account and Region, as AWS's
//! "Request throttling for the Amazon ECS API" lists them; buckets refill in simulated time.
//!
//! A call takes one token from its category's bucket; an empty bucket answers `ThrottlingException`
//! ("Rate exceeded"). Each simulated second adds the category's sustained rate, up to its burst. Operations
//! the page does not list (StopServiceDeployment, ContinueServiceDeployment, ...) are not limited:
//! *inferred*, since no documented bucket holds them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

/// One API action category: its name, as `--api-limit` and `/_sim/api-limits` spell it, its operations,
/// burst (bucket capacity) and sustained rate (refill per second).
pub struct Category {
    /// A short name (`service-read`).
    pub name: &'static str,
    /// The operations that share its bucket.
    pub operations: &'static [&'static str],
    /// Bucket maximum capacity.
    pub burst: u32,
    /// Tokens added per simulated second.
    pub rate: u32,
}

/// AWS's categories, burst and sustained rates (the same in every Region).
pub const AWS: [Category; 20] = [
    category(
        "cluster-modify",
        &[
            "CreateCluster",
            "DeleteCluster",
            "PutClusterCapacityProviders",
            "UpdateCluster",
            "UpdateClusterSettings",
        ],
        20,
        1,
    ),
    category(
        "cluster-read",
        &["DescribeClusters", "ListClusters"],
        50,
        20,
    ),
    category(
        "task-definition-modify",
        &["DeregisterTaskDefinition", "RegisterTaskDefinition"],
        20,
        1,
    ),
    category(
        "task-definition-read",
        &[
            "DescribeTaskDefinition",
            "ListTaskDefinitions",
            "ListTaskDefinitionFamilies",
        ],
        50,
        20,
    ),
    category("task-definition-deletion", &["DeleteTaskDefinitions"], 5, 1),
    category(
        "capacity-provider-modify",
        &[
            "CreateCapacityProvider",
            "DeleteCapacityProvider",
            "UpdateCapacityProvider",
        ],
        10,
        1,
    ),
    category(
        "capacity-provider-read",
        &["DescribeCapacityProviders"],
        50,
        20,
    ),
    category("tag-modify", &["TagResource", "UntagResource"], 20, 10),
    category("tag-read", &["ListTagsForResource"], 50, 20),
    category(
        "setting-modify",
        &[
            "DeleteAccountSetting",
            "PutAccountSetting",
            "PutAccountSettingDefault",
        ],
        10,
        1,
    ),
    category("setting-read", &["ListAccountSettings"], 50, 20),
    category(
        "cluster-resource-modify",
        &[
            "DeleteAttributes",
            "DeregisterContainerInstance",
            "ExecuteCommand",
            "PutAttributes",
            "RunTask",
            "StartTask",
            "StopTask",
            "UpdateContainerAgent",
            "UpdateContainerInstancesState",
        ],
        100,
        40,
    ),
    category(
        "cluster-resource-read",
        &[
            "DescribeContainerInstances",
            "DescribeTasks",
            "ListAttributes",
            "ListContainerInstances",
            "ListTasks",
        ],
        100,
        20,
    ),
    category(
        "agent-modify",
        &[
            "RegisterContainerInstance",
            "SubmitAttachmentStateChanges",
            "SubmitContainerStateChange",
            "SubmitTaskStateChange",
        ],
        200,
        120,
    ),
    category(
        "service-modify",
        &["CreateService", "DeleteService", "UpdateService"],
        50,
        5,
    ),
    category(
        "service-read",
        &["DescribeServices", "ListServices"],
        100,
        20,
    ),
    category(
        "service-deployment",
        &["DescribeServiceDeployments", "ListServiceDeployments"],
        50,
        20,
    ),
    category("service-revision", &["DescribeServiceRevisions"], 50, 20),
    category(
        "task-protection",
        &["UpdateTaskProtection", "GetTaskProtection"],
        200,
        80,
    ),
    category(
        "cluster-service-resource-read",
        &["ListServicesByNamespace"],
        10,
        1,
    ),
];

const fn category(
    name: &'static str,
    operations: &'static [&'static str],
    burst: u32,
    rate: u32,
) -> Category {
    Category {
        name,
        operations,
        burst,
        rate,
    }
}

/// A category's bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Bucket maximum capacity (burst).
    pub burst: u32,
    /// Tokens added per simulated second (sustained rate).
    pub rate: u32,
}

/// The buckets of every category, when limits are on.
#[derive(Debug, Default)]
pub struct Limits {
    /// Per category: its rate and the tokens left.
    buckets: BTreeMap<&'static str, (Rate, u32)>,
    /// Calls refused for their rate, per operation.
    throttled: BTreeMap<String, u64>,
}

impl Limits {
    /// AWS's limits with `overrides` (category name to rate), full buckets; an unknown category is an
    /// error naming the known ones.
    pub fn aws(overrides: &BTreeMap<String, Rate>) -> Result<Self, String> {
        for name in overrides.keys() {
            if !AWS.iter().any(|c| c.name == name) {
                let known: Vec<&str> = AWS.iter().map(|c| c.name).collect();
                return Err(format!(
                    "no API category {name:?}; the categories are {}",
                    known.join(", ")
                ));
            }
        }
        let buckets = AWS
            .iter()
            .map(|c| {
                let rate = overrides.get(c.name).copied().unwrap_or(Rate {
                    burst: c.burst,
                    rate: c.rate,
                });
                (c.name, (rate, rate.burst))
            })
            .collect();
        Ok(Self {
            buckets,
            throttled: BTreeMap::new(),
        })
    }

    /// Takes a token for a call of `operation`; false when its bucket is empty (the call is throttled).
    pub fn take(&mut self, operation: &str) -> bool {
        let Some(category) = AWS.iter().find(|c| c.operations.contains(&operation)) else {
            return true;
        };
        let Some((_, tokens)) = self.buckets.get_mut(category.name) else {
            return true;
        };
        if *tokens == 0 {
            *self.throttled.entry(operation.to_owned()).or_default() += 1;
            return false;
        }
        *tokens -= 1;
        true
    }

    /// One simulated second: each bucket gains its sustained rate, up to its burst.
    pub fn refill(&mut self) {
        for (rate, tokens) in self.buckets.values_mut() {
            *tokens = (*tokens + rate.rate).min(rate.burst);
        }
    }

    /// Throttled calls per operation, for `/_sim/stats`.
    pub fn throttled(&self) -> &BTreeMap<String, u64> {
        &self.throttled
    }

    /// Zeroes the throttled counts.
    pub fn reset_stats(&mut self) {
        self.throttled.clear();
    }

    /// The buckets as `GET /_sim/api-limits` shows them.
    pub fn describe(&self) -> Value {
        let buckets: BTreeMap<&str, Value> = self
            .buckets
            .iter()
            .map(|(name, (rate, tokens))| {
                (
                    *name,
                    json!({"burst": rate.burst, "rate": rate.rate, "tokens": tokens}),
                )
            })
            .collect();
        json!(buckets)
    }
}

/// Parses `--api-limit CATEGORY=BURST/RATE`.
pub fn parse_override(text: &str) -> Result<(String, Rate), String> {
    let usage = || format!("{text:?}: expected CATEGORY=BURST/RATE, e.g. service-read=200/40");
    let (name, numbers) = text.split_once('=').ok_or_else(usage)?;
    let (burst, rate) = numbers.split_once('/').ok_or_else(usage)?;
    let burst = burst.trim().parse().map_err(|_| usage())?;
    let rate = rate.trim().parse().map_err(|_| usage())?;
    Ok((name.trim().to_owned(), Rate { burst, rate }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_its_rate_per_second() {
        let mut limits = Limits::aws(&BTreeMap::new()).expect("AWS's limits");
        let taken = (0..120).filter(|_| limits.take("DescribeServices")).count();
        assert_eq!(taken, 100, "the burst");
        // ListServices shares the bucket.
        assert!(!limits.take("ListServices"));
        limits.refill();
        let taken = (0..30).filter(|_| limits.take("ListServices")).count();
        assert_eq!(taken, 20, "the sustained rate");
        assert_eq!(limits.throttled().get("DescribeServices"), Some(&20));
        assert_eq!(limits.throttled().get("ListServices"), Some(&11));
        // Another category is untouched; an unlisted operation is not limited.
        assert!(limits.take("DescribeTasks"));
        assert!((0..1000).all(|_| limits.take("StopServiceDeployment")));
        // Refills stop at the burst.
        for _ in 0..100 {
            limits.refill();
        }
        assert_eq!(
            (0..500).filter(|_| limits.take("UpdateService")).count(),
            50
        );
    }

    #[test]
    fn rates_can_be_raised_and_unknown_categories_are_named() {
        let raised = BTreeMap::from([(
            "task-definition-modify".to_owned(),
            Rate { burst: 40, rate: 4 },
        )]);
        let mut limits = Limits::aws(&raised).expect("valid");
        assert_eq!(
            (0..100)
                .filter(|_| limits.take("RegisterTaskDefinition"))
                .count(),
            40
        );
        limits.refill();
        assert_eq!(
            (0..100)
                .filter(|_| limits.take("RegisterTaskDefinition"))
                .count(),
            4
        );
        let unknown = BTreeMap::from([("services".to_owned(), Rate { burst: 1, rate: 1 })]);
        let error = Limits::aws(&unknown).expect_err("unknown");
        assert!(error.contains("service-read"), "{error}");
        assert_eq!(
            parse_override("service-read=200/40"),
            Ok((
                "service-read".to_owned(),
                Rate {
                    burst: 200,
                    rate: 40
                }
            ))
        );
        assert!(parse_override("service-read=200").is_err());
    }
}
