//! What a task definition may do compared with the revision it replaces: every member the classification
//! ([`crate::decide::classes`]) does not know to be what runs must stay as that revision has it, unless the
//! rules allow its group; images stay in their repositories unless `ALLOWED_IMAGES` names them.

use serde_json::Value;

use crate::decide::classes::{Class, class_of};
use crate::decide::members::{Members, containers, pinned, qualified_image, text};
use crate::decide::names::role_name;
use crate::decide::policy::{Identity, Privilege, Rules};
use crate::decide::refusal::{NOT_ALLOWED, Refusal, setting};
use crate::decide::resources::within;
use crate::decide::sameness::{Difference, differences};

/// The rule and the allowance of a member no classification names yet.
const UNCLASSIFIED: &str = "unclassified";

/// Checks `new` against `baseline`, the revision it replaces (an empty one for a new family's first).
pub fn check(
    new: &Members,
    baseline: &Members,
    rules: &Rules,
    identity: &Identity,
    subject: &str,
) -> Result<(), Refusal> {
    let check = Check { rules, subject };
    check.absolute_and_limits(new, identity)?;
    let skip = |list: &str, item: &Value| check.skipped(list, item);
    let wanted = |path: &str| class_of(path) != Class::Runs;
    for difference in differences(new, baseline, &wanted, &skip) {
        check.difference(&difference, new)?;
    }
    check.images(new, baseline)
}

/// The part of [`check`] that needs no revision to compare with: the worker's own role, the CPU and memory
/// limits, and digests where the rules ask for them. For the worker before a message joins its service's
/// schedule, and for a caller that cannot read the revision a message would replace.
pub fn check_alone(
    new: &Members,
    rules: &Rules,
    identity: &Identity,
    subject: &str,
) -> Result<(), Refusal> {
    let check = Check { rules, subject };
    check.absolute_and_limits(new, identity)?;
    for (i, container) in containers(new) {
        check.digest(text(container, "image").unwrap_or(""), i)?;
    }
    Ok(())
}

