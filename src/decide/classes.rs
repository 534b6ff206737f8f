//! Every member of ECS's RegisterTaskDefinition request in one of two classes: what runs, which a message
//! may change, and what it may do, which must stay as the running revision has it.
//!
//! The list names member paths as [`ecs_model::Model::member_paths`] spells them (`a[].b`, `a{}` for a
//! map's values). A path it does not name is what the task may do and no setting allows changing it, so a
//! member ECS adds later is refused until it is classified here; `tests` fails when the model has a path
//! this list does not name.

use crate::decide::privilege::Privilege;

/// What a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// What runs: a message may change it freely (an image within the image rule, cpu and memory within the
    /// policy's limits).
    Runs,
    /// What the task may do: it must equal the running revision's, unless the policy allows the group.
    Power(Privilege),
    /// A member this list does not name: treated as what the task may do, with no setting allowing it.
    Unclassified,
}

/// What runs, each with why changing it changes only what runs and not what the task may do.
pub const RUNS: [(&str, &str); 25] = [
    (
        "containerDefinitions[].name",
        "the key containers are matched by: a renamed container is a removed one and a new one, each judged",
    ),
    (
        "containerDefinitions[].image",
        "the program itself; the image rule keeps it in its repository",
    ),
    (
        "containerDefinitions[].cpu",
        "a share of the task's CPU, within MAX_TASK_CPU",
    ),
    (
        "containerDefinitions[].memory",
        "a hard memory limit, within MAX_TASK_MEMORY",
    ),
    (
        "containerDefinitions[].memoryReservation",
        "a soft memory limit, within MAX_TASK_MEMORY",
    ),
    (
        "containerDefinitions[].essential",
        "whether the task stops when this container stops: how a rollout is judged, not a power",
    ),
    (
        "containerDefinitions[].entryPoint[]",
        "the program's arguments, inside the container",
    ),
    (
        "containerDefinitions[].command[]",
        "the program's arguments, inside the container",
    ),
    (
        "containerDefinitions[].environment[].name",
        "the command could set any variable itself",
    ),
    (
        "containerDefinitions[].environment[].value",
        "the command could set any variable itself",
    ),
    (
        "containerDefinitions[].healthCheck.command[]",
        "a command inside the container",
    ),
    (
        "containerDefinitions[].healthCheck.interval",
        "when the health check runs",
    ),
    (
        "containerDefinitions[].healthCheck.timeout",
        "when the health check runs",
    ),
    (
        "containerDefinitions[].healthCheck.retries",
        "when the health check runs",
    ),
    (
        "containerDefinitions[].healthCheck.startPeriod",
        "when the health check runs",
    ),
    (
        "containerDefinitions[].dependsOn[].containerName",
        "the order the task's own containers start in",
    ),
    (
        "containerDefinitions[].dependsOn[].condition",
        "the order the task's own containers start in",
    ),
    (
        "containerDefinitions[].startTimeout",
        "how long ECS waits for the container to start",
    ),
    (
        "containerDefinitions[].stopTimeout",
        "how long ECS waits before killing the container",
    ),
    (
        "containerDefinitions[].workingDirectory",
        "a directory inside the container",
    ),
    (
        "containerDefinitions[].interactive",
        "standard input for the container's own process",
    ),
    (
        "containerDefinitions[].pseudoTerminal",
        "a terminal for the container's own process",
    ),
    (
        "containerDefinitions[].linuxParameters.initProcessEnabled",
        "an init process as the container's PID 1, with no access beyond it",
    ),
    ("cpu", "the task's CPU, within MAX_TASK_CPU"),
    ("memory", "the task's memory, within MAX_TASK_MEMORY"),
];

