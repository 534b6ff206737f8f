//! The worker as the real binary, its JSON log read line by line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{Bed, REPORT_DEADLINE};

/// The real binary, with JSON logs read line by line; killed on drop.
pub struct WorkerProcess {
    /// The `ecs-deployment` process.
    child: Child,
    /// Its stderr lines as they come.
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far, parsed.
    pub log: Vec<Value>,
}

impl WorkerProcess {
    /// Starts the binary against the bed: fast polls, JSON logs, and the given overrides.
    pub fn start(bed: &Bed, overrides: &[(&str, &str)]) -> Self {
        let mut env: HashMap<String, String> = bed
            .bed
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        for (k, v) in [
            ("SQS_URL", bed.queue_url.as_str()),
            ("ECS_POLL_INTERVAL", "50ms"),
            ("ECS_TIMEOUT", "30s"),
            ("SQS_WAIT_TIME", "1"),
            ("LOG_FORMAT", "json"),
        ]
        .into_iter()
        .chain(overrides.iter().copied())
        {
            env.insert(k.to_owned(), v.to_owned());
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-deployment"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&env)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the worker");
        let (tx, lines) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Reads the log until a line with this `message` (and matching `also`) appears; returns it.
    pub fn wait_for(&mut self, message: &str, also: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + REPORT_DEADLINE;
        if let Some(found) = self.log.iter().find(|l| l["message"] == message && also(l)) {
            return found.clone();
        }
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = self.lines.recv_timeout(remaining) else {
                panic!(
                    "no '{message}' line within {REPORT_DEADLINE:?}; the log:\n{}",
                    self.log_text()
                );
            };
            let entry: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            self.log.push(entry.clone());
            if entry["message"] == message && also(&entry) {
                return entry;
            }
        }
    }

    /// The process's resident memory in KiB, as Linux reports it (`VmRSS` of `/proc/PID/status`).
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the worker's /proc status (Linux)");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// For a worker started with `LOG_FORMAT=text`: reads its raw lines until `count` of them contain
    /// `needle`, and returns every line read.
    pub fn raw_lines_until(&mut self, needle: &str, count: usize) -> Vec<String> {
        let mut lines = Vec::new();
        while lines
            .iter()
            .filter(|l: &&String| l.contains(needle))
            .count()
            < count
        {
            let Ok(line) = self.lines.recv_timeout(REPORT_DEADLINE) else {
                panic!(
                    "fewer than {count} lines with '{needle}', and no line for {REPORT_DEADLINE:?}:\n{}",
                    lines.join("\n")
                );
            };
            lines.push(line);
        }
        lines
    }

    /// Reads the log until `count` lines with this `message` have appeared; fails when the log is silent
    /// for as long as a report may take.
    pub fn wait_count(&mut self, message: &str, count: usize) {
        while self.lines_with(message).len() < count {
            let Ok(line) = self.lines.recv_timeout(REPORT_DEADLINE) else {
                panic!(
                    "{} '{message}' lines of {count}, and no line for {REPORT_DEADLINE:?}",
                    self.lines_with(message).len()
                );
            };
            let entry: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            self.log.push(entry);
        }
    }

    /// Lines read so far with this `message`.
    pub fn lines_with(&self, message: &str) -> Vec<&Value> {
        self.log
            .iter()
            .filter(|l| l["message"] == message)
            .collect()
    }

    /// The log read so far, one line per entry.
    pub fn log_text(&self) -> String {
        self.log
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{name}");
    }

    /// Waits for the process to exit and gives its exit code (`None` when killed by a signal).
    pub fn wait_exit(&mut self) -> Option<i32> {
        let status = testbed::wait_until_blocking("the worker to exit", REPORT_DEADLINE, || {
            self.child.try_wait().ok().flatten()
        });
        // Drain what it wrote before exiting.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            if let Ok(entry) = serde_json::from_str(&line) {
                self.log.push(entry);
            }
        }
        status.code()
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
