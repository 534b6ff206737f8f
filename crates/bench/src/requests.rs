//! The messages and task definitions the harness sends, as a producer would.

use aws_sdk_ecs::types::{ContainerDefinition, HealthCheck};
use aws_sdk_sqs::types::MessageAttributeValue;
use serde_json::json;

pub(crate) fn string(value: &str) -> Result<MessageAttributeValue, String> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| e.to_string())
}

/// The one container of the measured services, with a health check, behaving as `behaviour` in ecs-sim.
pub(crate) fn container(
    name: &str,
    image: &str,
    behaviour: &str,
) -> Result<ContainerDefinition, String> {
    Ok(ContainerDefinition::builder()
        .name(name)
        .image(image)
        .essential(true)
        .memory(256)
        .port_mappings(
            aws_sdk_ecs::types::PortMapping::builder()
                .container_port(80)
                .build(),
        )
        .docker_labels("ecs-sim.behaviour", behaviour)
        .health_check(
            HealthCheck::builder()
                .command("CMD-SHELL")
                .command("curl -f http://localhost/ || exit 1")
                .build()
                .map_err(|e| e.to_string())?,
        )
        .build())
}

/// A message body as a producer sends it.
pub(crate) fn task_definition(family: &str, image: &str, behaviour: &str) -> String {
    json!({
        "family": family,
        "containerDefinitions": [{
            "name": family,
            "image": image,
            "essential": true,
            "memory": 256,
            "portMappings": [{"containerPort": 80}],
            "dockerLabels": {"ecs-sim.behaviour": behaviour},
            "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]}
        }]
    })
    .to_string()
}
