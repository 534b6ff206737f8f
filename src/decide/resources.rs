//! The CPU and memory a task definition asks for, within the limits a policy may set (`MAX_TASK_CPU`,
//! `MAX_TASK_MEMORY`): what runs may change them freely up to there.
//!
//! ECS reads the task's `cpu` "as an integer using CPU units (for example, 1024) or as a string using
//! vCPUs (for example, 1 vCPU or 1 vcpu)", and its `memory` "as an integer using MiB (for example, 1024)
//! or as a string using GB (for example, 1GB or 1 GB)" (RegisterTaskDefinition). Without task-level values
//! (EC2), a task takes what its containers ask for: their `cpu` units, and for memory each container's
//! hard limit (`memory`) or else its soft one (`memoryReservation`).

use serde_json::Value;

use crate::decide::members::{Members, containers};

/// A limit exceeded, or a value that cannot be read against one: the setting, the member path, and what
/// is wrong.
pub type OverLimit = (&'static str, String, String);

/// Checks `new` against the limits; `None` is no limit.
pub fn within(
    new: &Members,
    max_cpu: Option<u64>,
    max_memory: Option<u64>,
) -> Result<(), OverLimit> {
    if let Some(max) = max_cpu {
        let containers_cpu = containers(new)
            .map(|(i, c)| (format!("containerDefinitions[{i}].cpu"), c.get("cpu")))
            .collect();
        check(
            "MAX_TASK_CPU",
            "CPU units",
            new.get("cpu"),
            containers_cpu,
            max,
            cpu_units,
        )?;
    }
    if let Some(max) = max_memory {
        let containers_memory = containers(new)
            .map(|(i, c)| match c.get("memory") {
                Some(memory) => (format!("containerDefinitions[{i}].memory"), Some(memory)),
                None => (
                    format!("containerDefinitions[{i}].memoryReservation"),
                    c.get("memoryReservation"),
                ),
            })
            .collect();
        check(
            "MAX_TASK_MEMORY",
            "MiB",
            new.get("memory"),
            containers_memory,
            max,
            memory_mib,
        )?;
    }
    Ok(())
}

/// The task's value within `max`, and each container's, and the containers' sum when the task gives none.
fn check(
    setting: &'static str,
    unit: &str,
    task: Option<&Value>,
    containers: Vec<(String, Option<&Value>)>,
    max: u64,
    read: fn(&Value) -> Option<u64>,
) -> Result<(), OverLimit> {
    let over = |path: String, amount: u64| {
        (
            setting,
            path,
            format!("asks for {amount} {unit}, more than the {max} {setting} allows"),
        )
    };
    let unreadable = |path: String| {
        (
            setting,
            path,
            format!("cannot be read as {unit}, so it cannot be checked against {setting}"),
        )
    };
    let member = if setting == "MAX_TASK_CPU" {
        "cpu"
    } else {
        "memory"
    };
    let task = match task {
        Some(value) => Some(read(value).ok_or_else(|| unreadable(member.into()))?),
        None => None,
    };
    if let Some(amount) = task
        && amount > max
    {
        return Err(over(member.into(), amount));
    }
    let mut sum: u64 = 0;
    for (path, value) in containers {
        let Some(value) = value else { continue };
        let amount = read(value).ok_or_else(|| unreadable(path.clone()))?;
        if amount > max {
            return Err(over(path, amount));
        }
        sum = sum.saturating_add(amount);
    }
    if task.is_none() && sum > max {
        return Err(over("containerDefinitions".into(), sum));
    }
    Ok(())
}

/// CPU units from ECS's forms: `1024`, `"1024"`, `"1 vCPU"`, `"0.5 vcpu"`.
pub fn cpu_units(value: &Value) -> Option<u64> {
    amount(value, &["vcpu"], 1024)
}

/// MiB from ECS's forms: `1024`, `"1024"`, `"1 GB"`, `"2GB"`.
pub fn memory_mib(value: &Value) -> Option<u64> {
    amount(value, &["gb"], 1024)
}

/// A whole number, or a number followed by one of `units` (case aside), which counts `scale` each.
fn amount(value: &Value, units: &[&str], scale: u64) -> Option<u64> {
    if let Some(whole) = value.as_u64() {
        return Some(whole);
    }
    let text = value.as_str()?.trim().to_ascii_lowercase();
    if let Ok(whole) = text.parse::<u64>() {
        return Some(whole);
    }
    let number = units
        .iter()
        .find_map(|unit| text.strip_suffix(unit))?
        .trim();
    let parsed: f64 = number.parse().ok()?;
    if !parsed.is_finite() || !(0.0..=1e9).contains(&parsed) {
        return None;
    }
    // Within 1e9 units of 1024, the product fits a u64 exactly enough to compare with a limit.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((parsed * scale as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn members(value: Value) -> Members {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn ecs_forms_of_cpu_and_memory_are_read() {
        let cpu = [
            (json!(256), Some(256)),
            (json!("512"), Some(512)),
            (json!("1 vCPU"), Some(1024)),
            (json!("0.5 vcpu"), Some(512)),
            (json!("2vCPU"), Some(2048)),
            (json!("lots"), None),
            (json!("-1 vCPU"), None),
        ];
        for (value, expected) in cpu {
            assert_eq!(cpu_units(&value), expected, "{value}");
        }
        let memory = [
            (json!(512), Some(512)),
            (json!("1 GB"), Some(1024)),
            (json!("2GB"), Some(2048)),
            (json!("1 GiB"), None),
        ];
        for (value, expected) in memory {
            assert_eq!(memory_mib(&value), expected, "{value}");
        }
    }

    #[test]
    fn what_runs_may_ask_for_cpu_and_memory_up_to_the_limits() {
        let cases: Vec<(&str, Value, Option<&str>)> = vec![
            (
                "task values within",
                json!({"cpu": "1 vCPU", "memory": "2 GB", "containerDefinitions": [{"name": "a"}]}),
                None,
            ),
            (
                "task cpu over",
                json!({"cpu": "4096", "memory": "512", "containerDefinitions": [{"name": "a"}]}),
                Some("cpu"),
            ),
            (
                "task memory over",
                json!({"cpu": "256", "memory": "8 GB", "containerDefinitions": [{"name": "a"}]}),
                Some("memory"),
            ),
            (
                "a container over",
                json!({"containerDefinitions": [{"name": "a", "memory": 8192}]}),
                Some("containerDefinitions[0].memory"),
            ),
            (
                "containers that add up to more, without task values",
                json!({"containerDefinitions": [
                    {"name": "a", "cpu": 1536, "memoryReservation": 1024},
                    {"name": "b", "cpu": 1536, "memoryReservation": 1024}
                ]}),
                Some("containerDefinitions"),
            ),
            (
                "containers within task values",
                json!({"cpu": "2048", "memory": "4096", "containerDefinitions": [
                    {"name": "a", "cpu": 1024, "memory": 2048},
                    {"name": "b", "cpu": 1024, "memory": 2048}
                ]}),
                None,
            ),
            (
                "a value that cannot be read",
                json!({"cpu": "a lot", "containerDefinitions": [{"name": "a"}]}),
                Some("cpu"),
            ),
        ];
        for (name, body, expected) in cases {
            let judged = within(&members(body), Some(2048), Some(4096));
            assert_eq!(
                judged.as_ref().err().map(|(_, path, _)| path.as_str()),
                expected,
                "{name}: {judged:?}"
            );
        }
        let huge = members(json!({"cpu": "65536", "containerDefinitions": [{"name": "a"}]}));
        assert_eq!(within(&huge, None, None), Ok(()), "no limit set");
    }
}
