//! The admission policy read from the environment (`ALLOWED_*` and the others below) and from the policy file
//! (`POLICY_FILE`, TOML), each error naming the variable or the file's entry.
//!
//! Lists are comma-separated globs; a comma inside `{...}` belongs to the glob. The file has the same
//! settings, lower-cased, and `[[service]]` sections whose settings replace the defaults for the services
//! they `match`. A setting given both in the environment and in the file is an error, not a precedence.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::decide::policy::{Globs, Policy, Privilege, Rules, ServiceRules, glob_escape};
use crate::decide::resources::{cpu_units, memory_mib};
use forms::{Amount, Families, OneOrMany, amount};

/// Every variable of the policy.
pub const POLICY_VARIABLES: &[&str] = &[
    "ALLOWED_SERVICES",
    "DENIED_SERVICES",
    "ALLOWED_CLUSTERS",
    "ALLOW_REGISTER_ONLY",
    "ALLOW_NEW_FAMILIES",
    "ALLOWED_COMMIT_URLS",
    "ALLOWED_REPLY_QUEUES",
    "ALLOWED_IMAGES",
    "REQUIRE_IMAGE_DIGEST",
    "ALLOWED_TASK_ROLES",
    "ALLOWED_EXECUTION_ROLES",
    "ALLOWED_PRIVILEGES",
    "ALLOWED_SECRETS",
    "MAX_TASK_CPU",
    "MAX_TASK_MEMORY",
    "POLICY_FILE",
];

/// The policy's settings, each as the environment or the file gives it (`None`: not given).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    allowed_services: Option<Vec<String>>,
    denied_services: Option<Vec<String>>,
    allowed_clusters: Option<Vec<String>>,
    allow_register_only: Option<Families>,
    allow_new_families: Option<Families>,
    allowed_commit_urls: Option<Vec<String>>,
    allowed_reply_queues: Option<Vec<String>>,
    allowed_images: Option<Vec<String>>,
    require_image_digest: Option<bool>,
    allowed_task_roles: Option<Vec<String>>,
    allowed_execution_roles: Option<Vec<String>>,
    allowed_privileges: Option<Vec<String>>,
    allowed_secrets: Option<Vec<String>>,
    max_task_cpu: Option<Amount>,
    max_task_memory: Option<Amount>,
    /// The file's sections; not a variable.
    #[serde(default)]
    service: Vec<Section>,
}

/// One `[[service]]` section of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    /// The services (families, for register-only) it is for.
    #[serde(rename = "match")]
    services: OneOrMany,
    allowed_images: Option<Vec<String>>,
    require_image_digest: Option<bool>,
    allowed_task_roles: Option<Vec<String>>,
    allowed_execution_roles: Option<Vec<String>>,
    allowed_privileges: Option<Vec<String>>,
    allowed_secrets: Option<Vec<String>>,
    max_task_cpu: Option<Amount>,
    max_task_memory: Option<Amount>,
}

/// Reads the policy from `vars` (the policy's variables among them), and the file `POLICY_FILE` names;
/// `cluster` is `ECS_CLUSTER`, the only cluster allowed by default.
pub fn read(vars: &[(String, String)], cluster: &str) -> Result<Policy, Problem> {
    let var = |name: &str| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let list = |name: &'static str| var(name).map(split_list);
    let flag = |name: &'static str| -> Result<Option<bool>, Problem> {
        var(name)
            .map(|v| {
                crate::ops::config::values::parse_bool(v)
                    .ok_or((name, format!("expected true or false, got {v:?}")))
            })
            .transpose()
    };
    let env = Settings {
        allowed_services: list("ALLOWED_SERVICES"),
        denied_services: list("DENIED_SERVICES"),
        allowed_clusters: list("ALLOWED_CLUSTERS"),
        allow_register_only: var("ALLOW_REGISTER_ONLY").map(Families::from_var),
        allow_new_families: var("ALLOW_NEW_FAMILIES").map(Families::from_var),
        allowed_commit_urls: list("ALLOWED_COMMIT_URLS"),
        allowed_reply_queues: list("ALLOWED_REPLY_QUEUES"),
        allowed_images: list("ALLOWED_IMAGES"),
        require_image_digest: flag("REQUIRE_IMAGE_DIGEST")?,
        allowed_task_roles: list("ALLOWED_TASK_ROLES"),
        allowed_execution_roles: list("ALLOWED_EXECUTION_ROLES"),
        allowed_privileges: list("ALLOWED_PRIVILEGES"),
        allowed_secrets: list("ALLOWED_SECRETS"),
        max_task_cpu: var("MAX_TASK_CPU").map(|v| Amount::Text(v.to_owned())),
        max_task_memory: var("MAX_TASK_MEMORY").map(|v| Amount::Text(v.to_owned())),
        service: Vec::new(),
    };
    let file = match var("POLICY_FILE") {
        None => Settings::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ("POLICY_FILE", format!("cannot read {path}: {e}")))?;
            toml::from_str(&text).map_err(|e| ("POLICY_FILE", format!("{path}: {e}")))?
        }
    };
    build(env, file, cluster).map_err(|(variable, problem)| match var("POLICY_FILE") {
        Some(path) if variable == "POLICY_FILE" => (variable, format!("{path}: {problem}")),
        _ => (variable, problem),
    })
}

