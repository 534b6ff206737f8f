//! Runs of the binary's subcommands against the bed, and what they printed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::Bed;

/// What a run of the binary printed, and how it exited.
#[derive(Debug)]
pub struct CliRun {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Bed {
    /// Runs the binary with `args` against the bed (SQS_URL set to the deployment queue), feeding `stdin`.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> CliRun {
        let mut env = self.bed.env();
        env.push(("SQS_URL", self.queue_url.clone()));
        cli(env, args, stdin).await
    }

    /// Runs the CLI with `args` followed by `--wait` (60 s at most, reading every 200 ms).
    pub async fn waiting(&self, args: &[&str]) -> CliRun {
        let mut args = args.to_vec();
        args.extend(["--wait", "--timeout", "60s", "--poll-interval", "200ms"]);
        self.cli(&args, None).await
    }
}

/// Runs the binary with exactly `env` (plus PATH) and `args`, feeding `stdin`; off the async threads.
pub async fn cli(env: Vec<(&'static str, String)>, args: &[&str], stdin: Option<&str>) -> CliRun {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-deployment"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the binary");
        if let Some(mut pipe) = child.stdin.take() {
            pipe.write_all(stdin.unwrap_or_default().as_bytes())
                .expect("write stdin");
        }
        let out = child.wait_with_output().expect("the binary runs");
        CliRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("the binary's runner did not panic")
}

/// Writes `body` to a file of this test process; returns its path.
pub fn file(name: &str, body: &str) -> String {
    let path: PathBuf =
        std::env::temp_dir().join(format!("ecs-deployment-{}-{name}", std::process::id()));
    std::fs::write(&path, body).expect("write a test file");
    path.display().to_string()
}

/// Checks that `run` exited with `code` and printed `stream_has` on either stream.
pub fn expect(run: &CliRun, code: i32, stream_has: &str) {
    assert_eq!(run.code, code, "{run:#?}");
    assert!(
        run.stdout.contains(stream_has) || run.stderr.contains(stream_has),
        "expected {stream_has:?} in {run:#?}"
    );
}

/// Environment with SQS and ECS on a port nothing listens on.
pub fn unreachable() -> Vec<(&'static str, String)> {
    let nowhere = format!("http://127.0.0.1:{}", testbed::free_port());
    let mut env = testbed::isolated_aws_env();
    env.push(("AWS_ENDPOINT_URL_SQS", nowhere.clone()));
    env.push(("AWS_ENDPOINT_URL_ECS", nowhere));
    env.push((
        "SQS_URL",
        "http://127.0.0.1:1/123456789012/deployments".to_owned(),
    ));
    env
}