/// One check of one task definition.
struct Check<'a> {
    /// The rules for its service or family.
    rules: &'a Rules,
    /// `service web` or `family web`, for refusals.
    subject: &'a str,
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

    /// The task and execution roles are never the worker's own.
    fn own_role(&self, new: &Members, identity: &Identity) -> Result<(), Refusal> {
        for member in ["taskRoleArn", "executionRoleArn"] {
            if let Some(role) = text(new, member)
                && identity
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
        }
        Ok(())
    }

    /// What comes first whatever the revision replaced: the worker's own role, then the limits.
    fn absolute_and_limits(&self, new: &Members, identity: &Identity) -> Result<(), Refusal> {
        self.own_role(new, identity)?;
        self.resources(new)
    }

    /// CPU and memory within `MAX_TASK_CPU` and `MAX_TASK_MEMORY`, when set.
    fn resources(&self, new: &Members) -> Result<(), Refusal> {
        within(new, self.rules.max_task_cpu, self.rules.max_task_memory).map_err(
            |(limit, path, what)| {
                let rule = match limit {
                    "MAX_TASK_CPU" => "max_task_cpu",
                    _ => "max_task_memory",
                };
                self.refuse(rule, path, what, setting(self.rules, limit))
            },
        )
    }

    /// List items the comparison leaves out: references `ALLOWED_SECRETS` allows, and the worker's own
    /// marker tags (and AWS's), which are not the producer's.
    fn skipped(&self, list: &str, item: &Value) -> bool {
        let reference = match list {
            "containerDefinitions[].secrets"
            | "containerDefinitions[].logConfiguration.secretOptions" => item.get("valueFrom"),
            "containerDefinitions[].environmentFiles" => item.get("value"),
            "tags" => {
                let key = item.get("key").and_then(Value::as_str).unwrap_or("");
                return key.starts_with(crate::decide::marker::TAG_PREFIX)
                    || key.starts_with("aws:");
            }
            _ => return false,
        };
        reference
            .and_then(Value::as_str)
            .is_some_and(|r| self.rules.secrets.matches(r))
    }

    /// A member that differs from the revision replaced: refused unless the rules allow its group, or the
    /// new value where a setting allows values (roles, registry credentials).
    fn difference(&self, difference: &Difference, new: &Members) -> Result<(), Refusal> {
        let privilege = match class_of(&difference.model) {
            Class::Runs => return Ok(()),
            Class::Power(privilege) => privilege,
            Class::Unclassified => {
                return Err(self.refuse(
                    UNCLASSIFIED,
                    difference.path.clone(),
                    "is a member ecs-deployment does not classify yet, so it must stay as the running revision has it".into(),
                    "no setting allows changing it until the member is classified".into(),
                ));
            }
        };
        if self.rules.privileges.contains(&privilege) {
            return Ok(());
        }
        let value = value_at(new, &difference.path);
        let value_allowed = match privilege {
            Privilege::TaskRole => value.is_some_and(|r| self.rules.task_roles.matches(r)),
            Privilege::ExecutionRole => {
                value.is_some_and(|r| self.rules.execution_roles.matches(r))
            }
            Privilege::RepositoryCredentials => {
                value.is_some_and(|r| self.rules.secrets.matches(r))
            }
            _ => false,
        };
        if value_allowed {
            return Ok(());
        }
        let label = privilege.label();
        let what = match (privilege, difference.removed) {
            (Privilege::TaskRole | Privilege::ExecutionRole, _) => format!(
                "{} is not the role the service has now and is not allowed",
                value.unwrap_or("no role")
            ),
            (_, true) => format!(
                "is part of what the service may do ({label}), and the container or volume it is in is left out"
            ),
            (_, false) => format!(
                "changes what the service may do ({label}): it must stay as the running revision has it, or at ECS's default in a new container or volume"
            ),
        };
        let allow = match privilege.value_setting() {
            Some(values) => format!(
                "{} or {}",
                setting(self.rules, values),
                setting(self.rules, &format!("ALLOWED_PRIVILEGES={label}"))
            ),
            None => setting(self.rules, &format!("ALLOWED_PRIVILEGES={label}")),
        };
        Err(self.refuse(label, difference.path.clone(), what, allow))
    }

    /// Each image from the repository of the image it replaces, or for a new container of one the revision
    /// uses, unless `ALLOWED_IMAGES` names it; pinned by digest when the rules ask for it.
    fn images(&self, new: &Members, baseline: &Members) -> Result<(), Refusal> {
        let replaced: Vec<(&str, &str)> = containers(baseline)
            .map(|(_, c)| {
                (
                    text(c, "name").unwrap_or(""),
                    text(c, "image").unwrap_or(""),
                )
            })
            .collect();
        for (i, container) in containers(new) {
            let image = text(container, "image").unwrap_or("");
            let path = format!("containerDefinitions[{i}].image");
            let allowed = self
                .rules
                .images
                .as_ref()
                .is_some_and(|a| a.matches(image) || a.matches(&qualified_image(image)));
            let name = text(container, "name").unwrap_or("");
            let repo = repository(image);
            let same = match replaced.iter().find(|(n, _)| *n == name) {
                Some((_, old)) => {
                    let old = repository(old);
                    (old == repo).then_some(()).ok_or_else(|| {
                        format!(
                            "the image comes from {repo}, not {old}, the repository of the image it replaces"
                        )
                    })
                }
                None if replaced.is_empty() => Err(format!(
                    "the image comes from {repo}, and the family has no revision whose repositories it could share"
                )),
                None => {
                    let used: Vec<String> = replaced
                        .iter()
                        .map(|(_, image)| repository(image))
                        .collect();
                    used.contains(&repo).then_some(()).ok_or_else(|| {
                        format!(
                            "the new container's image comes from {repo}, not a repository the revision uses ({})",
                            used.join(", ")
                        )
                    })
                }
            };
            match same {
                Ok(()) => {}
                Err(_) if allowed => {}
                Err(what) => {
                    return Err(self.refuse(
                        "image",
                        path,
                        what,
                        setting(self.rules, "ALLOWED_IMAGES"),
                    ));
                }
            }
            self.digest(image, i)?;
        }
        Ok(())
    }

    /// The image of container `i` pinned by digest, when the rules ask for it.
    fn digest(&self, image: &str, i: usize) -> Result<(), Refusal> {
        if self.rules.require_image_digest && !pinned(image) {
            return Err(self.refuse(
                "image_digest",
                format!("containerDefinitions[{i}].image"),
                format!("the image {image} is not pinned by an @sha256: digest"),
                setting(self.rules, "REQUIRE_IMAGE_DIGEST"),
            ));
        }
        Ok(())
    }
}

/// An image's repository, its registry written out and its tag or digest left off:
/// `nginx:1.27` is `docker.io/library/nginx`.
pub fn repository(image: &str) -> String {
    let qualified = qualified_image(image);
    let without_digest = qualified.split('@').next().unwrap_or("");
    match without_digest.rsplit_once('/') {
        Some((path, last)) => {
            let name = last.split(':').next().unwrap_or("");
            format!("{path}/{name}")
        }
        None => without_digest.split(':').next().unwrap_or("").to_owned(),
    }
}

/// The text at a top-level or container member path (`taskRoleArn`,
/// `containerDefinitions[1].repositoryCredentials.credentialsParameter`), if any.
fn value_at<'a>(members: &'a Members, path: &str) -> Option<&'a str> {
    let mut value: Option<&Value> = None;
    for (i, part) in path.split('.').enumerate() {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let next = if i == 0 {
            members.get(name)
        } else {
            value.and_then(|v| v.get(name))
        };
        value = match index {
            Some(index) => next.and_then(|v| v.get(index)),
            None => next,
        };
    }
    value.and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_is_the_image_without_its_tag_or_digest() {
        let cases = [
            ("nginx:1.27", "docker.io/library/nginx"),
            ("nginx", "docker.io/library/nginx"),
            ("grafana/grafana@sha256:abc", "docker.io/grafana/grafana"),
            ("localhost:5000/web:1", "localhost:5000/web"),
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web:1",
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web",
            ),
        ];
        for (image, expected) in cases {
            assert_eq!(repository(image), expected, "{image}");
        }
    }
}
