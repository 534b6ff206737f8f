//! CreateCluster and DescribeClusters.

use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::json::strings_of;
use crate::request::{check_name, includes_tags, last_segment, members_except, tags_of};
use crate::state::State;

/// CreateCluster: a cluster of that name, or the one there is.
pub fn create_cluster(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let name = req
        .get("clusterName")
        .and_then(Value::as_str)
        .unwrap_or("default");
    check_name("clusterName", name)?;
    let arn = state.identity.arn(&format!("cluster/{name}"));
    let cluster = state
        .clusters
        .entry(name.to_owned())
        .or_insert_with(|| Cluster {
            name: name.to_owned(),
            arn,
            tags: tags_of(req),
            extra: members_except(req, &["clusterName", "tags"]),
            services: Default::default(),
            tasks: Default::default(),
            client_tokens: Default::default(),
        });
    Ok(json!({"cluster": cluster.render(true)}))
}

/// DescribeClusters: the clusters named (`default` when none), unknown ones as failures.
pub fn describe_clusters(state: &mut State, req: &Value) -> Result<Value, ApiError> {
    let names = strings_of(req, "clusters");
    let names = if names.is_empty() {
        vec!["default"]
    } else {
        names
    };
    let include_tags = includes_tags(req);
    let mut clusters = Vec::new();
    let mut failures = Vec::new();
    for reference in names {
        match state.clusters.get(last_segment(reference)) {
            Some(cluster) => clusters.push(cluster.render(include_tags)),
            None => failures.push(json!({
                "arn": state.identity.arn(&format!("cluster/{}", last_segment(reference))),
                "reason": "MISSING",
            })),
        }
    }
    Ok(json!({"clusters": clusters, "failures": failures}))
}
