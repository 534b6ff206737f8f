//! The security model (docs/security.md) shows the guard's classification as the code has it: the table between
//! its markers is the one `decide::classes::table` renders, so the documentation cannot drift.

use ecs_deployment::decide::classes::table;

const BEGIN: &str = "<!-- classification: begin (tests/security_table.rs checks it) -->\n";
const END: &str = "<!-- classification: end -->";

#[test]
fn the_readme_table_is_the_classification() {
    let readme = std::fs::read_to_string(testbed::workspace_root().join("docs/security.md"))
        .expect("read docs/security.md");
    let start = readme.find(BEGIN).map(|at| at + BEGIN.len());
    let end = readme.find(END);
    let (Some(start), Some(end)) = (start, end) else {
        panic!(
            "docs/security.md has no classification markers: put {BEGIN:?} and {END:?} around the table"
        );
    };
    let expected = table();
    assert_eq!(
        &readme[start..end],
        expected,
        "docs/security.md's classification table is not the code's; replace it with:\n{expected}"
    );
}
