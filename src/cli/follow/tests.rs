//! Tests of following a sent message: replies read back. (The service is judged by
//! [`crate::decide::rollout::judge`], with its own tests.)

use super::*;

#[test]
fn replies_read_back_as_notices() {
    let text = r#"{"event":"finished","message_id":"m","service":"web","cluster":"c",
        "previous_task_definition":null,"new_task_definition":"x/web:5","commit_url":null,
        "outcome":"deployed","success":true,"rollback":null,"reason":null,"duration_ms":1000,
        "received_at":"2026-01-01T00:00:00Z","at":"2026-01-01T00:00:01Z"}"#;
    let notice: Notice = serde_json::from_str(text).expect("a reply");
    assert_eq!(outcome(&notice), Ok(EXIT_OK));
    let failed = Notice {
        success: Some(false),
        outcome: Some("failed".into()),
        reason: Some("crashed".into()),
        ..notice
    };
    let err = outcome(&failed).expect_err("failed");
    assert_eq!(err.exit, crate::cli::exit::EXIT_NO);
    assert!(err.message.contains("crashed"));
}
