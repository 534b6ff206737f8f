//! Who the worker is, learned at start-up so that no message can target it: its account and role from STS,
//! its own service and family from ECS's task metadata or `WORKER_SERVICE`, its region from its clients.

use tracing::{info, warn};

use crate::aws::ecs::Ecs;
use crate::aws::identity::{caller, task_metadata};
use crate::decide::names::{caller_role, cluster_name, family_of, service_arn, service_name};
use crate::decide::policy::Identity;
use crate::ops::config::Config;
use crate::runtime::clients::Clients;
use crate::runtime::retry::{MAX_RECEIVE_BACKOFF, receive_backoff};

/// Learns the worker's identity; retries STS while it fails (the caller bounds it with the stop request),
/// since without its account the worker cannot tell its own resources from others'.
pub async fn discover(config: &Config, clients: &Clients) -> Identity {
    let mut backoff = receive_backoff();
    let caller = loop {
        match caller(&clients.sts).await {
            Ok(caller) => break caller,
            Err(e) => {
                let delay = backoff.next().unwrap_or(MAX_RECEIVE_BACKOFF);
                warn!(error = %e, retry_in = ?delay, "cannot learn who the worker is from STS");
                tokio::time::sleep(delay).await;
            }
        }
    };
    let mut identity = Identity {
        region: clients.sqs.config().region().map(|r| r.to_string()),
        account: Some(caller.account),
        queue_url: Some(config.queue_url.clone()),
        dead_letter_queue_url: None,
        service: None,
        family: None,
        role: caller_role(&caller.arn).map(str::to_owned),
    };
    if let Some(uri) = &config.task_metadata_uri {
        match task_metadata(uri).await {
            Ok(task) => {
                let cluster = cluster_name(&task.cluster).to_owned();
                let service = match task.service {
                    Some(service) => Some(service),
                    None => Ecs::new(clients.ecs.clone(), &cluster)
                        .task_service(&task.task_arn)
                        .await
                        .unwrap_or_else(|e| {
                            warn!(error = %e, "cannot read which service the worker's task belongs to");
                            None
                        }),
                };
                identity.service = service.map(|s| (cluster, s));
                identity.family = Some(task.family);
            }
            Err(e) => warn!(error = %e, "cannot read the worker's task metadata"),
        }
    }
    if identity.service.is_none()
        && let Some(named) = &config.worker_service
    {
        let cluster = service_arn(named)
            .and_then(|arn| arn.cluster)
            .unwrap_or(&config.cluster);
        identity.service = Some((cluster.to_owned(), service_name(named).to_owned()));
    }
    if identity.family.is_none()
        && let Some((cluster, service)) = &identity.service
    {
        match Ecs::new(clients.ecs.clone(), cluster)
            .describe_service(service)
            .await
        {
            Ok(found) => {
                identity.family = found
                    .and_then(|s| s.task_definition)
                    .map(|td| family_of(&td).to_owned());
            }
            Err(e) => warn!(error = %e, "cannot read the worker's own service"),
        }
    }
    let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "unknown".into());
    info!(
        account = %shown(&identity.account),
        role = %shown(&identity.role),
        service = %identity.service.as_ref().map_or("unknown".into(), |(c, s)| format!("{c}/{s}")),
        family = %shown(&identity.family),
        "no message may target the worker itself"
    );
    if identity.service.is_none() {
        warn!(
            "the worker's own service is unknown (no ECS task metadata, no WORKER_SERVICE): set WORKER_SERVICE so that no message can deploy it"
        );
    }
    identity
}
