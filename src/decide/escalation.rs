//! What a task definition may do compared with the revision it replaces: each role, host privilege and
//! secret it adds is refused unless that revision already had it or the rules allow it, and its images
//! must be ones the rules allow.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::decide::members::{
    ContainerPowers, Members, containers, host_paths, items, pinned, qualified_image, references,
    text,
};
use crate::decide::names::role_name;
use crate::decide::policy::{Identity, Privilege, Rules};
use crate::decide::refusal::{NOT_ALLOWED, Refusal, setting};

/// Checks `new` against `baseline`, the revision it replaces. Without one (a new family) only what no
/// setting allows and the image rules are checked: the no-escalation rules need something to compare with.
pub fn check(
    new: &Members,
    baseline: Option<&Members>,
    rules: &Rules,
    identity: &Identity,
    subject: &str,
) -> Result<(), Refusal> {
    let check = Check {
        rules,
        subject,
        baseline,
    };
    check.roles(new, identity)?;
    if let Some(baseline) = baseline {
        check.modes(new, baseline)?;
        check.host_volumes(new, baseline)?;
        check.containers(new, baseline)?;
        check.secrets(new, baseline)?;
    }
    check.images(new)
}

/// One check of one task definition.
struct Check<'a> {
    /// The rules for its service or family.
    rules: &'a Rules,
    /// `service web` or `family web`, for refusals.
    subject: &'a str,
    /// The revision it replaces, when there is one.
    baseline: Option<&'a Members>,
}