/// What the task may do, by the group whose label in `ALLOWED_PRIVILEGES` allows changing it.
pub const POWERS: [(Privilege, &[&str]); 29] = [
    (Privilege::FamilyChange, &["family"]),
    (Privilege::TaskRole, &["taskRoleArn"]),
    (Privilege::ExecutionRole, &["executionRoleArn"]),
    (
        Privilege::Secrets,
        &[
            "containerDefinitions[].secrets[].name",
            "containerDefinitions[].secrets[].valueFrom",
            "containerDefinitions[].environmentFiles[].value",
            "containerDefinitions[].environmentFiles[].type",
            "containerDefinitions[].logConfiguration.secretOptions[].name",
            "containerDefinitions[].logConfiguration.secretOptions[].valueFrom",
        ],
    ),
    (
        Privilege::RepositoryCredentials,
        &["containerDefinitions[].repositoryCredentials.credentialsParameter"],
    ),
    (
        Privilege::Privileged,
        &["containerDefinitions[].privileged"],
    ),
    (Privilege::NetworkMode, &["networkMode"]),
    (Privilege::PidMode, &["pidMode"]),
    (Privilege::IpcMode, &["ipcMode"]),
    (
        Privilege::HostVolumes,
        &[
            "volumes[].host.sourcePath",
            "volumes[].dockerVolumeConfiguration.scope",
            "volumes[].dockerVolumeConfiguration.autoprovision",
            "volumes[].dockerVolumeConfiguration.driver",
            "volumes[].dockerVolumeConfiguration.driverOpts{}",
            "volumes[].dockerVolumeConfiguration.labels{}",
        ],
    ),
    (
        Privilege::FileSystems,
        &[
            "volumes[].efsVolumeConfiguration.fileSystemId",
            "volumes[].efsVolumeConfiguration.rootDirectory",
            "volumes[].efsVolumeConfiguration.transitEncryption",
            "volumes[].efsVolumeConfiguration.transitEncryptionPort",
            "volumes[].efsVolumeConfiguration.authorizationConfig.accessPointId",
            "volumes[].efsVolumeConfiguration.authorizationConfig.iam",
            "volumes[].s3filesVolumeConfiguration.fileSystemArn",
            "volumes[].s3filesVolumeConfiguration.rootDirectory",
            "volumes[].s3filesVolumeConfiguration.transitEncryptionPort",
            "volumes[].s3filesVolumeConfiguration.accessPointArn",
            "volumes[].fsxWindowsFileServerVolumeConfiguration.fileSystemId",
            "volumes[].fsxWindowsFileServerVolumeConfiguration.rootDirectory",
            "volumes[].fsxWindowsFileServerVolumeConfiguration.authorizationConfig.credentialsParameter",
            "volumes[].fsxWindowsFileServerVolumeConfiguration.authorizationConfig.domain",
        ],
    ),
    (
        Privilege::Mounts,
        &[
            "volumes[].name",
            "volumes[].configuredAtLaunch",
            "containerDefinitions[].mountPoints[].sourceVolume",
            "containerDefinitions[].mountPoints[].containerPath",
            "containerDefinitions[].mountPoints[].readOnly",
            "containerDefinitions[].volumesFrom[].sourceContainer",
            "containerDefinitions[].volumesFrom[].readOnly",
        ],
    ),
    (
        Privilege::Devices,
        &[
            "containerDefinitions[].linuxParameters.devices[].hostPath",
            "containerDefinitions[].linuxParameters.devices[].containerPath",
            "containerDefinitions[].linuxParameters.devices[].permissions[]",
        ],
    ),
    (
        Privilege::Capabilities,
        &[
            "containerDefinitions[].linuxParameters.capabilities.add[]",
            "containerDefinitions[].linuxParameters.capabilities.drop[]",
        ],
    ),
    (
        Privilege::DockerSecurityOptions,
        &["containerDefinitions[].dockerSecurityOptions[]"],
    ),
    (
        Privilege::CredentialSpecs,
        &["containerDefinitions[].credentialSpecs[]"],
    ),
    (Privilege::User, &["containerDefinitions[].user"]),
    (
        Privilege::ReadOnlyRoot,
        &["containerDefinitions[].readonlyRootFilesystem"],
    ),
    (
        Privilege::Kernel,
        &[
            "containerDefinitions[].ulimits[].name",
            "containerDefinitions[].ulimits[].softLimit",
            "containerDefinitions[].ulimits[].hardLimit",
            "containerDefinitions[].systemControls[].namespace",
            "containerDefinitions[].systemControls[].value",
            "containerDefinitions[].linuxParameters.sharedMemorySize",
            "containerDefinitions[].linuxParameters.tmpfs[].containerPath",
            "containerDefinitions[].linuxParameters.tmpfs[].size",
            "containerDefinitions[].linuxParameters.tmpfs[].mountOptions[]",
            "containerDefinitions[].linuxParameters.maxSwap",
            "containerDefinitions[].linuxParameters.swappiness",
        ],
    ),
    (
        Privilege::Network,
        &[
            "containerDefinitions[].links[]",
            "containerDefinitions[].portMappings[].containerPort",
            "containerDefinitions[].portMappings[].hostPort",
            "containerDefinitions[].portMappings[].protocol",
            "containerDefinitions[].portMappings[].name",
            "containerDefinitions[].portMappings[].appProtocol",
            "containerDefinitions[].portMappings[].containerPortRange",
            "containerDefinitions[].hostname",
            "containerDefinitions[].disableNetworking",
            "containerDefinitions[].dnsServers[]",
            "containerDefinitions[].dnsSearchDomains[]",
            "containerDefinitions[].extraHosts[].hostname",
            "containerDefinitions[].extraHosts[].ipAddress",
            "proxyConfiguration.type",
            "proxyConfiguration.containerName",
            "proxyConfiguration.properties[].name",
            "proxyConfiguration.properties[].value",
        ],
    ),
    (
        Privilege::Logging,
        &[
            "containerDefinitions[].logConfiguration.logDriver",
            "containerDefinitions[].logConfiguration.options{}",
            "containerDefinitions[].firelensConfiguration.type",
            "containerDefinitions[].firelensConfiguration.options{}",
        ],
    ),
    (
        Privilege::Labels,
        &["containerDefinitions[].dockerLabels{}"],
    ),
    (Privilege::Tags, &["tags[].key", "tags[].value"]),
    (
        Privilege::Placement,
        &[
            "placementConstraints[].type",
            "placementConstraints[].expression",
            "requiresCompatibilities[]",
            "runtimePlatform.cpuArchitecture",
            "runtimePlatform.operatingSystemFamily",
        ],
    ),
    (
        Privilege::Resources,
        &[
            "containerDefinitions[].resourceRequirements[].value",
            "containerDefinitions[].resourceRequirements[].type",
            "containerDefinitions[].resourceRequirements[].sharingStrategy.nvidiaMps.memory",
            "containerDefinitions[].resourceRequirements[].sharingStrategy.nvidiaMps.maxComputePercent",
            "inferenceAccelerators[].deviceName",
            "inferenceAccelerators[].deviceType",
            "ephemeralStorage.sizeInGiB",
        ],
    ),
    (
        Privilege::RestartPolicy,
        &[
            "containerDefinitions[].restartPolicy.enabled",
            "containerDefinitions[].restartPolicy.ignoredExitCodes[]",
            "containerDefinitions[].restartPolicy.restartAttemptPeriod",
        ],
    ),
    (
        Privilege::VersionConsistency,
        &["containerDefinitions[].versionConsistency"],
    ),
    (Privilege::FaultInjection, &["enableFaultInjection"]),
    (
        Privilege::TrustedExecution,
        &[
            "trustedExecutionConfiguration.isolationMode",
            "trustedExecutionConfiguration.attestationPolicy",
        ],
    ),
];

