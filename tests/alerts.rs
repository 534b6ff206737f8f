//! The Prometheus alert rules in deploy/prometheus: valid for promtool, each alert's unit tests passing,
//! and every metric they use one the worker exports.

use std::path::PathBuf;
use std::process::{Command, Output};

fn prometheus_dir() -> PathBuf {
    testbed::workspace_root().join("deploy/prometheus")
}

/// promtool, from `make setup` (scripts/setup-promtool.sh); panics saying how to get it.
fn promtool(args: &[&str], dir: &std::path::Path) -> Output {
    let promtool = testbed::workspace_root().join(".venv/bin/promtool");
    assert!(
        promtool.is_file(),
        "{} is missing: run `make setup` (scripts/setup-promtool.sh takes it from Debian's prometheus \
         package), or install Debian's prometheus package or put promtool on PATH and run make setup",
        promtool.display()
    );
    Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool")
}

fn shown(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_alert_rules_are_valid_and_their_unit_tests_pass() {
    let dir = prometheus_dir();
    let check = promtool(&["check", "rules", "alerts.yml"], &dir);
    assert!(check.status.success(), "{}", shown(&check));
    assert!(shown(&check).contains("6 rules found"), "{}", shown(&check));
    let test = promtool(&["test", "rules", "alerts.test.yml"], &dir);
    assert!(test.status.success(), "{}", shown(&test));
}

#[test]
fn the_unit_tests_catch_a_changed_threshold() {
    let dir = std::env::temp_dir().join(format!("alerts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let rules = std::fs::read_to_string(prometheus_dir().join("alerts.yml")).expect("alerts.yml");
    let loosened = rules.replace(
        "increase(ecs_deployment_policy_refusals_total[10m])) > 5",
        "increase(ecs_deployment_policy_refusals_total[10m])) > 50",
    );
    assert_ne!(rules, loosened, "the threshold to change is in alerts.yml");
    std::fs::write(dir.join("alerts.yml"), loosened).expect("write");
    std::fs::copy(
        prometheus_dir().join("alerts.test.yml"),
        dir.join("alerts.test.yml"),
    )
    .expect("copy the tests");
    let test = promtool(&["test", "rules", "alerts.test.yml"], &dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!test.status.success(), "{}", shown(&test));
    assert!(
        shown(&test).contains("EcsDeploymentPolicyRefusalsSpiking"),
        "{}",
        shown(&test)
    );
}

#[test]
fn every_metric_the_rules_use_is_one_the_worker_exports() {
    let rules = std::fs::read_to_string(prometheus_dir().join("alerts.yml")).expect("alerts.yml");
    // Families with labels are shown once they have a series: give each one.
    let metrics = ecs_deployment::ops::metrics::Metrics::new();
    metrics.received(1);
    metrics.finished("failed", std::time::Duration::from_secs(1));
    metrics.load(1, 1);
    metrics.aws_error("ECS", "DescribeServices", "ThrottlingException");
    metrics.notification("teams", "failed");
    metrics.policy_refusal("privileged");
    let exported = metrics.encode();
    let mut used: Vec<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("ecs_deployment_"))
        .collect();
    used.sort();
    used.dedup();
    assert!(used.len() >= 5, "{used:?}");
    for metric in used {
        let family = metric.trim_end_matches("_total");
        assert!(
            exported.contains(&format!("# TYPE {family} ")),
            "alerts.yml uses {metric}, which the worker does not export:\n{exported}"
        );
    }
}
