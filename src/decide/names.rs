//! Names read out of ARNs and URLs: a task definition's `family:revision`, a service's, cluster's or role's
//! name, the parts of a service ARN, and a queue URL's region and account.

/// `family:revision` of a task definition ARN, or the text unchanged.
pub fn short_arn(arn: &str) -> &str {
    arn.rsplit_once("task-definition/")
        .map_or(arn, |(_, name)| name)
}

/// A task definition's family, from `family:revision` or its ARN.
pub fn family_of(task_definition: &str) -> &str {
    let short = short_arn(task_definition);
    short.rsplit_once(':').map_or(short, |(family, _)| family)
}

/// The service's name, from a name or an ARN (`arn:aws:ecs:...:service/cluster/name`).
pub fn service_name(service: &str) -> &str {
    service.rsplit('/').next().unwrap_or(service)
}

/// The AWS region an SQS queue URL names (`https://sqs.eu-west-1.amazonaws.com/...` or the legacy
/// `https://eu-west-1.queue.amazonaws.com/...`).
pub fn region_of_queue_url(queue_url: &str) -> Option<String> {
    let host = queue_url.split("://").nth(1)?.split(['/', ':']).next()?;
    let mut labels = host.split('.');
    match (labels.next(), labels.next()) {
        (Some("sqs"), Some(region)) if host.contains(".amazonaws.com") => Some(region.to_owned()),
        (Some(region), Some("queue")) if host.contains(".amazonaws.com") => Some(region.to_owned()),
        _ => None,
    }
}

/// A cluster's name, from a name or an ARN (`arn:aws:ecs:...:cluster/name`).
pub fn cluster_name(cluster: &str) -> &str {
    cluster
        .rsplit_once("cluster/")
        .map_or(cluster, |(_, name)| name)
}

/// An IAM role's name, from a role ARN (`arn:aws:iam::1:role/path/name`) or a bare name.
pub fn role_name(role: &str) -> &str {
    role.rsplit('/').next().unwrap_or(role)
}

/// The role a caller runs as, from the ARN STS gives it (`arn:aws:sts::1:assumed-role/name/session`);
/// `None` for a user or the account's root.
pub fn caller_role(caller_arn: &str) -> Option<&str> {
    let (_, rest) = caller_arn.split_once(":assumed-role/")?;
    rest.split('/').next().filter(|name| !name.is_empty())
}

/// The parts of a service ARN: `arn:PARTITION:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`, or the older
/// `service/NAME` without the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceArn<'a> {
    /// The region.
    pub region: &'a str,
    /// The account.
    pub account: &'a str,
    /// The cluster, when the ARN names it.
    pub cluster: Option<&'a str>,
    /// The service's name.
    pub name: &'a str,
}

/// Reads a service ARN; `None` when `text` is not one.
pub fn service_arn(text: &str) -> Option<ServiceArn<'_>> {
    let mut parts = text.splitn(6, ':');
    let (arn, _partition, ecs) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    if arn != "arn" || ecs != "ecs" {
        return None;
    }
    let path: Vec<&str> = resource.strip_prefix("service/")?.split('/').collect();
    let (cluster, name) = match path.as_slice() {
        [name] => (None, *name),
        [cluster, name] => (Some(*cluster), *name),
        _ => return None,
    };
    Some(ServiceArn {
        region,
        account,
        cluster,
        name,
    })
}

/// A queue URL's endpoint (`https://sqs.eu-west-1.amazonaws.com`) and account (the first part of its
/// path); `None` when it is not `scheme://host/account/name`.
pub fn queue_endpoint_and_account(queue_url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = queue_url.split_once("://")?;
    let (host, path) = rest.split_once('/')?;
    let (account, name) = path.split_once('/')?;
    if host.is_empty() || account.is_empty() || name.is_empty() || name.contains('/') {
        return None;
    }
    Some((&queue_url[..scheme.len() + 3 + host.len()], account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_keyed_by_name() {
        assert_eq!(service_name("web"), "web");
        assert_eq!(
            service_name("arn:aws:ecs:us-east-1:1:service/prod/web"),
            "web"
        );
        assert_eq!(service_name("arn:aws:ecs:us-east-1:1:service/web"), "web");
    }

    #[test]
    fn arns_and_urls_are_read_into_their_parts() {
        assert_eq!(
            service_arn("arn:aws:ecs:eu-west-1:123:service/prod/web"),
            Some(ServiceArn {
                region: "eu-west-1",
                account: "123",
                cluster: Some("prod"),
                name: "web",
            })
        );
        assert_eq!(
            service_arn("arn:aws-cn:ecs:cn-north-1:1:service/web").map(|a| (a.cluster, a.name)),
            Some((None, "web"))
        );
        for not_one in [
            "web",
            "arn:aws:ecs:eu-west-1:123:task/prod/abc",
            "arn:aws:sqs:eu-west-1:123:service/web",
            "arn:aws:ecs:eu-west-1:123:service/a/b/c",
        ] {
            assert_eq!(service_arn(not_one), None, "{not_one}");
        }
        assert_eq!(cluster_name("arn:aws:ecs:eu-west-1:1:cluster/prod"), "prod");
        assert_eq!(cluster_name("prod"), "prod");
        assert_eq!(
            family_of("arn:aws:ecs:eu-west-1:1:task-definition/web:12"),
            "web"
        );
        assert_eq!(family_of("web:12"), "web");
        assert_eq!(family_of("web"), "web");
        assert_eq!(
            role_name("arn:aws:iam::1:role/service-role/deployer"),
            "deployer"
        );
        assert_eq!(role_name("deployer"), "deployer");
        assert_eq!(
            caller_role("arn:aws:sts::1:assumed-role/deployer/3f2a"),
            Some("deployer")
        );
        assert_eq!(caller_role("arn:aws:iam::1:user/ci"), None);
        assert_eq!(
            queue_endpoint_and_account("https://sqs.eu-west-1.amazonaws.com/123/replies"),
            Some(("https://sqs.eu-west-1.amazonaws.com", "123"))
        );
        assert_eq!(
            queue_endpoint_and_account("http://127.0.0.1:5000/123/q.fifo"),
            Some(("http://127.0.0.1:5000", "123"))
        );
        assert_eq!(queue_endpoint_and_account("https://sqs.x/123"), None);
        assert_eq!(queue_endpoint_and_account("replies"), None);
    }
}
