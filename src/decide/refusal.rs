//! A policy refusal: the rule that refuses a message, the member or attribute at fault, and the setting
//! that would allow it (or that none does).

use std::fmt;

use crate::decide::policy::Rules;

/// Why the policy refuses a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The rule, as the `rule` label of `ecs_deployment_policy_refusals_total` (`privileged`, `image`).
    pub rule: &'static str,
    /// The member path (`containerDefinitions[1].privileged`) or message attribute at fault.
    pub path: String,
    /// What is not allowed.
    pub what: String,
    /// What it was asked for: `service web`, or `family web` for register-only.
    pub subject: String,
    /// How to allow it: a setting, or why none can.
    pub allow: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "policy: {}: {} for {} ({})",
            self.path, self.what, self.subject, self.allow
        )
    }
}

/// What no setting allows: the worker itself, and other accounts, regions and clusters.
pub const NOT_ALLOWED: &str = "no setting allows this";

/// The setting that would allow it for a service with `rules`: the environment variable, or the key of the
/// policy file's section the rules come from.
pub fn setting(rules: &Rules, variable: &str) -> String {
    match &rules.section {
        None => variable.to_owned(),
        Some(section) => format!(
            "{} in the POLICY_FILE section for {section}",
            variable.to_ascii_lowercase()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_member_and_how_to_allow_it() {
        let refusal = Refusal {
            rule: "privileged",
            path: "containerDefinitions[1].privileged".into(),
            what: "privileged containers are not allowed".into(),
            subject: "service web".into(),
            allow: setting(&Rules::default(), "ALLOWED_PRIVILEGES"),
        };
        assert_eq!(
            refusal.to_string(),
            "policy: containerDefinitions[1].privileged: privileged containers are not allowed for \
             service web (ALLOWED_PRIVILEGES)"
        );
        let section = Rules {
            section: Some("team-a-*".into()),
            ..Rules::default()
        };
        assert_eq!(
            setting(&section, "ALLOWED_IMAGES"),
            "allowed_images in the POLICY_FILE section for team-a-*"
        );
    }
}
