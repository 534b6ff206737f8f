//! The worker as a child process, and what Linux says about it in `/proc`: resident memory and CPU time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `ecs-deployment`, stopped when dropped.
pub struct WorkerProcess {
    /// The child.
    child: Child,
    /// When it was spawned, to time its start.
    pub spawned: Instant,
    /// Where its log goes, shown when a scenario fails.
    pub log: PathBuf,
}

impl WorkerProcess {
    /// Starts `exe` with exactly `env` (plus `PATH`), its log written to `log`.
    pub fn start(exe: &Path, env: &[(String, String)], log: PathBuf) -> Result<Self, String> {
        let file = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut command = Command::new(exe);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        let spawned = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        Ok(Self {
            child,
            spawned,
            log,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory now and at its peak, in bytes (`VmRSS`, `VmHWM`).
    pub fn memory(&self) -> Result<(u64, u64), String> {
        let path = format!("/proc/{}/status", self.pid());
        let status =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let rss = status_kib(&status, "VmRSS").ok_or_else(|| format!("no VmRSS in {path}"))?;
        let peak = status_kib(&status, "VmHWM").ok_or_else(|| format!("no VmHWM in {path}"))?;
        Ok((rss * 1024, peak * 1024))
    }

    /// CPU time it has used so far, user and system, all threads.
    pub fn cpu_time(&self) -> Result<Duration, String> {
        let path = format!("/proc/{}/stat", self.pid());
        let stat =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let ticks = stat_cpu_ticks(&stat).ok_or_else(|| format!("cannot parse {path}"))?;
        // SAFETY: sysconf only reads a system constant.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let per_second = u64::try_from(per_second)
            .ok()
            .filter(|&t| t > 0)
            .unwrap_or(100);
        Ok(Duration::from_secs_f64(ticks as f64 / per_second as f64))
    }

    /// The tail of its log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Asks it to stop at once (SIGTERM twice) and waits up to `grace`, then kills it. The bench measures
    /// nothing of a stop, and a graceful one waits for the long poll in flight (up to `SQS_WAIT_TIME`); every
    /// deployment has settled by the time a worker is stopped.
    pub fn stop(mut self, grace: Duration) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            for _ in 0..2 {
                // SAFETY: kill only sends a signal to our own child.
                unsafe { libc::kill(pid, libc::SIGTERM) };
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let give_up = Instant::now() + grace;
        while Instant::now() < give_up {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kB` line of `/proc/PID/status`, e.g. `VmRSS: 10240 kB` (a tab after the colon), in KiB.
pub fn status_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// utime + stime, in clock ticks, from `/proc/PID/stat` (fields 14 and 15; the command name in field 2
/// may contain spaces and parentheses, so fields are counted after its last `)`).
pub fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A worker's log at `path`, one JSON object per line (lines that are not JSON left out).
pub fn log_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_lines_are_read_in_kib() {
        let status = "Name:\tecs-deployment\nVmHWM:\t   12000 kB\nVmRSS:\t    9876 kB\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(9876));
        assert_eq!(status_kib(status, "VmHWM"), Some(12000));
        assert_eq!(status_kib(status, "VmSwap"), None);
        assert_eq!(status_kib("VmRSSX: 1 kB", "VmRSS"), None);
    }

    #[test]
    fn cpu_ticks_are_counted_after_the_command_name() {
        let stat = "4242 (ecs (deploy) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 37 5 0 0 20 0 6 0";
        assert_eq!(stat_cpu_ticks(stat), Some(42));
        assert_eq!(stat_cpu_ticks("4242 (x) S 1"), None);
        assert_eq!(stat_cpu_ticks("no parenthesis"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let own = std::fs::read_to_string("/proc/self/stat").expect("own stat");
        assert!(stat_cpu_ticks(&own).is_some(), "{own}");
        let status = std::fs::read_to_string("/proc/self/status").expect("own status");
        assert!(status_kib(&status, "VmRSS").is_some_and(|kib| kib > 0));
    }
}
