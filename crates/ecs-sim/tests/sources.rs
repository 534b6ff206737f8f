//! The README's table of what the ECS documentation says holds: every row quotes the documentation (or says
//! it is inferred) and names tests that exist.

use std::path::Path;

/// The table's rows between the `sources` markers of the README.
fn rows() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("the README");
    let start = readme.find("<!-- sources -->").expect("the opening marker");
    let end = readme
        .find("<!-- /sources -->")
        .expect("the closing marker");
    readme[start..end]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| behaviour") && !l.starts_with("| ---"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_row_quotes_its_source_and_names_tests_that_exist() {
    let rows = rows();
    assert!(rows.len() >= 20, "{} rows", rows.len());
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut wrong = Vec::new();
    for row in &rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
        let [behaviour, says, named] = cells.as_slice() else {
            wrong.push(format!("not three cells: {row}"));
            continue;
        };
        if !says.contains('"') && !says.contains("*Inferred:*") {
            wrong.push(format!(
                "{behaviour}: neither a quotation nor marked inferred"
            ));
        }
        let names: Vec<&str> = named.split('`').filter(|n| n.contains("::")).collect();
        if names.is_empty() {
            wrong.push(format!("{behaviour}: names no test"));
        }
        for name in names {
            let (file, function) = name.split_once("::").unwrap_or_default();
            let text =
                std::fs::read_to_string(tests.join(format!("{file}.rs"))).unwrap_or_default();
            if !text.contains(&format!("async fn {function}()"))
                && !text.contains(&format!("fn {function}()"))
            {
                wrong.push(format!("{behaviour}: no test {name}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