impl Check<'_> {
    fn refuse(&self, rule: &'static str, path: String, what: String, allow: String) -> Refusal {
        Refusal {
            rule,
            path,
            what,
            subject: self.subject.to_owned(),
            allow,
        }
    }

    /// A refusal of something `privilege` allows.
    fn privilege(&self, privilege: Privilege, path: String, what: String) -> Result<(), Refusal> {
        if self.rules.privileges.contains(&privilege) {
            return Ok(());
        }
        Err(self.refuse(
            privilege.label(),
            path,
            what,
            setting(self.rules, "ALLOWED_PRIVILEGES"),
        ))
    }

    /// The task and execution roles: never the worker's own; another than the current one only when the
    /// rules allow it.
    fn roles(&self, new: &Members, identity: &Identity) -> Result<(), Refusal> {
        let roles = [
            (
                "taskRoleArn",
                "task_role",
                "ALLOWED_TASK_ROLES",
                &self.rules.task_roles,
            ),
            (
                "executionRoleArn",
                "execution_role",
                "ALLOWED_EXECUTION_ROLES",
                &self.rules.execution_roles,
            ),
        ];
        for (member, rule, variable, allowed) in roles {
            let Some(role) = text(new, member) else {
                continue;
            };
            if identity
                .role
                .as_deref()
                .is_some_and(|own| own == role_name(role))
            {
                return Err(self.refuse(
                    "own_role",
                    member.to_owned(),
                    format!("{role} is the role the worker runs as, which no task may be given"),
                    NOT_ALLOWED.to_owned(),
                ));
            }
            let Some(baseline) = self.baseline else {
                continue;
            };
            let current = text(baseline, member);
            if current == Some(role) || allowed.matches(role) {
                continue;
            }
            return Err(self.refuse(
                rule,
                member.to_owned(),
                format!(
                    "{role} is not the role the service has now ({}) and is not allowed",
                    current.unwrap_or("none")
                ),
                setting(self.rules, variable),
            ));
        }
        Ok(())
    }

    /// Host network, PID and IPC namespaces.
    fn modes(&self, new: &Members, baseline: &Members) -> Result<(), Refusal> {
        let modes = [
            ("networkMode", Privilege::HostNetwork, "host networking"),
            (
                "pidMode",
                Privilege::HostPid,
                "the host's process namespace",
            ),
            ("ipcMode", Privilege::HostIpc, "the host's IPC namespace"),
        ];
        for (member, privilege, what) in modes {
            if text(new, member) == Some("host") && text(baseline, member) != Some("host") {
                self.privilege(
                    privilege,
                    member.to_owned(),
                    format!("{what} is not allowed"),
                )?;
            }
        }
        Ok(())
    }

    /// Volumes that bind a host path the current revision does not bind.
    fn host_volumes(&self, new: &Members, baseline: &Members) -> Result<(), Refusal> {
        let bound: BTreeSet<String> = host_paths(baseline).into_iter().map(|(_, p)| p).collect();
        for (path, source) in host_paths(new) {
            if !bound.contains(&source) {
                self.privilege(
                    Privilege::HostVolumes,
                    path,
                    format!("a volume of the host's {source} is not allowed"),
                )?;
            }
        }
        Ok(())
    }

    /// Each container's privileged flag, devices, added capabilities, security options and registry
    /// credentials.
    fn containers(&self, new: &Members, baseline: &Members) -> Result<(), Refusal> {
        let before = ContainerPowers::of(baseline);
        for (i, container) in containers(new) {
            let at = |member: &str| format!("containerDefinitions[{i}].{member}");
            if container.get("privileged") == Some(&Value::Bool(true)) && !before.privileged {
                self.privilege(
                    Privilege::Privileged,
                    at("privileged"),
                    "privileged containers are not allowed".into(),
                )?;
            }
            let linux = container.get("linuxParameters");
            for (j, device) in items(linux.and_then(|l| l.get("devices"))) {
                let host = device.get("hostPath").and_then(Value::as_str).unwrap_or("");
                if !before.devices.contains(host) {
                    self.privilege(
                        Privilege::Devices,
                        at(&format!("linuxParameters.devices[{j}]")),
                        format!("the host's device {host} is not allowed"),
                    )?;
                }
            }
            let added = linux
                .and_then(|l| l.get("capabilities"))
                .and_then(|c| c.get("add"));
            for (j, capability) in items(added) {
                let name = capability.as_str().unwrap_or("");
                if !before.capabilities.contains(name) {
                    self.privilege(
                        Privilege::Capabilities,
                        at(&format!("linuxParameters.capabilities.add[{j}]")),
                        format!("adding the capability {name} is not allowed"),
                    )?;
                }
            }
            for (j, option) in items(container.get("dockerSecurityOptions")) {
                let option = option.as_str().unwrap_or("");
                if !before.security_options.contains(option) {
                    self.privilege(
                        Privilege::DockerSecurityOptions,
                        at(&format!("dockerSecurityOptions[{j}]")),
                        format!("the docker security option {option} is not allowed"),
                    )?;
                }
            }
            if let Some(parameter) = container
                .get("repositoryCredentials")
                .and_then(|r| r.get("credentialsParameter"))
                .and_then(Value::as_str)
                && !before.repository_credentials.contains(parameter)
                && !self.rules.secrets.matches(parameter)
            {
                self.privilege(
                    Privilege::RepositoryCredentials,
                    at("repositoryCredentials.credentialsParameter"),
                    format!("registry credentials from {parameter} are not allowed"),
                )?;
            }
        }
        Ok(())
    }

    /// Secrets, parameters and environment files the current revision does not refer to.
    fn secrets(&self, new: &Members, baseline: &Members) -> Result<(), Refusal> {
        let known: BTreeSet<String> = references(baseline).into_iter().map(|(_, r)| r).collect();
        for (path, reference) in references(new) {
            if !known.contains(&reference) && !self.rules.secrets.matches(&reference) {
                return Err(self.refuse(
                    "secrets",
                    path,
                    format!("{reference} is not one the service refers to now and is not allowed"),
                    setting(self.rules, "ALLOWED_SECRETS"),
                ));
            }
        }
        Ok(())
    }

    /// Images the rules allow, pinned by digest when they ask for it.
    fn images(&self, new: &Members) -> Result<(), Refusal> {
        for (i, container) in containers(new) {
            let image = container.get("image").and_then(Value::as_str).unwrap_or("");
            let path = format!("containerDefinitions[{i}].image");
            if let Some(allowed) = &self.rules.images
                && !allowed.matches(image)
                && !allowed.matches(&qualified_image(image))
            {
                return Err(self.refuse(
                    "image",
                    path,
                    format!("the image {image} is not allowed"),
                    setting(self.rules, "ALLOWED_IMAGES"),
                ));
            }
            if self.rules.require_image_digest && !pinned(image) {
                return Err(self.refuse(
                    "image_digest",
                    path,
                    format!("the image {image} is not pinned by an @sha256: digest"),
                    setting(self.rules, "REQUIRE_IMAGE_DIGEST"),
                ));
            }
        }
        Ok(())
    }
}
