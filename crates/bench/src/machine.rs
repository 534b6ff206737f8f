//! A one-line description of the machine and tools a run measured on, for the results' header.

use std::process::Command;

use crate::process::status_kib;

/// `2 cores (AMD EPYC 7B13), 23.4 GB memory, Linux 6.1.0 (Debian GNU/Linux 12), rustc 1.95.0`.
pub fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let model = cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown CPU".to_owned());
    let memory = status_kib(&read("/proc/meminfo"), "MemTotal").map_or_else(
        || "unknown".to_owned(),
        |kib| format!("{:.1} GB", kib as f64 * 1024.0 / 1e9),
    );
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let os = os_name(&read("/etc/os-release")).unwrap_or_else(|| "unknown OS".to_owned());
    let rustc = output("rustc", &["--version"]).unwrap_or_else(|| "rustc unknown".to_owned());
    format!("{cores} cores ({model}), {memory} memory, Linux {kernel} ({os}), {rustc}")
}

/// The version a program prints, first line.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then_some(())?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(|l| l.trim().to_owned())
}

/// The first `model name` in `/proc/cpuinfo`.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// `PRETTY_NAME` from `/etc/os-release`.
pub fn os_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.strip_prefix("PRETTY_NAME=")?;
        Some(value.trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_os_names_are_read() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor: 0"), None);
        let os = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            os_name(os).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os_name(""), None);
    }

    #[test]
    fn this_machine_is_described() {
        let text = describe();
        assert!(text.contains(" cores ("), "{text}");
        assert!(text.contains("Linux "), "{text}");
    }
}
