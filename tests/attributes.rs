//! Attributes cannot write log lines of their own: control characters in `service`, `commit_url` and any
//! other attribute of a rejected message reach the worker's text log escaped, through moto's SQS.

mod common;

use common::{Bed, WorkerProcess, task_definition};

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_of_attributes_reach_no_text_log_line_unescaped() {
    // Without a dead-letter queue, a rejected message's attributes are logged with its last line.
    let bed = Bed::start(false).await;
    bed.service("web", 1, (true, true)).await;
    let body = task_definition("web", "nginx:1.28", "healthy").to_string();
    let forged = "\nFORGED level=ERROR message=\"deployment finished\" outcome=deployed";
    let service = format!("web{forged}");
    let commit_url = format!("https://git.example/commit/1{forged}");
    let note = format!("a note{forged}\r\u{1b}[2J");
    for attributes in [
        vec![("service", service.as_str())],
        vec![("service", "web"), ("commit_url", commit_url.as_str())],
        vec![("service", "nope nope"), ("note", note.as_str())],
    ] {
        bed.send(&body, &attributes).await;
    }
    let mut worker = WorkerProcess::start(&bed, &[("LOG_FORMAT", "text")]);

    let lines = worker.raw_lines_until("deployment finished", 3);
    let forged_lines: Vec<&String> = lines.iter().filter(|l| l.starts_with("FORGED")).collect();
    assert!(
        forged_lines.is_empty(),
        "an attribute wrote lines of its own: {forged_lines:?}\n{}",
        lines.join("\n")
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains('\u{1b}') || l.contains('\r')),
        "raw control characters reached the log:\n{}",
        lines.join("\n")
    );
    let finished: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("deployment finished"))
        .collect();
    assert!(
        finished.iter().all(|l| l.contains("rejected")),
        "{finished:?}"
    );
    assert!(
        finished.iter().any(|l| l.contains("\\nFORGED")),
        "the forged text is shown, escaped: {finished:?}"
    );
}