/// The policy from the environment's settings and the file's.
fn build(env: Settings, file: Settings, cluster: &str) -> Result<Policy, Problem> {
    // Each setting from one place: the environment or the file.
    macro_rules! one {
        ($field:ident, $variable:literal) => {
            match (env.$field, file.$field) {
                (Some(_), Some(_)) => {
                    return Err((
                        $variable,
                        format!(
                            "is set both in the environment and in POLICY_FILE (as {}); set it in one place",
                            stringify!($field)
                        ),
                    ));
                }
                (Some(value), None) => Some((value, $variable)),
                (None, Some(value)) => Some((value, "POLICY_FILE")),
                (None, None) => None,
            }
        };
    }
    let globs = |given: Option<(Vec<String>, &'static str)>,
                 what: &str|
     -> Result<Option<Globs>, Problem> {
        given
            .map(|(patterns, from)| {
                Globs::new(&patterns).map_err(|e| (from, format!("{what}: {e}")))
            })
            .transpose()
    };
    let services = globs(
        one!(allowed_services, "ALLOWED_SERVICES"),
        "allowed_services",
    )?;
    let denied = globs(one!(denied_services, "DENIED_SERVICES"), "denied_services")?;
    let clusters = globs(
        one!(allowed_clusters, "ALLOWED_CLUSTERS"),
        "allowed_clusters",
    )?;
    let families = |given: Option<(Families, &'static str)>, what: &str| {
        globs(given.map(|(f, from)| (f.patterns(), from)), what)
    };
    let register_only = families(
        one!(allow_register_only, "ALLOW_REGISTER_ONLY"),
        "allow_register_only",
    )?;
    let new_families = families(
        one!(allow_new_families, "ALLOW_NEW_FAMILIES"),
        "allow_new_families",
    )?;
    let commit_urls = one!(allowed_commit_urls, "ALLOWED_COMMIT_URLS");
    let reply_queues = globs(
        one!(allowed_reply_queues, "ALLOWED_REPLY_QUEUES"),
        "allowed_reply_queues",
    )?;
    let given = RulesGiven {
        images: one!(allowed_images, "ALLOWED_IMAGES"),
        require_image_digest: one!(require_image_digest, "REQUIRE_IMAGE_DIGEST"),
        task_roles: one!(allowed_task_roles, "ALLOWED_TASK_ROLES"),
        execution_roles: one!(allowed_execution_roles, "ALLOWED_EXECUTION_ROLES"),
        privileges: one!(allowed_privileges, "ALLOWED_PRIVILEGES"),
        secrets: one!(allowed_secrets, "ALLOWED_SECRETS"),
        max_task_cpu: one!(max_task_cpu, "MAX_TASK_CPU"),
        max_task_memory: one!(max_task_memory, "MAX_TASK_MEMORY"),
    };
    let defaults = given.rules(&Rules::default(), None)?;
    let mut per_service = Vec::with_capacity(file.service.len());
    for (i, section) in file.service.into_iter().enumerate() {
        let patterns = section.services.list();
        let name = format!("[[service]] #{} (match {})", i + 1, patterns.join(", "));
        let at = |problem: String| ("POLICY_FILE", format!("{name}: {problem}"));
        let services = Globs::new(&patterns).map_err(|e| at(format!("match: {e}")))?;
        if services.is_empty() {
            return Err(at("match: names no service".into()));
        }
        let given = RulesGiven {
            images: from_file(section.allowed_images),
            require_image_digest: from_file(section.require_image_digest),
            task_roles: from_file(section.allowed_task_roles),
            execution_roles: from_file(section.allowed_execution_roles),
            privileges: from_file(section.allowed_privileges),
            secrets: from_file(section.allowed_secrets),
            max_task_cpu: from_file(section.max_task_cpu),
            max_task_memory: from_file(section.max_task_memory),
        };
        let rules = given
            .rules(&defaults, Some(patterns.join(", ")))
            .map_err(|(_, problem)| at(problem))?;
        per_service.push(ServiceRules { services, rules });
    }
    let default = Policy::default_for(cluster);
    Ok(Policy {
        services: services.unwrap_or(default.services),
        denied_services: denied.unwrap_or(default.denied_services),
        clusters: clusters
            .unwrap_or_else(|| Globs::new(&[glob_escape(cluster)]).unwrap_or_default()),
        register_only: register_only.unwrap_or_default(),
        new_families: new_families.unwrap_or_default(),
        commit_urls: commit_urls.map(|(urls, _)| urls).unwrap_or_default(),
        reply_queues: reply_queues.unwrap_or_default(),
        defaults,
        per_service,
    })
}

/// A setting of the file, marked as coming from it.
fn from_file<T>(value: Option<T>) -> Option<(T, &'static str)> {
    value.map(|v| (v, "POLICY_FILE"))
}

/// Rules as given (each with where from), over a base.
struct RulesGiven {
    images: Option<(Vec<String>, &'static str)>,
    require_image_digest: Option<(bool, &'static str)>,
    task_roles: Option<(Vec<String>, &'static str)>,
    execution_roles: Option<(Vec<String>, &'static str)>,
    privileges: Option<(Vec<String>, &'static str)>,
    secrets: Option<(Vec<String>, &'static str)>,
    max_task_cpu: Option<(Amount, &'static str)>,
    max_task_memory: Option<(Amount, &'static str)>,
}

impl RulesGiven {
    /// `base` with what is given replacing its settings.
    fn rules(self, base: &Rules, section: Option<String>) -> Result<Rules, Problem> {
        let globs = |given: Option<(Vec<String>, &'static str)>, what: &str| {
            given
                .map(|(patterns, from)| {
                    Globs::new(&patterns).map_err(|e| (from, format!("{what}: {e}")))
                })
                .transpose()
        };
        let privileges = match self.privileges {
            None => base.privileges.clone(),
            Some((labels, from)) => labels
                .iter()
                .map(|label| {
                    Privilege::from_label(label).ok_or_else(|| {
                        let known: Vec<&str> = Privilege::ALL.iter().map(|p| p.label()).collect();
                        (
                            from,
                            format!(
                                "allowed_privileges: {label:?} is not one of {}",
                                known.join(", ")
                            ),
                        )
                    })
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
        };
        Ok(Rules {
            section,
            images: match globs(self.images, "allowed_images")? {
                Some(images) => Some(images),
                None => base.images.clone(),
            },
            require_image_digest: self
                .require_image_digest
                .map_or(base.require_image_digest, |(v, _)| v),
            task_roles: globs(self.task_roles, "allowed_task_roles")?
                .unwrap_or_else(|| base.task_roles.clone()),
            execution_roles: globs(self.execution_roles, "allowed_execution_roles")?
                .unwrap_or_else(|| base.execution_roles.clone()),
            privileges,
            secrets: globs(self.secrets, "allowed_secrets")?
                .unwrap_or_else(|| base.secrets.clone()),
            max_task_cpu: amount(
                self.max_task_cpu,
                "max_task_cpu",
                "CPU units or vCPU",
                cpu_units,
            )?
            .or(base.max_task_cpu),
            max_task_memory: amount(
                self.max_task_memory,
                "max_task_memory",
                "MiB or GB",
                memory_mib,
            )?
            .or(base.max_task_memory),
        })
    }
}

mod forms;

pub use forms::{Problem, split_list};

#[cfg(test)]
mod tests;
