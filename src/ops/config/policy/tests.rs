//! Tests of reading the policy: the defaults, lists and globs, the file's sections, and errors that name
//! the variable or the file's entry.

use std::io::Write;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A policy file with `text`, removed when dropped.
struct File(std::path::PathBuf);

impl File {
    fn new(text: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("policy-{}-{n}.toml", std::process::id()));
        let mut file = std::fs::File::create(&path).expect("create the policy file");
        file.write_all(text.as_bytes())
            .expect("write the policy file");
        Self(path)
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn with_nothing_set_any_service_of_ecs_cluster_without_escalation() {
    let policy = read(&vars(&[]), "prod").expect("valid");
    assert_eq!(policy, Policy::default_for("prod"));
    assert!(policy.clusters.matches("prod") && !policy.clusters.matches("staging"));
    assert!(!policy.register_only.matches("web") && !policy.new_families.matches("web"));
}

#[test]
fn register_only_takes_true_false_or_families() {
    for (value, web, api) in [
        ("true", true, true),
        ("false", false, false),
        ("web-*, worker", true, false),
    ] {
        let policy = read(
            &vars(&[
                ("ALLOW_REGISTER_ONLY", value),
                ("ALLOW_NEW_FAMILIES", value),
            ]),
            "prod",
        )
        .expect("valid");
        for (family, expected) in [("web-a", web), ("api", api)] {
            assert_eq!(
                policy.register_only.matches(family),
                expected,
                "{value} {family}"
            );
            assert_eq!(
                policy.new_families.matches(family),
                expected,
                "{value} {family}"
            );
        }
    }
    let file = File::new("allow_register_only = [\"web-*\"]\nallow_new_families = true\n");
    let policy = read(&vars(&[("POLICY_FILE", &file.path())]), "prod").expect("valid");
    assert!(policy.register_only.matches("web-a") && !policy.register_only.matches("api"));
    assert!(policy.new_families.matches("api"));
}

#[test]
fn the_environment_sets_lists_flags_and_privileges() {
    let policy = read(
        &vars(&[
            ("ALLOWED_SERVICES", "team-{a,b}-*, web"),
            ("DENIED_SERVICES", "*-admin"),
            ("ALLOWED_CLUSTERS", "prod,staging"),
            ("ALLOW_REGISTER_ONLY", "false"),
            ("ALLOWED_COMMIT_URLS", "https://github.com/example/"),
            (
                "ALLOWED_IMAGES",
                "123456789012.dkr.ecr.*.amazonaws.com/team-a/*",
            ),
            ("REQUIRE_IMAGE_DIGEST", "yes"),
            ("ALLOWED_PRIVILEGES", "privileged, host_volumes"),
            (
                "ALLOWED_SECRETS",
                "arn:aws:ssm:*:123456789012:parameter/team-a/*",
            ),
        ]),
        "prod",
    )
    .expect("valid");
    assert_eq!(policy.services.patterns(), ["team-{a,b}-*", "web"]);
    assert!(policy.services.matches("team-b-api") && !policy.services.matches("team-c-api"));
    assert!(policy.denied_services.matches("team-a-admin"));
    assert!(policy.clusters.matches("staging"));
    assert!(!policy.register_only.matches("web"));
    assert_eq!(policy.commit_urls, ["https://github.com/example/"]);
    assert!(policy.defaults.require_image_digest);
    assert_eq!(
        policy.defaults.privileges,
        BTreeSet::from([Privilege::Privileged, Privilege::HostVolumes])
    );
    assert!(policy.defaults.images.is_some());
    assert!(policy.per_service.is_empty());
}

#[test]
fn a_file_section_replaces_the_defaults_it_names_and_keeps_the_others() {
    let file = File::new(
        r#"
        # Everything runs from our registry.
        allowed_images = ["123456789012.dkr.ecr.*.amazonaws.com/**"]
        allowed_services = ["team-*"]

        [[service]]
        match = "team-a-*"
        allowed_task_roles = ["arn:aws:iam::123456789012:role/team-a-*"]
        allowed_privileges = ["devices"]

        [[service]]
        match = ["team-b-*", "team-c-*"]
        require_image_digest = true
        "#,
    );
    let policy = read(
        &vars(&[
            ("POLICY_FILE", &file.path()),
            ("ALLOWED_SECRETS", "arn:aws:ssm:*:*:parameter/shared/*"),
        ]),
        "prod",
    )
    .expect("valid");
    assert!(policy.services.matches("team-a-web"));
    let a = policy.rules_for("team-a-web");
    assert_eq!(a.section.as_deref(), Some("team-a-*"));
    assert!(
        a.task_roles
            .matches("arn:aws:iam::123456789012:role/team-a-web")
    );
    assert_eq!(a.privileges, BTreeSet::from([Privilege::Devices]));
    assert_eq!(
        a.images, policy.defaults.images,
        "the defaults' images, kept"
    );
    assert!(
        a.secrets
            .matches("arn:aws:ssm:eu-west-1:1:parameter/shared/db"),
        "the environment's, kept"
    );
    let c = policy.rules_for("team-c-api");
    assert!(c.require_image_digest);
    assert_eq!(c.section.as_deref(), Some("team-b-*, team-c-*"));
    assert!(c.task_roles.is_empty());
    assert_eq!(policy.rules_for("web"), &policy.defaults);
}

#[test]
fn each_bad_setting_is_named() {
    let both = File::new(r#"allowed_images = ["x/*"]"#);
    let unknown = File::new(r#"allowed_imagez = ["x/*"]"#);
    let bad_glob = File::new("[[service]]\nmatch = \"team-a-*\"\nallowed_images = [\"x[\"]\n");
    let bad_privilege =
        File::new("[[service]]\nmatch = \"team-a-*\"\nallowed_privileges = [\"root\"]\n");
    let no_match = File::new("[[service]]\nallowed_images = [\"x/*\"]\n");
    let not_toml = File::new("allowed_images = [");
    let not_toml_path = not_toml.path();
    // (the variables, the variable named, what the problem names)
    type Case<'a> = (Vec<(String, String)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vars(&[("ALLOWED_SERVICES", "team-[a")]),
            "ALLOWED_SERVICES",
            "team-[a",
        ),
        (
            vars(&[("ALLOW_REGISTER_ONLY", "web-[")]),
            "ALLOW_REGISTER_ONLY",
            "web-[",
        ),
        (
            vars(&[("ALLOWED_PRIVILEGES", "privileged,root")]),
            "ALLOWED_PRIVILEGES",
            "\"root\" is not one of family_change",
        ),
        (
            vars(&[("POLICY_FILE", "/nonexistent/policy.toml")]),
            "POLICY_FILE",
            "cannot read /nonexistent/policy.toml",
        ),
        (
            vars(&[("POLICY_FILE", &both.path()), ("ALLOWED_IMAGES", "y/*")]),
            "ALLOWED_IMAGES",
            "both in the environment and in POLICY_FILE",
        ),
        (
            vars(&[("POLICY_FILE", &unknown.path())]),
            "POLICY_FILE",
            "allowed_imagez",
        ),
        (
            vars(&[("POLICY_FILE", &bad_glob.path())]),
            "POLICY_FILE",
            "[[service]] #1 (match team-a-*): allowed_images: \"x[\"",
        ),
        (
            vars(&[("POLICY_FILE", &bad_privilege.path())]),
            "POLICY_FILE",
            "[[service]] #1 (match team-a-*): allowed_privileges: \"root\"",
        ),
        (
            vars(&[("POLICY_FILE", &no_match.path())]),
            "POLICY_FILE",
            "match",
        ),
        (
            vars(&[("POLICY_FILE", &not_toml.path())]),
            "POLICY_FILE",
            &not_toml_path,
        ),
    ];
    for (vars, variable, named) in cases {
        let (got, problem) = read(&vars, "prod").expect_err("invalid");
        assert_eq!(got, variable, "{problem}");
        assert!(problem.contains(named), "{problem} should name {named}");
    }
}

#[test]
fn lists_split_on_commas_outside_braces() {
    assert_eq!(split_list(" a, b ,,c "), ["a", "b", "c"]);
    assert_eq!(split_list("team-{a,b}-*,web"), ["team-{a,b}-*", "web"]);
    assert!(split_list(" , ").is_empty());
}

#[test]
fn cpu_and_memory_limits_are_read_as_ecs_writes_them() {
    let policy = read(
        &vars(&[("MAX_TASK_CPU", "2 vCPU"), ("MAX_TASK_MEMORY", "4096")]),
        "prod",
    )
    .expect("valid");
    assert_eq!(policy.defaults.max_task_cpu, Some(2048));
    assert_eq!(policy.defaults.max_task_memory, Some(4096));
    let file = File::new(
        "max_task_memory = \"8 GB\"\n[[service]]\nmatch = \"batch-*\"\nmax_task_cpu = 4096\n",
    );
    let policy = read(&vars(&[("POLICY_FILE", &file.path())]), "prod").expect("valid");
    assert_eq!(policy.defaults.max_task_memory, Some(8192));
    assert_eq!(policy.defaults.max_task_cpu, None);
    let batch = policy.rules_for("batch-nightly");
    assert_eq!(
        (batch.max_task_cpu, batch.max_task_memory),
        (Some(4096), Some(8192))
    );
    for (variable, value) in [("MAX_TASK_CPU", "lots"), ("MAX_TASK_MEMORY", "0")] {
        let Err((named, problem)) = read(&vars(&[(variable, value)]), "prod") else {
            panic!("{variable}={value} is not a limit");
        };
        assert_eq!(named, variable);
        assert!(problem.contains(value), "{problem}");
    }
}
