//! Reading a task definition's members: its containers, what they may already do, the host paths its
//! volumes bind, the secrets it refers to, and its images written out in full.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A task definition as RegisterTaskDefinition members.
pub type Members = Map<String, Value>;

/// What a task definition's containers may already do, across all of them.
#[derive(Debug, Default)]
pub struct ContainerPowers {
    /// Whether any container is privileged.
    pub privileged: bool,
    /// Host devices mapped into any container.
    pub devices: BTreeSet<String>,
    /// Capabilities any container adds.
    pub capabilities: BTreeSet<String>,
    /// Docker security options of any container.
    pub security_options: BTreeSet<String>,
    /// Registry credentials any container pulls with.
    pub repository_credentials: BTreeSet<String>,
}

impl ContainerPowers {
    /// What `task_definition`'s containers may do.
    pub fn of(task_definition: &Members) -> Self {
        let mut powers = Self::default();
        let strings = |value: Option<&Value>| -> Vec<String> {
            items(value)
                .filter_map(|(_, v)| v.as_str().map(str::to_owned))
                .collect()
        };
        for (_, container) in containers(task_definition) {
            powers.privileged |= container.get("privileged") == Some(&Value::Bool(true));
            let linux = container.get("linuxParameters");
            powers.devices.extend(
                items(linux.and_then(|l| l.get("devices")))
                    .filter_map(|(_, d)| d.get("hostPath")?.as_str().map(str::to_owned)),
            );
            powers.capabilities.extend(strings(
                linux
                    .and_then(|l| l.get("capabilities"))
                    .and_then(|c| c.get("add")),
            ));
            powers
                .security_options
                .extend(strings(container.get("dockerSecurityOptions")));
            powers.repository_credentials.extend(
                container
                    .get("repositoryCredentials")
                    .and_then(|r| r.get("credentialsParameter"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            );
        }
        powers
    }
}

/// A member's text value.
pub fn text<'a>(members: &'a Members, member: &str) -> Option<&'a str> {
    members.get(member).and_then(Value::as_str)
}

/// The items of a JSON list, numbered; nothing for anything else.
pub fn items(value: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// The container definitions, numbered.
pub fn containers(task_definition: &Members) -> impl Iterator<Item = (usize, &Map<String, Value>)> {
    items(task_definition.get("containerDefinitions"))
        .filter_map(|(i, c)| c.as_object().map(|c| (i, c)))
}

/// The host paths the task definition's volumes bind, with each volume's path: `volumes[].host.sourcePath`,
/// and a local docker volume whose driver options bind a device (`o=bind`, `device=/path`).
pub fn host_paths(task_definition: &Members) -> Vec<(String, String)> {
    let mut paths = Vec::new();
    for (i, volume) in items(task_definition.get("volumes")) {
        if let Some(source) = volume
            .get("host")
            .and_then(|h| h.get("sourcePath"))
            .and_then(Value::as_str)
        {
            paths.push((format!("volumes[{i}].host.sourcePath"), source.to_owned()));
        }
        let docker = volume.get("dockerVolumeConfiguration");
        let driver = docker
            .and_then(|d| d.get("driver"))
            .and_then(Value::as_str)
            .unwrap_or("local");
        let options = docker.and_then(|d| d.get("driverOpts"));
        let option = |key: &str| options.and_then(|o| o.get(key)).and_then(Value::as_str);
        if driver == "local"
            && let Some(device) = option("device")
            && (option("o").is_some_and(|o| o.contains("bind")) || device.starts_with('/'))
        {
            paths.push((
                format!("volumes[{i}].dockerVolumeConfiguration.driverOpts.device"),
                device.to_owned(),
            ));
        }
    }
    paths
}

/// Every secret, parameter and environment file the containers refer to, with its path.
pub fn references(task_definition: &Members) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, container) in containers(task_definition) {
        for (j, secret) in items(container.get("secrets")) {
            if let Some(from) = secret.get("valueFrom").and_then(Value::as_str) {
                found.push((
                    format!("containerDefinitions[{i}].secrets[{j}].valueFrom"),
                    from.to_owned(),
                ));
            }
        }
        let options = container
            .get("logConfiguration")
            .and_then(|l| l.get("secretOptions"));
        for (j, secret) in items(options) {
            if let Some(from) = secret.get("valueFrom").and_then(Value::as_str) {
                found.push((
                    format!(
                        "containerDefinitions[{i}].logConfiguration.secretOptions[{j}].valueFrom"
                    ),
                    from.to_owned(),
                ));
            }
        }
        for (j, file) in items(container.get("environmentFiles")) {
            if let Some(value) = file.get("value").and_then(Value::as_str) {
                found.push((
                    format!("containerDefinitions[{i}].environmentFiles[{j}].value"),
                    value.to_owned(),
                ));
            }
        }
    }
    found
}

/// An image reference with its registry written out, as Docker reads it: `nginx:1.27` is
/// `docker.io/library/nginx:1.27`, `grafana/grafana` is `docker.io/grafana/grafana`.
pub fn qualified_image(image: &str) -> String {
    let first = image.split('/').next().unwrap_or("");
    let has_registry =
        image.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    match (has_registry, image.contains('/')) {
        (true, _) => image.to_owned(),
        (false, true) => format!("docker.io/{image}"),
        (false, false) => format!("docker.io/library/{image}"),
    }
}

/// Whether the image is pinned by a SHA-256 digest.
pub fn pinned(image: &str) -> bool {
    image.rsplit_once("@sha256:").is_some_and(|(_, digest)| {
        digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit())
    })
}
