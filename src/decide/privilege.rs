//! The groups of what a task may do, each allowed to change only by its label in `ALLOWED_PRIVILEGES`.

/// A group of "what it may do" members: a message must leave them as the running revision has them,
/// unless the policy allows the group (see [`crate::decide::classes`] for which member is in which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    /// A task definition family other than the one the service runs.
    FamilyChange,
    /// `taskRoleArn`; `ALLOWED_TASK_ROLES` allows a given role.
    TaskRole,
    /// `executionRoleArn`; `ALLOWED_EXECUTION_ROLES` allows a given role.
    ExecutionRole,
    /// Secrets, log secret options and environment files; `ALLOWED_SECRETS` allows given references.
    Secrets,
    /// `repositoryCredentials`.
    RepositoryCredentials,
    /// `privileged`.
    Privileged,
    /// `networkMode`.
    NetworkMode,
    /// `pidMode`.
    PidMode,
    /// `ipcMode`.
    IpcMode,
    /// Host-path volumes and Docker volumes, whose drivers and options can reach the host.
    HostVolumes,
    /// EFS, FSx for Windows File Server and S3 Files volumes.
    FileSystems,
    /// Volumes as such, mount points and `volumesFrom`.
    Mounts,
    /// `linuxParameters.devices`.
    Devices,
    /// `linuxParameters.capabilities`, added and dropped.
    Capabilities,
    /// `dockerSecurityOptions`.
    DockerSecurityOptions,
    /// `credentialSpecs` (Active Directory identities).
    CredentialSpecs,
    /// `user`.
    User,
    /// `readonlyRootFilesystem`.
    ReadOnlyRoot,
    /// Ulimits, sysctls, shared memory, tmpfs and swap.
    Kernel,
    /// Ports, host names, DNS, links, networking off, and the proxy configuration.
    Network,
    /// Log drivers, their options and FireLens.
    Logging,
    /// `dockerLabels`, which routers and agents read.
    Labels,
    /// The task definition's tags, which IAM conditions read.
    Tags,
    /// Placement constraints, launch types and the runtime platform.
    Placement,
    /// GPUs, accelerators and ephemeral storage.
    Resources,
    /// `restartPolicy`.
    RestartPolicy,
    /// `versionConsistency`.
    VersionConsistency,
    /// `enableFaultInjection`.
    FaultInjection,
    /// `trustedExecutionConfiguration`.
    TrustedExecution,
}

impl Privilege {
    /// Every group, in the order the settings and docs/security.md list them.
    pub const ALL: [Self; 29] = [
        Self::FamilyChange,
        Self::TaskRole,
        Self::ExecutionRole,
        Self::Secrets,
        Self::RepositoryCredentials,
        Self::Privileged,
        Self::NetworkMode,
        Self::PidMode,
        Self::IpcMode,
        Self::HostVolumes,
        Self::FileSystems,
        Self::Mounts,
        Self::Devices,
        Self::Capabilities,
        Self::DockerSecurityOptions,
        Self::CredentialSpecs,
        Self::User,
        Self::ReadOnlyRoot,
        Self::Kernel,
        Self::Network,
        Self::Logging,
        Self::Labels,
        Self::Tags,
        Self::Placement,
        Self::Resources,
        Self::RestartPolicy,
        Self::VersionConsistency,
        Self::FaultInjection,
        Self::TrustedExecution,
    ];

    /// Labels of earlier versions, still read: `host_network` allowed only `networkMode` `host`, and now
    /// allows any change of `networkMode`, as `network_mode` does.
    const ALIASES: [(&'static str, Self); 3] = [
        ("host_network", Self::NetworkMode),
        ("host_pid", Self::PidMode),
        ("host_ipc", Self::IpcMode),
    ];

    /// As `ALLOWED_PRIVILEGES` spells it, and as the refusal's rule.
    pub fn label(self) -> &'static str {
        match self {
            Self::FamilyChange => "family_change",
            Self::TaskRole => "task_role",
            Self::ExecutionRole => "execution_role",
            Self::Secrets => "secrets",
            Self::RepositoryCredentials => "repository_credentials",
            Self::Privileged => "privileged",
            Self::NetworkMode => "network_mode",
            Self::PidMode => "pid_mode",
            Self::IpcMode => "ipc_mode",
            Self::HostVolumes => "host_volumes",
            Self::FileSystems => "file_systems",
            Self::Mounts => "mounts",
            Self::Devices => "devices",
            Self::Capabilities => "capabilities",
            Self::DockerSecurityOptions => "docker_security_options",
            Self::CredentialSpecs => "credential_specs",
            Self::User => "user",
            Self::ReadOnlyRoot => "read_only_root",
            Self::Kernel => "kernel",
            Self::Network => "network",
            Self::Logging => "logging",
            Self::Labels => "labels",
            Self::Tags => "tags",
            Self::Placement => "placement",
            Self::Resources => "resources",
            Self::RestartPolicy => "restart_policy",
            Self::VersionConsistency => "version_consistency",
            Self::FaultInjection => "fault_injection",
            Self::TrustedExecution => "trusted_execution",
        }
    }

    /// The group `ALLOWED_PRIVILEGES` names with `label` (or an earlier version's label for it).
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.label() == label)
            .or_else(|| {
                Self::ALIASES
                    .into_iter()
                    .find(|(alias, _)| *alias == label)
                    .map(|(_, p)| p)
            })
    }

    /// The setting that allows a given value of the group besides `ALLOWED_PRIVILEGES`, where there is one.
    pub fn value_setting(self) -> Option<&'static str> {
        match self {
            Self::TaskRole => Some("ALLOWED_TASK_ROLES"),
            Self::ExecutionRole => Some("ALLOWED_EXECUTION_ROLES"),
            Self::Secrets | Self::RepositoryCredentials => Some("ALLOWED_SECRETS"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_reads_back_and_old_labels_still_work() {
        for privilege in Privilege::ALL {
            assert_eq!(Privilege::from_label(privilege.label()), Some(privilege));
        }
        assert_eq!(
            Privilege::from_label("host_network"),
            Some(Privilege::NetworkMode)
        );
        assert_eq!(Privilege::from_label("root"), None);
    }
}
