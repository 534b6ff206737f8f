//! Names read out of ARNs and URLs: a task definition's `family:revision`, a service's name, a queue's
//! region.

/// `family:revision` of a task definition ARN, or the text unchanged.
pub fn short_arn(arn: &str) -> &str {
    arn.rsplit_once("task-definition/")
        .map_or(arn, |(_, name)| name)
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
}