/// The class of the leaf member at `path` (model form, `containerDefinitions[].image`).
pub fn class_of(path: &str) -> Class {
    if RUNS.iter().any(|(p, _)| *p == path) {
        return Class::Runs;
    }
    POWERS
        .iter()
        .find(|(_, paths)| paths.contains(&path))
        .map_or(Class::Unclassified, |(privilege, _)| {
            Class::Power(*privilege)
        })
}

/// The member paths of a group, for the security model's table (docs/security.md).
pub fn paths_of(privilege: Privilege) -> &'static [&'static str] {
    POWERS
        .iter()
        .find(|(p, _)| *p == privilege)
        .map_or(&[], |(_, paths)| paths)
}

/// The security model's table (docs/security.md) of the classification: what runs, then each group, its
/// members and its setting.
pub fn table() -> String {
    let mut out =
        String::from("| class | members | a message may change them |\n| --- | --- | --- |\n");
    let runs: Vec<String> = RUNS.iter().map(|(p, _)| format!("`{p}`")).collect();
    out.push_str(&format!(
        "| what runs | {} | freely (images within the image rule, cpu and memory within the limits) |\n",
        runs.join(", ")
    ));
    for privilege in Privilege::ALL {
        let paths: Vec<String> = paths_of(privilege)
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        let label = privilege.label();
        let allow = match privilege.value_setting() {
            Some(values) => {
                format!("with `ALLOWED_PRIVILEGES={label}`, or to values `{values}` names")
            }
            None => format!("with `ALLOWED_PRIVILEGES={label}`"),
        };
        out.push_str(&format!("| `{label}` | {} | {allow} |\n", paths.join(", ")));
    }
    out.push_str(
        "| any other member | whatever ECS adds that is not listed above | never, until it is classified |\n",
    );
    out
}

#[cfg(test)]
mod tests;
