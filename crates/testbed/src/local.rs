//! This machine as the tests use it: the workspace, the venv's programs, free loopback ports, and the region
//! and account the emulators play.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

/// The region every client and emulator uses.
pub const REGION: &str = "us-east-1";
/// The account id ecs-sim puts in ARNs (moto's default too).
pub const ACCOUNT_ID: &str = "123456789012";
/// How long an emulator may take to answer after it was started.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// The workspace root (where `.venv/` lives).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// A program installed in the project's `.venv/bin`; panics with the set-up command when it is missing.
pub fn venv_bin(program: &str) -> PathBuf {
    let path = workspace_root().join(".venv/bin").join(program);
    assert!(
        path.is_file(),
        "{} is missing: the integration tests need moto's server and the aws CLI in .venv/. \
         Run `make setup` (or `scripts/setup-venv.sh`) in {}, or `make test`, which does it first.",
        path.display(),
        workspace_root().display()
    );
    path
}

/// A free TCP port on 127.0.0.1 (free when asked; the caller retries if something takes it meanwhile).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener
        .local_addr()
        .expect("local address of a bound socket")
        .port()
}

pub(crate) fn http_get(url: &str) -> Result<String, ureq::Error> {
    ureq::get(url).call()?.body_mut().read_to_string()
}
