//! The admission policy, as plain values: which services, clusters, images, roles, secrets and privileges a
//! message may use, per service, and who the worker itself is (which no message may target).
//!
//! With nothing configured, a message may change what a service runs but not what the service may do: the
//! guard ([`crate::decide::guard`]) compares it with the revision the service runs now. Every list below
//! widens or narrows that, and each takes globs.

use std::collections::BTreeSet;
use std::fmt;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Glob patterns, kept as given for messages: `*` and `?` stay within one `/`-separated part, `**` crosses
/// parts, `[abc]` is a class. Case matters, as it does in AWS names.
#[derive(Clone, Default)]
pub struct Globs {
    /// The patterns as written, for messages and equality.
    patterns: Vec<String>,
    /// The patterns compiled into one matcher.
    set: GlobSet,
}

impl Globs {
    /// Compiles the patterns; the error names the one that is not a valid glob.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, String> {
        let mut builder = GlobSetBuilder::new();
        let mut kept = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            let pattern = pattern.as_ref().trim();
            if pattern.is_empty() {
                continue;
            }
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("{pattern:?} is not a valid glob: {}", e.kind()))?;
            builder.add(glob);
            kept.push(pattern.to_owned());
        }
        let set = builder
            .build()
            .map_err(|e| format!("the globs cannot be combined: {e}"))?;
        Ok(Self {
            patterns: kept,
            set,
        })
    }

    /// Globs that match nothing.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether any pattern matches `text`.
    pub fn matches(&self, text: &str) -> bool {
        self.set.is_match(text)
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

impl PartialEq for Globs {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for Globs {}

impl fmt::Debug for Globs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.patterns).finish()
    }
}

pub use crate::decide::privilege::Privilege;

/// What a message may put in the task definition of one service (or family, for register-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Where these rules come from, for refusals: `None` for the environment's settings, or the policy
    /// file's service section they come from.
    pub section: Option<String>,
    /// `ALLOWED_IMAGES`: images a container may use besides those of the repository of the image it
    /// replaces (for a new container, of a repository the revision already uses).
    pub images: Option<Globs>,
    /// `REQUIRE_IMAGE_DIGEST`: every image must be pinned by `@sha256:` digest.
    pub require_image_digest: bool,
    /// `ALLOWED_TASK_ROLES`: task roles a message may set besides the one the service has now.
    pub task_roles: Globs,
    /// `ALLOWED_EXECUTION_ROLES`: execution roles a message may set besides the one the service has now.
    pub execution_roles: Globs,
    /// `ALLOWED_PRIVILEGES`: privileges a message may add.
    pub privileges: BTreeSet<Privilege>,
    /// `ALLOWED_SECRETS`: secrets and parameters a message may refer to besides those the service refers
    /// to now (`secrets[].valueFrom`, `secretOptions`, `credentialsParameter`, `environmentFiles`).
    pub secrets: Globs,
    /// `MAX_TASK_CPU`: the most CPU units a task may ask for; `None` leaves it to ECS's own limits.
    pub max_task_cpu: Option<u64>,
    /// `MAX_TASK_MEMORY`: the most MiB a task may ask for; `None` leaves it to ECS's own limits.
    pub max_task_memory: Option<u64>,
}

impl Default for Rules {
    /// No escalation: only what the current revision already has.
    fn default() -> Self {
        Self {
            section: None,
            images: None,
            require_image_digest: false,
            task_roles: Globs::none(),
            execution_roles: Globs::none(),
            privileges: BTreeSet::new(),
            secrets: Globs::none(),
            max_task_cpu: None,
            max_task_memory: None,
        }
    }
}

/// A policy file's rules for the services one glob matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRules {
    /// The services (names; families for register-only) these rules are for.
    pub services: Globs,
    /// The rules, replacing the defaults for those services.
    pub rules: Rules,
}

/// The whole admission policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `ALLOWED_SERVICES`: services a message may deploy (default `*`); for register-only, families.
    pub services: Globs,
    /// `DENIED_SERVICES`: services no message may deploy, whatever else allows them.
    pub denied_services: Globs,
    /// `ALLOWED_CLUSTERS`: clusters a message's `cluster` attribute may pick (default `ECS_CLUSTER` only).
    pub clusters: Globs,
    /// `ALLOW_REGISTER_ONLY`: the families a message with `service` = `false` (register without
    /// deploying) may register into; none by default, since such a revision is judged against no service.
    pub register_only: Globs,
    /// `ALLOW_NEW_FAMILIES`: the families register-only may create, having no ACTIVE revision to be judged
    /// against; their first revision is judged against an empty one, so everything it may do needs a setting.
    pub new_families: Globs,
    /// `ALLOWED_COMMIT_URLS`: prefixes a `commit_url` must start with; empty allows any http(s) URL.
    pub commit_urls: Vec<String>,
    /// `ALLOWED_REPLY_QUEUES`: reply queues allowed besides those in the worker's own region and account.
    pub reply_queues: Globs,
    /// The rules for services no section of the policy file matches.
    pub defaults: Rules,
    /// The policy file's sections, the first that matches a service applying to it.
    pub per_service: Vec<ServiceRules>,
}

