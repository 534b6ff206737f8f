//! `ecs-bench --quick` runs every scenario small against moto, ecs-sim and the worker binary built beside
//! it, and writes a complete results table: the harness behind `make bench` keeps working. Targets are not
//! judged here (a busy test machine is slow); only that every measure was taken.

use std::process::Command;

#[test]
fn a_quick_run_measures_everything_and_writes_the_table() {
    let out = std::env::temp_dir().join(format!("ecs-bench-quick-{}.md", std::process::id()));
    std::fs::write(&out, "# Benchmarks\n\nKept as written.\n").expect("write the results file");
    let run = Command::new(env!("CARGO_BIN_EXE_ecs-bench"))
        .arg("--quick")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run ecs-bench");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "ecs-bench --quick failed:\n{stderr}");
    let text = std::fs::read_to_string(&out).expect("the results file");
    let _ = std::fs::remove_file(&out);

    assert!(
        text.starts_with("# Benchmarks\n\nKept as written.\n"),
        "{text}"
    );
    assert!(text.contains("<!-- ecs-bench results: begin"), "{text}");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| # ") && !l.starts_with("| ---"))
        .map(|l| l.split(" | ").collect())
        .collect();
    for number in ["1", "2", "3", "4", "5", "6", "7", "8"] {
        assert!(
            rows.iter().any(|r| r[0] == format!("| {number}")),
            "no row for measure {number}:\n{text}"
        );
    }
    // 15 rows for measures 1-6, four for each of the two waves, five for the watched rollouts.
    assert_eq!(rows.len(), 28, "{text}");
    for wave in rows
        .iter()
        .filter(|r| r[0] == "| 7" && r[1].contains("failed or given back"))
    {
        assert!(
            wave[3].starts_with("0 ("),
            "a wave lost deployments: {wave:?}"
        );
    }
    for row in &rows {
        let measured = row[3];
        assert!(
            !measured.contains("no samples") && !measured.contains("no poll"),
            "a measure was not taken: {row:?}"
        );
    }
    // The recording proxy saw exactly the calls ecs-sim counted.
    let check = text
        .lines()
        .find(|l| l.starts_with("Cross-check:"))
        .expect("a cross-check line");
    let numbers: Vec<u64> = check
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches('.').parse().ok())
        .collect();
    assert_eq!(numbers.len(), 2, "{check}");
    assert_eq!(numbers[0], numbers[1], "{check}");
    assert!(numbers[0] > 0, "{check}");
}
