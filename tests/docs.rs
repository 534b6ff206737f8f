//! The maps of the code stay true: `lib.rs`'s layout names every module, README.md links every page of
//! `docs/`, and those pages list exactly the actions, variables, metrics and sinks the code has.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use ecs_deployment::aws::limiter::Event;
use ecs_deployment::ops::config::{POLICY_VARIABLES, variables};
use ecs_deployment::ops::metrics::Metrics;
use ecs_deployment::ops::notify::SINK_NAMES;
use ecs_deployment::runtime::actions::Action;

/// A file of the repository, read whole.
fn read(path: &str) -> String {
    let full = testbed::workspace_root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {}: {e}", full.display()))
}

/// Every module of the worker's crate, as `a::b::c`, its test files left out.
fn modules() -> BTreeSet<String> {
    let root = testbed::workspace_root().join("src");
    let mut found = BTreeSet::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a source folder") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if path.is_dir() {
                if name.as_deref() != Some("tests") {
                    folders.push(path);
                }
                continue;
            }
            let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            if path.extension().is_none_or(|e| e != "rs")
                || ["lib", "main", "tests", "fixtures"].contains(&stem.as_str())
            {
                continue;
            }
            let relative = path
                .strip_prefix(&root)
                .expect("under src/")
                .with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            found.insert(parts.join("::"));
        }
    }
    found
}

/// The modules declared by a list of their kind (`Deploy in deploy,` in `actions!`, `SlackSink in slack,`
/// in `sinks!`): `lib.rs` names the list, and the list names them.
fn listed() -> BTreeSet<String> {
    let mut listed = BTreeSet::new();
    for (file, parent) in [
        ("src/runtime/actions.rs", "runtime::actions"),
        ("src/ops/notify/mod.rs", "ops::notify"),
    ] {
        for line in read(file).lines() {
            let words: Vec<&str> = line.trim().trim_end_matches(',').split(' ').collect();
            if let [_, "in", module] = words.as_slice() {
                listed.insert(format!("{parent}::{module}"));
            }
        }
    }
    listed
}

#[test]
fn the_layout_map_names_every_module() {
    let lib = read("src/lib.rs");
    let modules = modules();
    let listed = listed();
    assert!(modules.contains("runtime::actions::deploy"), "{modules:?}");
    assert!(
        listed.contains("runtime::actions::deploy") && listed.contains("ops::notify::slack"),
        "{listed:?}"
    );
    let missing: Vec<&String> = modules
        .iter()
        .filter(|m| !listed.contains(*m))
        .filter(|m| !lib.contains(&format!("`{m}`")) && !lib.contains(&format!("`{m}::")))
        .collect();
    assert!(
        missing.is_empty(),
        "src/lib.rs's layout does not name these modules; say in a few words where each fits:\n{missing:#?}"
    );
}

#[test]
fn the_readme_links_every_page_of_the_docs() {
    let readme = read("README.md");
    let folder = testbed::workspace_root().join("docs");
    let mut pages = 0;
    for entry in std::fs::read_dir(&folder).expect("docs/") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name.filter(|n| n.ends_with(".md")) else {
            continue;
        };
        pages += 1;
        assert!(
            readme.contains(&format!("](docs/{name})")),
            "README.md does not link docs/{name}"
        );
    }
    assert!(pages >= 5, "docs/ has {pages} pages");
}

#[test]
fn the_messages_page_has_a_section_for_each_action_and_no_other() {
    let page = read("docs/messages.md");
    let sections: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("### `")?.strip_suffix('`'))
        .collect();
    let mut actions = Action::NAMES.to_vec();
    actions.sort_unstable();
    let mut documented = sections.clone();
    documented.sort_unstable();
    assert_eq!(
        documented, actions,
        "docs/messages.md has a section \"### `NAME`\" for each action the code has, and no other"
    );
}

/// The names in the first column of `page`'s table rows: `` `A`, `B` `` gives both.
fn first_column(page: &str) -> Vec<String> {
    page.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split(" |").next())
        .flat_map(|cell| {
            cell.split(',')
                .map(|n| n.trim().trim_matches('`').to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_configuration_page_lists_every_variable_and_no_other() {
    let page = read("docs/configuration.md");
    let rows = first_column(&page);
    let known: BTreeSet<&str> = variables().collect();
    let covers = |row: &str, variable: &str| match row.strip_suffix('*') {
        Some(prefix) => variable.starts_with(prefix),
        None => row == variable,
    };
    let unknown: Vec<&String> = rows
        .iter()
        .filter(|r| r.as_str() != "RUST_LOG" && !known.iter().any(|v| covers(r, v)))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/configuration.md lists variables the worker does not read: {unknown:?}"
    );
    let unlisted: Vec<&&str> = known
        .iter()
        .filter(|v| !rows.iter().any(|r| covers(r, v)))
        .collect();
    assert!(
        unlisted.is_empty(),
        "docs/configuration.md's table lacks a row for {unlisted:?}"
    );
    let security = read("docs/security.md");
    let undocumented: Vec<&&str> = POLICY_VARIABLES
        .iter()
        .filter(|v| !security.contains(&format!("`{v}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/security.md does not say what these policy variables do: {undocumented:?}"
    );
}

#[test]
fn the_operations_page_lists_every_metric_and_sink() {
    let page = read("docs/operations.md");
    let rows: BTreeSet<String> = first_column(&page)
        .into_iter()
        .filter(|r| r.starts_with("ecs_deployment_"))
        .collect();
    // A labelled metric shows only once it has a sample: one of each.
    let metrics = Metrics::new();
    metrics.finished("deployed", Duration::from_secs(1));
    metrics.aws_error("ecs", "UpdateService", "timeout");
    metrics.notification(SINK_NAMES[0], "delivered");
    metrics.policy_refusal("images");
    let observe = metrics.api_observer();
    observe(Event::Waited {
        category: "service-read",
        wait: Duration::from_millis(1),
    });
    observe(Event::Throttled {
        category: "service-read",
    });
    let text = metrics.encode();
    let metrics: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| match kind {
            "counter" => format!("{name}_total"),
            _ => name.to_owned(),
        })
        .collect();
    assert!(metrics.len() >= 10, "{text}");
    assert_eq!(
        rows, metrics,
        "docs/operations.md's table of metrics is not the worker's"
    );
    let sinks_row = page
        .lines()
        .find(|l| l.starts_with("| `ecs_deployment_notifications_total`"))
        .expect("the notifications metric's row");
    let named: Vec<&str> = sinks_row
        .split_once("`sink` (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| list.split(", ").map(|s| s.trim_matches('`')).collect())
        .unwrap_or_default();
    assert_eq!(
        named, SINK_NAMES,
        "the notifications metric's row names the sinks as the code lists them"
    );
}

#[test]
fn no_page_links_a_file_that_is_not_there() {
    let root = testbed::workspace_root();
    let mut broken = Vec::new();
    let pages = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("an entry").path())
        .chain([root.join("README.md")]);
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("a page");
        let folder = page.parent().unwrap_or(Path::new("."));
        for (at, _) in text.match_indices("](") {
            let target: String = text[at + 2..].chars().take_while(|c| *c != ')').collect();
            let file = target.split('#').next().unwrap_or_default();
            if file.is_empty() || file.contains("://") || file.starts_with('<') {
                continue;
            }
            if !folder.join(file).exists() {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to nothing:\n{}",
        broken.join("\n")
    );
}
