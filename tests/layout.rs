//! The source's layout holds: the pure decisions (`src/decide/`) use no AWS SDK, no tokio and no I/O; each
//! layer uses only the layers listed before it in `lib.rs`; and in every crate of the workspace, its tests
//! and its harnesses alike, no file imports another that imports it back, directly or round a circle, and
//! every file opens with a `//!` line and keeps its code to 400 lines.

mod common;

use common::scan::{
    IMPURE, LAYERS, MAX_CODE_LINES, TREES, WORKER, circles, imports, names, paths, sources,
};

#[test]
fn the_scanner_sees_what_it_looks_for() {
    assert!(names("use tokio::time::Instant;", "tokio"));
    assert!(names("    let t = tokio::spawn(x);", "tokio"));
    assert!(!names("// no tokio here", "tokio"));
    assert!(!names("use my_tokio_clone::X;", "tokio"));
    assert!(names("use aws_sdk_ecs::Client;", "aws_sdk_"));
    let found = paths(
        "mod shapes;\nuse crate::decide::{marker::{self, Plan}, names::short_arn};\n\
         let x = crate::ops::http::bind(a);\npub use shapes::{service_state, ServiceEvent};",
        WORKER,
    );
    let path = |relative: bool, p: &[&str]| (relative, p.iter().map(|s| s.to_string()).collect());
    for expected in [
        path(false, &["decide", "marker", "self"]),
        path(false, &["decide", "names", "short_arn"]),
        path(false, &["ops", "http", "bind"]),
        path(true, &["shapes", "service_state"]),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
}

#[test]
fn pure_decisions_use_no_aws_sdk_no_tokio_and_no_io() {
    let mut impure = Vec::new();
    for source in sources(WORKER)
        .iter()
        .filter(|s| s.module.first().is_some_and(|m| m == "decide"))
    {
        // Tests included: a decision's tests need nothing but the decision.
        for token in IMPURE {
            if names(&source.text, token) {
                impure.push(format!("{} uses {token}", source.path.display()));
            }
        }
    }
    assert!(
        impure.is_empty(),
        "src/decide/ holds pure decisions only; move what does I/O to src/aws/ or src/runtime/:\n{}",
        impure.join("\n")
    );
}

#[test]
fn each_layer_uses_only_the_layers_before_it() {
    let sources = sources(WORKER);
    let mut upward = Vec::new();
    for (from, targets) in imports(&sources, WORKER) {
        for to in targets {
            if sources[to].layer() > sources[from].layer() {
                upward.push(format!(
                    "{} uses {}",
                    sources[from].path.display(),
                    sources[to].path.display()
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "a layer may use only those before it ({}):\n{}",
        LAYERS.join(" < "),
        upward.join("\n")
    );
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let mut shown = Vec::new();
    for tree in TREES {
        shown.extend(circles(tree));
    }
    assert!(shown.is_empty(), "import circles:\n{}", shown.join("\n"));
}

#[test]
fn every_file_says_what_it_is_and_keeps_its_code_short() {
    let mut wrong = Vec::new();
    for source in TREES.into_iter().flat_map(sources) {
        if !source.text.starts_with("//! ") {
            wrong.push(format!(
                "{} does not open with a `//!` line saying what it is",
                source.path.display()
            ));
        }
        // A test file's every line is code; a source file's tests are left out.
        let lines = if source.all_code {
            source.text.lines().count()
        } else {
            source.code().lines().count()
        };
        if lines > MAX_CODE_LINES {
            wrong.push(format!(
                "{} has {lines} lines of code, more than {MAX_CODE_LINES}: split it by job",
                source.path.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