impl Policy {
    /// The policy with nothing configured: any service in `cluster`, no escalation.
    pub fn default_for(cluster: &str) -> Self {
        Self {
            services: Globs::new(&["*"]).unwrap_or_default(),
            denied_services: Globs::none(),
            clusters: Globs::new(&[glob_escape(cluster)]).unwrap_or_default(),
            register_only: Globs::none(),
            new_families: Globs::none(),
            commit_urls: Vec::new(),
            reply_queues: Globs::none(),
            defaults: Rules::default(),
            per_service: Vec::new(),
        }
    }

    /// The rules for a service (or, for register-only, a family).
    pub fn rules_for(&self, name: &str) -> &Rules {
        self.per_service
            .iter()
            .find(|s| s.services.matches(name))
            .map_or(&self.defaults, |s| &s.rules)
    }
}

/// Who the worker is, so that no message can target it; and where it is, so that messages stay there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The region the worker's clients call.
    pub region: Option<String>,
    /// The AWS account the worker runs in.
    pub account: Option<String>,
    /// The deployment queue's URL: replies may go to queues of its endpoint (so region) and account.
    pub queue_url: Option<String>,
    /// The deployment queue's dead-letter queue, when it has one: like the deployment queue itself, never
    /// a reply target (a reply there would be read as a deployment, or as a rejected one).
    pub dead_letter_queue_url: Option<String>,
    /// The worker's own service, as (cluster, service name), when it runs in one.
    pub service: Option<(String, String)>,
    /// The worker's own task definition family, when known.
    pub family: Option<String>,
    /// The name of the IAM role the worker runs as, when it runs as one.
    pub role: Option<String>,
}

/// `text` with glob characters escaped, so that it matches only itself.
pub fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_stay_within_one_part_unless_asked() {
        let images = Globs::new(&[
            "123456789012.dkr.ecr.*.amazonaws.com/team-a/*",
            "docker.io/library/**",
        ])
        .expect("valid");
        let cases = [
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web:1.2",
                true,
            ),
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/web@sha256:abc",
                true,
            ),
            (
                "123456789012.dkr.ecr.evil.example/x.amazonaws.com/team-a/web:1",
                false,
            ),
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-a/nested/web:1",
                false,
            ),
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-b/web:1",
                false,
            ),
            ("docker.io/library/nginx:1.27", true),
            ("docker.io/library/a/b:1", true),
        ];
        for (image, expected) in cases {
            assert_eq!(images.matches(image), expected, "{image}");
        }
        let err = Globs::new(&["team-[a"]).expect_err("invalid");
        assert!(err.contains("team-[a"), "{err}");
        assert!(!Globs::none().matches(""));
        assert_eq!(Globs::new(&["", " "]).expect("valid"), Globs::none());
    }

    #[test]
    fn a_cluster_name_matches_only_itself() {
        let policy = Policy::default_for("prod[1]*");
        assert!(policy.clusters.matches("prod[1]*"));
        assert!(!policy.clusters.matches("prod1"));
        assert!(policy.services.matches("anything"));
    }

    #[test]
    fn the_first_matching_section_gives_a_service_its_rules() {
        let team_a = Rules {
            section: Some("team-a-*".into()),
            require_image_digest: true,
            ..Rules::default()
        };
        let policy = Policy {
            per_service: vec![
                ServiceRules {
                    services: Globs::new(&["team-a-*"]).expect("valid"),
                    rules: team_a.clone(),
                },
                ServiceRules {
                    services: Globs::new(&["team-*"]).expect("valid"),
                    rules: Rules::default(),
                },
            ],
            ..Policy::default_for("default")
        };
        assert_eq!(policy.rules_for("team-a-web"), &team_a);
        assert_eq!(policy.rules_for("team-b-web"), &Rules::default());
        assert_eq!(policy.rules_for("web"), &policy.defaults);
    }
}
