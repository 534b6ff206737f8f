//! The `ecs-sim` command line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use testbed::wait_until_blocking;

const BIN: &str = env!("CARGO_BIN_EXE_ecs-sim");

#[test]
fn serves_on_the_printed_address_and_exits_cleanly_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--tick-ms", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ecs-sim");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let health = ureq::get(&format!("{url}/_sim/health"))
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .expect("health answers");
    assert!(health.contains("true"), "{health}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let exit = wait_until_blocking("ecs-sim to exit", Duration::from_secs(10), || {
        child.try_wait().ok().flatten()
    });
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn bad_arguments_exit_2_naming_the_argument() {
    for (args, named) in [
        (vec!["--tick-ms", "0"], "--tick-ms"),
        (vec!["--listen", "not-an-address"], "--listen"),
    ] {
        let output = Command::new(BIN).args(&args).output().expect("run ecs-sim");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let output = Command::new(BIN)
        .args(["--listen", &addr])
        .output()
        .expect("run ecs-sim");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains(&addr));
}
