//! moto's server as a child process on a free loopback port, stopped with its test.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::local::{STARTUP_DEADLINE, free_port, http_get, venv_bin, workspace_root};

/// moto's server on a free loopback port, stopped (and its log removed) on drop.
pub struct Moto {
    /// The moto server process (`scripts/moto-server.py`).
    child: Child,
    /// The port it listens on.
    port: u16,
    /// Where its output goes, shown when it fails to start.
    log: PathBuf,
}

impl Moto {
    /// Starts moto's server and waits until it answers HTTP.
    pub fn start() -> Self {
        let mut last_log = String::new();
        // Another process can take the free port between choosing and binding it: try a few.
        for _ in 0..5 {
            let port = free_port();
            match Self::start_on(port) {
                Ok(moto) => return moto,
                Err(log) => last_log = log,
            }
        }
        panic!("moto's server did not start; its last output:\n{last_log}");
    }

    /// Starts moto's server on a given port (to bring it back on the same port after [`Moto::stop`]).
    pub fn start_on_port(port: u16) -> Self {
        Self::start_on(port)
            .unwrap_or_else(|log| panic!("moto's server did not start on port {port}:\n{log}"))
    }

    fn start_on(port: u16) -> Result<Self, String> {
        let python = venv_bin("python");
        let launcher = workspace_root().join("scripts/moto-server.py");
        static STARTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = std::env::temp_dir().join(format!(
            "testbed-moto-{}-{port}-{n}.log",
            std::process::id()
        ));
        let output =
            std::fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let errors = output.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(&python);
        command
            .arg(&launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors);
        die_with_parent(&mut command);
        let child = command
            .spawn()
            .map_err(|e| format!("spawn {} {}: {e}", python.display(), launcher.display()))?;
        let mut moto = Self { child, port, log };
        let start = Instant::now();
        loop {
            if http_get(&format!("{}/moto-api/", moto.endpoint())).is_ok() {
                return Ok(moto);
            }
            let exited = matches!(moto.child.try_wait(), Ok(Some(_)));
            if exited || start.elapsed() > STARTUP_DEADLINE {
                return Err(moto.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its endpoint URL, for `AWS_ENDPOINT_URL_SQS` or `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of moto's server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it now (an outage); all its queues are gone, as with a restarted emulator.
    pub fn stop(self) {}

    /// Stops it in place (an outage): connections are refused until [`Moto::start_again`].
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port after [`Moto::kill`]; it comes back empty, as a restarted
    /// emulator does.
    pub fn start_again(&mut self) {
        self.kill();
        let mut again = Self::start_on_port(self.port);
        std::mem::swap(self, &mut again);
    }

    fn output(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Makes the child get SIGKILL when the thread that started it ends, so a test process killed by its
/// runner leaves no emulator behind.
fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches only the calling (child) process.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}
