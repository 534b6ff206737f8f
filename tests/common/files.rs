//! The repository's files the packaging tests read: as text, as JSON, docker-compose.yml through PyYAML, and
//! the configuration and variables they set.

use std::process::Command;

use ecs_deployment::ops::config::{Config, is_variable};
use serde_json::Value;

/// The binary's name.
pub const BINARY: &str = "ecs-deployment";
/// Where the image installs it.
pub const INSTALLED: &str = "/usr/local/bin/ecs-deployment";

/// A file of the repository, as text.
pub fn read(path: &str) -> String {
    std::fs::read_to_string(testbed::workspace_root().join(path))
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// A file of the repository, as JSON.
pub fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// docker-compose.yml as JSON, read by PyYAML from `.venv/` (moto's server depends on it).
pub fn compose() -> Value {
    let out = Command::new(testbed::venv_bin("python"))
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(testbed::workspace_root().join("docker-compose.yml"))
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("docker-compose.yml as JSON")
}

/// Is this a variable the worker reads (or the SDK's, or the log filter)?
pub fn known(variable: &str) -> bool {
    is_variable(variable) || variable.starts_with("AWS_") || variable == "RUST_LOG"
}

/// The worker's configuration from `pairs`, as the binary would read it.
pub fn config(pairs: impl IntoIterator<Item = (String, String)>) -> Config {
    Config::from_vars(pairs).unwrap_or_else(|e| panic!("not a valid configuration: {e}"))
}

/// `text` as JSON.
pub fn json_value(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}
